"""Commit helpers that turn a lost optimistic-lock race into a 409."""

from sqlalchemy.orm.exc import StaleDataError

from models import Entry, db
from models.workflow import VersionConflict


def commit_entry_change(entry_id):
    """Commit; if another request changed the entry first, raise ``VersionConflict``.

    The version column puts ``WHERE version = <loaded>`` on the UPDATE, so
    of two requests that loaded the same version only the first commits.
    """
    try:
        db.session.commit()
    except StaleDataError:
        db.session.rollback()
        entry = db.session.get(Entry, entry_id)
        raise VersionConflict("该分类刚被他人修改，请查看最新内容后再保存", entry) from None
