"""Settings read from environment variables, typed, in one place.

Development mode (``APP_ENV=development``, the default outside production)
fills in local defaults so that ``make run`` works on a fresh machine.
Production (``APP_ENV=production``) refuses to start while any secret is
missing, and never falls back to a guessable value.
"""

import os
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SECRET_NAMES = (
    "SECRET_KEY",
    "WECHAT_APP_ID",
    "WECHAT_APP_SECRET",
    "WECHAT_TOKEN",
    "WECHAT_AES_KEY",
    "MINIPROGRAM_APP_ID",
    "MINIPROGRAM_APP_SECRET",
)
REQUIRED_IN_PRODUCTION = SECRET_NAMES + (
    "DATABASE_URL",
    "REDIS_URL",
    "WECHAT_API_BASE_URL",
)

# Development-only values. They identify the local sandbox's test accounts,
# so they are useless against real WeChat.
DEVELOPMENT_DEFAULTS = {
    "SECRET_KEY": "dev-only-secret-key-not-for-production",
    "WECHAT_APP_ID": "wxsandboxservice0001",
    "WECHAT_APP_SECRET": "sandbox-service-account-secret",
    "WECHAT_TOKEN": "sandboxtoken",
    "WECHAT_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "MINIPROGRAM_APP_ID": "wxsandboxminiapp0001",
    "MINIPROGRAM_APP_SECRET": "sandbox-miniprogram-secret",
    "DATABASE_URL": f"sqlite:///{ROOT / 'instance' / 'dev.sqlite3'}",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "WECHAT_API_BASE_URL": "http://127.0.0.1:8100",
}


class ConfigError(RuntimeError):
    """Raised when the environment cannot produce a valid configuration."""


def _int(environ, name, default):
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _date(environ, name):
    raw = environ.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a date YYYY-MM-DD, got {raw!r}") from exc


def _bool(environ, name, default):
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def load_settings(environ=None):
    """Build the Flask config mapping from ``environ`` (``os.environ`` by default).

    Raises ``ConfigError`` in production when a required variable is missing.
    """
    environ = os.environ if environ is None else environ
    app_env = environ.get("APP_ENV", "development").strip().lower()
    if app_env not in ("development", "testing", "production"):
        raise ConfigError(
            f"APP_ENV must be development, testing or production, got {app_env!r}"
        )

    production = app_env == "production"
    if production:
        missing = [name for name in REQUIRED_IN_PRODUCTION if not environ.get(name)]
        if missing:
            raise ConfigError(
                "refusing to start in production without: " + ", ".join(missing)
            )

    def value(name):
        if environ.get(name):
            return environ[name]
        return None if production else DEVELOPMENT_DEFAULTS.get(name)

    settings = {name: value(name) for name in REQUIRED_IN_PRODUCTION}
    settings.update(
        APP_ENV=app_env,
        SQLALCHEMY_DATABASE_URI=_normalise_database_url(settings["DATABASE_URL"]),
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
        SQLITE_BUSY_TIMEOUT_MS=_int(environ, "SQLITE_BUSY_TIMEOUT_MS", 10_000),
        BENCHMARK_ENDPOINTS=_bool(environ, "BENCHMARK_ENDPOINTS", False),
        WECHAT_API_BASE_URL=settings["WECHAT_API_BASE_URL"].rstrip("/"),
        WECHAT_HTTP_TIMEOUT=_int(environ, "WECHAT_HTTP_TIMEOUT", 5),
        WECHAT_TEMPLATES_FILE=environ.get(
            "WECHAT_TEMPLATES_FILE", str(ROOT / "data" / "wechat_templates.json")
        ),
        WECHAT_CALLBACK_MAX_BYTES=_int(environ, "WECHAT_CALLBACK_MAX_BYTES", 64 * 1024),
        WECHAT_CALLBACK_MAX_AGE=_int(environ, "WECHAT_CALLBACK_MAX_AGE", 300),
        BINDING_QR_TTL_SECONDS=_int(environ, "BINDING_QR_TTL_SECONDS", 600),
        DISTRICT_FILE=environ.get(
            "DISTRICT_FILE", str(ROOT / "data" / "districts" / "nanhai.json")
        ),
        FORM_SCHEMA_FILE=environ.get(
            "FORM_SCHEMA_FILE", str(ROOT / "data" / "form_schema.json")
        ),
        UPLOAD_DIR=environ.get("UPLOAD_DIR", str(ROOT / "instance" / "uploads")),
        EXPORT_DIR=environ.get("EXPORT_DIR", str(ROOT / "instance" / "exports")),
        UPLOAD_MAX_BYTES=_int(environ, "UPLOAD_MAX_BYTES", 5 * 1024 * 1024),
        MAX_CONTENT_LENGTH=_int(environ, "MAX_CONTENT_LENGTH", 8 * 1024 * 1024),
        API_JSON_MAX_BYTES=_int(environ, "API_JSON_MAX_BYTES", 256 * 1024),
        SESSION_TTL_HOURS=_int(environ, "SESSION_TTL_HOURS", 24 * 7),
        LOGIN_MAX_FAILURES=_int(environ, "LOGIN_MAX_FAILURES", 5),
        LOGIN_LOCK_MINUTES=_int(environ, "LOGIN_LOCK_MINUTES", 15),
        CAMPAIGN_START=_date(environ, "CAMPAIGN_START"),
        CAMPAIGN_DEADLINE=_date(environ, "CAMPAIGN_DEADLINE"),
        SCHEDULE_GRACE_MINUTES=_int(environ, "SCHEDULE_GRACE_MINUTES", 120),
        SEND_RATE_PER_SECOND=_int(environ, "SEND_RATE_PER_SECOND", 200),
        SEND_CONCURRENCY=_int(environ, "SEND_CONCURRENCY", 8),
        SEND_CHUNK_SIZE=_int(environ, "SEND_CHUNK_SIZE", 200),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=_bool(environ, "SESSION_COOKIE_SECURE", production),
        JSON_AS_ASCII=False,
    )
    if not production and not settings.get("SECRET_KEY"):
        settings["SECRET_KEY"] = DEVELOPMENT_DEFAULTS["SECRET_KEY"]
    return settings


def _normalise_database_url(url):
    """Point ``postgres://`` and ``postgresql://`` URLs at the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
