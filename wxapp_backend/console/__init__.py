"""The admin web console at ``/console/``: server-rendered pages in Chinese.

Admins see everything; officials and reviewers see their town (district
officials every town) read-only, and reviewers also decide duplicates and
approve in bulk. Each screen is its own module of views on one blueprint.
"""

from flask import Blueprint
from flask_wtf.csrf import CSRFProtect

console_blueprint = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

csrf = CSRFProtect()


def init_app(app):
    """Mount the console, its CSRF check and rq-dashboard on ``app``."""
    from wxapp_backend.console import pages, rq_mount

    # CSRF tokens are checked on the console's own forms only: the JSON API
    # authenticates with bearer tokens and the WeChat callback with
    # signatures, and neither sends cookies a forged form could ride on.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config.setdefault("CONSOLE_SESSION_HOURS", 12)
    app.config.setdefault("CONSOLE_EXPORT_SYNC_MAX", 2000)
    app.config.setdefault("CONSOLE_PAGE_SIZE", 30)
    csrf.init_app(app)

    pages.register_filters(app)
    app.register_blueprint(console_blueprint)
    rq_mount.init_app(app)


# Importing the view modules registers their routes on the blueprint.
from wxapp_backend.console import (  # noqa: E402,F401
    accounts,
    auth_views,
    binding_views,
    bulk_review,
    companies,
    dashboard,
    duplicates,
    exports,
    messages,
    notices,
    projects,
    towns,
)
