"""Flask-SQLAlchemy models and the workflow rules that change them.

Import models from this package so that every table is registered on
``db.metadata`` before migrations or ``create_all`` look at it.
"""

from models.base import db, utcnow
from models.town import Town
from models.account import Company, User, ApiSession, UploadedFile
from models.project import Project, Entry, Revision, Review
from models.audit import AuditEvent
from models.delivery import Delivery
from models.schedule import ProgressSnapshot, SlotRun  # noqa: F401
from models.console import DuplicateDecision, ExportJob, Notice  # noqa: F401
from models.binding import BindingScene, CallbackReceipt  # noqa: F401

__all__ = [
    "db",
    "utcnow",
    "Town",
    "Company",
    "User",
    "ApiSession",
    "UploadedFile",
    "Project",
    "Entry",
    "Revision",
    "Review",
    "AuditEvent",
    "Delivery",
]
