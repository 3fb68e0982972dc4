"""The rq queue and Redis connection that every job of this package uses."""

from flask import current_app
from rq import Queue

# The queue the Procfile's worker listens on.
QUEUE_NAME = "default"


def redis_connection():
    """Return the app's Redis client (``app.extensions["redis"]``)."""
    return current_app.extensions["redis"]


def get_queue():
    return Queue(QUEUE_NAME, connection=redis_connection())
