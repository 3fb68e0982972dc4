"""One JSON error shape for the whole API, and the central error log.

Every API error is::

    {"error": {"code": "validation_failed", "message": "<中文说明>",
               "fields": {"<field>": "<中文说明>"}}}

with extra keys for some codes (``current`` on a 409).
"""

import logging

from flask import jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from models import db
from models.workflow import VersionConflict, WorkflowError

logger = logging.getLogger(__name__)

HTTP_MESSAGES = {
    400: ("bad_request", "请求格式不正确"),
    401: ("unauthorized", "请先登录"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "请求的内容不存在或无权查看"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "数据已被修改，请刷新后重试"),
    413: ("payload_too_large", "提交的内容过大，请缩小后重试"),
    415: ("unsupported_media_type", "请求内容类型不受支持"),
    422: ("validation_failed", "填写内容有误，请按提示修改"),
    429: ("too_many_requests", "操作过于频繁，请稍后再试"),
    500: ("internal_error", "服务器内部错误，请稍后重试"),
    503: ("service_unavailable", "服务暂时不可用，请稍后重试"),
}


class ApiError(Exception):
    """An error returned in the common shape. Raise it from any view."""

    def __init__(self, status, message=None, code=None, fields=None, **extra):
        super().__init__(message)
        default_code, default_message = HTTP_MESSAGES.get(status, ("error", "请求失败"))
        self.status = status
        self.code = code or default_code
        self.message = message or default_message
        self.fields = fields or {}
        self.extra = extra


def error_response(status, code, message, fields=None, **extra):
    body = {"error": {"code": code, "message": message, "fields": fields or {}}}
    body["error"].update(extra)
    return jsonify(body), status


def _wants_json():
    path = request.path
    return not path.startswith("/console") and not path.startswith("/sandbox")


def handle_api_error(exc):
    return error_response(exc.status, exc.code, exc.message, exc.fields, **exc.extra)


def handle_workflow_error(exc):
    db.session.rollback()
    extra = {}
    if isinstance(exc, VersionConflict):
        from wxapp_backend.api.serializers import entry_detail

        db.session.refresh(exc.entry)
        extra["current"] = entry_detail(exc.entry)
    return error_response(exc.status, exc.code, exc.message, exc.fields, **extra)


def handle_http_exception(exc):
    if not _wants_json():
        return exc
    code, message = HTTP_MESSAGES.get(exc.code, ("error", exc.description))
    return error_response(exc.code, code, message)


def handle_database_busy(exc):
    """Return a retry-able 503 when the database cannot run the transaction now.

    OperationalError covers a SQLite file still locked after the busy
    timeout, a PostgreSQL deadlock or serialization failure, and a lost
    connection. The transaction is rolled back, so the client may repeat
    the request. A repeated save whose first attempt did commit before the
    connection failed gets the usual 409 with the current data.
    """
    db.session.rollback()
    logger.warning(
        "database unavailable method=%s path=%s error=%s",
        request.method,
        request.path,
        type(exc.orig).__name__,
    )
    headers = {"Retry-After": "1"}
    if not _wants_json():
        return "系统繁忙，请稍后重试", 503, headers
    response, status = error_response(503, "database_busy", "系统繁忙，请稍后重试")
    response.headers.update(headers)
    return response, status


def handle_unexpected(exc):
    db.session.rollback()
    logger.exception("unhandled error method=%s path=%s", request.method, request.path)
    code, message = HTTP_MESSAGES[500]
    if not _wants_json():
        return "服务器内部错误，请稍后重试", 500
    return error_response(500, code, message)


def init_app(app):
    app.register_error_handler(ApiError, handle_api_error)
    app.register_error_handler(WorkflowError, handle_workflow_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(OperationalError, handle_database_busy)
    app.register_error_handler(Exception, handle_unexpected)
