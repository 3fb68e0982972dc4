"""The JSON API for the mini-program, mounted under ``/api``."""

from flask import Blueprint

api_blueprint = Blueprint("api", __name__, url_prefix="/api")

# Importing the view modules registers their routes on the blueprint.
from wxapp_backend.api import (  # noqa: E402,F401
    auth_views,
    files,
    meta,
    openapi,
    projects,
    review,
)
