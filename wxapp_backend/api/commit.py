"""Commit helpers that turn a lost optimistic-lock race into a 409."""

from contextlib import contextmanager

from sqlalchemy.orm.exc import StaleDataError

from models import Entry, db
from models.workflow import VersionConflict


@contextmanager
def entry_change(entry_id):
    """Run a workflow change in the block, then commit it.

    The version column puts ``WHERE version = <loaded>`` on the UPDATE, so
    of two requests that loaded the same version only the first commits.
    The loser finds out at a flush inside the workflow function (storing a
    revision flushes the entry first) or at the commit, so the block and
    the commit are guarded alike, and either way it raises ``VersionConflict``.
    """
    try:
        yield
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        entry = db.session.get(Entry, entry_id)
        raise VersionConflict(
            "该分类刚被他人修改，请查看最新内容后再保存", entry
        ) from None


def commit_entry_change(entry_id):
    """Commit a change already made; see ``entry_change``."""
    with entry_change(entry_id):
        pass
