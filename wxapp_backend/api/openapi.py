"""The OpenAPI 3 document of the API, served at ``GET /api/openapi.json``.

Each route is described once in ``ROUTES``; a test fails when a route of the
app is missing here or a path here has no route.
"""

from flask import jsonify

from wxapp_backend.api import api_blueprint

BEARER = [{"bearer": []}]


def _ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties, required=()):
    schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NULLABLE_STRING = {"type": ["string", "null"]}

SCHEMAS = {
    "Error": _object(
        {
            "error": _object(
                {
                    "code": STRING,
                    "message": STRING,
                    "fields": {"type": "object", "additionalProperties": STRING},
                },
                required=("code", "message", "fields"),
            )
        },
        required=("error",),
    ),
    "Town": _object({"id": INTEGER, "code": STRING, "name": STRING}, ("id", "name")),
    "User": _object(
        {
            "id": INTEGER,
            "role": {"enum": ["staff", "reviewer", "official", "admin"]},
            "role_label": STRING,
            "name": STRING,
            "username": NULLABLE_STRING,
            "wechat_bound": {"type": "boolean"},
            "must_change_password": {"type": "boolean"},
        },
        ("id", "role", "name"),
    ),
    "Login": _object(
        {
            "token": STRING,
            "registered": {"type": "boolean"},
            "user": {"oneOf": [_ref("User"), {"type": "null"}]},
        },
        ("token", "registered", "user"),
    ),
    "EntrySummary": _object(
        {
            "id": INTEGER,
            "category": STRING,
            "label": STRING,
            "state": {"enum": ["empty", "draft", "submitted", "approved", "returned"]},
            "state_label": STRING,
            "completeness": INTEGER,
            "version": INTEGER,
            "pending": {"type": "boolean"},
            "last_opinion": NULLABLE_STRING,
        },
        ("category", "state", "completeness", "version"),
    ),
    "Entry": {
        "allOf": [
            _ref("EntrySummary"),
            _object(
                {
                    "project_id": INTEGER,
                    "data": {"type": "object"},
                    "missing": {"type": "array", "items": STRING},
                    "current_revision_id": {"type": ["integer", "null"]},
                    "approved_revision_id": {"type": ["integer", "null"]},
                },
                ("data", "missing"),
            ),
        ]
    },
    "Project": _object(
        {
            "id": INTEGER,
            "name": STRING,
            "address": STRING,
            "town": _ref("Town"),
            "status": {"enum": ["filling", "pending", "returned", "approved"]},
            "status_label": STRING,
            "pending_count": INTEGER,
            "categories": {"type": "array", "items": _ref("EntrySummary")},
        },
        ("id", "name", "address", "status", "categories"),
    ),
    "ProjectPage": _object(
        {
            "projects": {"type": "array", "items": _ref("Project")},
            "page": INTEGER,
            "per_page": INTEGER,
            "total": INTEGER,
        },
        ("projects", "page", "per_page", "total"),
    ),
    "Review": _object(
        {
            "id": INTEGER,
            "category": STRING,
            "decision": {"enum": ["approve", "return"]},
            "opinion": NULLABLE_STRING,
            "revision_id": INTEGER,
            "reviewer": STRING,
            "created_at": STRING,
        },
        ("id", "decision", "revision_id"),
    ),
    "File": _object(
        {"id": INTEGER, "content_type": STRING, "size": INTEGER, "url": STRING},
        ("id", "content_type", "size", "url"),
    ),
}


def _json_body(properties, required):
    return {
        "required": True,
        "content": {"application/json": {"schema": _object(properties, required)}},
    }


def _responses(ok_status, ok_schema, *errors):
    responses = {
        str(ok_status): {
            "description": "成功",
            "content": {"application/json": {"schema": ok_schema}},
        }
    }
    for status in errors:
        responses[str(status)] = {
            "description": "错误",
            "content": {"application/json": {"schema": _ref("Error")}},
        }
    return responses


PROJECT_ID = {"name": "project_id", "in": "path", "required": True, "schema": INTEGER}
CATEGORY = {
    "name": "category",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "maxLength": 32},
}
PAGE = [
    {
        "name": "page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
    },
    {
        "name": "per_page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100},
    },
    {"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 60}},
]
REVIEW_BODY = _json_body({"revision_id": INTEGER, "opinion": STRING}, ("revision_id",))
REVIEW_RESULT = _object(
    {"review": _ref("Review"), "entry": _ref("Entry"), "project": _ref("Project")}
)
CATEGORY_RESULT = _object(
    {"entry": _ref("Entry"), "reviews": {"type": "array", "items": _ref("Review")}}
)

# (method, path, summary, security, parameters, request body, responses)
ROUTES = [
    (
        "post",
        "/api/auth/wx-login",
        "小程序登录（wx.login 凭证换取会话）",
        [],
        [],
        _json_body({"code": STRING}, ("code",)),
        _responses(200, _ref("Login"), 400, 401, 403),
    ),
    (
        "post",
        "/api/auth/password-login",
        "复核人员、领导、管理员账号密码登录",
        [],
        [],
        _json_body(
            {"username": STRING, "password": STRING, "code": STRING},
            ("username", "password"),
        ),
        _responses(200, _ref("Login"), 400, 401, 403, 409, 429),
    ),
    (
        "post",
        "/api/auth/register",
        "物业项目用户注册（multipart，含身份证明文件 id_proof）",
        BEARER,
        [],
        {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": _object(
                        {
                            "name": STRING,
                            "mobile": STRING,
                            "id_number": STRING,
                            "company_name": STRING,
                            "credit_code": STRING,
                            "id_proof": {"type": "string", "format": "binary"},
                        },
                        (
                            "name",
                            "mobile",
                            "id_number",
                            "company_name",
                            "credit_code",
                            "id_proof",
                        ),
                    )
                }
            },
        },
        _responses(201, _object({"user": _ref("User")}), 401, 403, 409, 413, 422),
    ),
    (
        "post",
        "/api/auth/change-password",
        "修改密码（首次登录必须修改）",
        BEARER,
        [],
        _json_body(
            {"old_password": STRING, "new_password": STRING},
            ("old_password", "new_password"),
        ),
        _responses(200, _object({"user": _ref("User")}), 400, 401, 422),
    ),
    (
        "post",
        "/api/auth/logout",
        "退出登录",
        BEARER,
        [],
        None,
        _responses(200, _object({"ok": {"type": "boolean"}}), 401),
    ),
    (
        "get",
        "/api/me",
        "当前用户",
        BEARER,
        [],
        None,
        _responses(
            200,
            _object(
                {
                    "registered": {"type": "boolean"},
                    "user": {"oneOf": [_ref("User"), {"type": "null"}]},
                }
            ),
            401,
        ),
    ),
    (
        "get",
        "/api/schema",
        "表单结构（信息分类与字段）",
        [],
        [],
        None,
        _responses(200, {"type": "object"}),
    ),
    (
        "get",
        "/api/towns",
        "镇街列表",
        [],
        [],
        None,
        _responses(200, _object({"towns": {"type": "array", "items": _ref("Town")}})),
    ),
    (
        "post",
        "/api/files",
        "上传身份证明（JPG、PNG、PDF）",
        BEARER,
        [],
        {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": _object(
                        {"file": {"type": "string", "format": "binary"}}, ("file",)
                    )
                }
            },
        },
        _responses(201, _object({"file": _ref("File")}), 400, 401, 403, 413, 422),
    ),
    (
        "get",
        "/api/files/{file_id}",
        "下载身份证明（本人、本镇街复核人员、管理员）",
        BEARER,
        [{"name": "file_id", "in": "path", "required": True, "schema": INTEGER}],
        None,
        {
            "200": {"description": "文件内容"},
            "401": {"description": "未登录"},
            "403": {"description": "无权限"},
            "404": {"description": "不存在或无权查看"},
        },
    ),
    (
        "get",
        "/api/projects",
        "我的项目列表（按权限范围）",
        BEARER,
        PAGE
        + [
            {
                "name": "status",
                "in": "query",
                "schema": {"enum": ["filling", "pending", "returned", "approved"]},
            }
        ],
        None,
        _responses(200, _ref("ProjectPage"), 400, 401, 403),
    ),
    (
        "post",
        "/api/projects",
        "添加项目",
        BEARER,
        [],
        _json_body(
            {"name": STRING, "address": STRING, "town_id": INTEGER},
            ("name", "address", "town_id"),
        ),
        _responses(201, _object({"project": _ref("Project")}), 400, 401, 403, 422),
    ),
    (
        "get",
        "/api/projects/{project_id}",
        "项目详情",
        BEARER,
        [PROJECT_ID],
        None,
        _responses(200, _object({"project": _ref("Project")}), 401, 403, 404),
    ),
    (
        "get",
        "/api/projects/{project_id}/categories/{category}",
        "查看信息分类内容",
        BEARER,
        [PROJECT_ID, CATEGORY],
        None,
        _responses(200, CATEGORY_RESULT, 401, 403, 404),
    ),
    (
        "put",
        "/api/projects/{project_id}/categories/{category}",
        "保存信息分类（填写完整时自动提交复核）",
        BEARER,
        [PROJECT_ID, CATEGORY],
        _json_body(
            {"version": INTEGER, "data": {"type": "object"}}, ("version", "data")
        ),
        _responses(
            200,
            _object({"entry": _ref("Entry"), "project": _ref("Project")}),
            400,
            401,
            403,
            404,
            409,
            413,
            422,
        ),
    ),
    (
        "get",
        "/api/projects/{project_id}/reviews",
        "项目的复核意见",
        BEARER,
        [PROJECT_ID],
        None,
        _responses(
            200,
            _object({"reviews": {"type": "array", "items": _ref("Review")}}),
            401,
            403,
            404,
        ),
    ),
    (
        "get",
        "/api/review/projects",
        "本镇街项目复核列表",
        BEARER,
        PAGE
        + [
            {
                "name": "filter",
                "in": "query",
                "schema": {"enum": ["pending", "returned", "approved"]},
            }
        ],
        None,
        _responses(200, _ref("ProjectPage"), 400, 401, 403),
    ),
    (
        "get",
        "/api/review/projects/{project_id}/categories/{category}",
        "复核信息分类（含与上次通过版本的差异）",
        BEARER,
        [PROJECT_ID, CATEGORY],
        None,
        _responses(200, {"type": "object"}, 401, 403, 404),
    ),
    (
        "post",
        "/api/review/projects/{project_id}/categories/{category}/approve",
        "复核通过",
        BEARER,
        [PROJECT_ID, CATEGORY],
        REVIEW_BODY,
        _responses(200, REVIEW_RESULT, 400, 401, 403, 404, 409, 422),
    ),
    (
        "post",
        "/api/review/projects/{project_id}/categories/{category}/return",
        "退回（必须填写复核意见）",
        BEARER,
        [PROJECT_ID, CATEGORY],
        REVIEW_BODY,
        _responses(200, REVIEW_RESULT, 400, 401, 403, 404, 409, 422),
    ),
    (
        "get",
        "/api/review/next-pending",
        "下一条待复核",
        BEARER,
        [{"name": "after_entry", "in": "query", "schema": INTEGER}],
        None,
        _responses(200, _object({"next": {"type": ["object", "null"]}}), 401, 403),
    ),
]

# Routes added by other parts (WeChat binding, for one) append here.
EXTRA_ROUTES = []

# WeChat service-account binding (bot.binding).
BINDING = _object(
    {
        "scene": STRING,
        "status": {"enum": ["pending", "bound", "expired"]},
        "expires_at": {"type": "string", "format": "date-time"},
        "qr_image_url": STRING,
    },
    ("scene", "status", "expires_at", "qr_image_url"),
)
BINDING_RESULT = _object(
    {"binding": BINDING, "wechat_bound": {"type": "boolean"}},
    ("binding", "wechat_bound"),
)
SCENE = {
    "name": "scene",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "maxLength": 64},
}
EXTRA_ROUTES += [
    (
        "post",
        "/api/wechat/binding",
        "获取绑定服务号的二维码（一次性，限时有效）",
        BEARER,
        [],
        None,
        _responses(201, BINDING_RESULT, 401, 403, 429, 503),
    ),
    (
        "get",
        "/api/wechat/binding/{scene}",
        "查询绑定状态（轮询）",
        BEARER,
        [SCENE],
        None,
        _responses(200, BINDING_RESULT, 401, 403, 404),
    ),
    (
        "get",
        "/api/wechat/binding/{scene}/qr.png",
        "绑定二维码图片（PNG，仅本人）",
        BEARER,
        [SCENE],
        None,
        {
            "200": {
                "description": "二维码图片",
                "content": {
                    "image/png": {"schema": {"type": "string", "format": "binary"}}
                },
            },
            "401": {"description": "未登录"},
            "404": {"description": "不存在或无权查看"},
            "410": {"description": "二维码已过期"},
        },
    ),
]


def build_document():
    paths = {}
    for method, path, summary, security, parameters, body, responses in (
        ROUTES + EXTRA_ROUTES
    ):
        operation = {
            "summary": summary,
            "security": security,
            "responses": responses,
            "operationId": f"{method}_{path}".replace("/", "_")
            .replace("{", "")
            .replace("}", "")
            .replace("-", "_"),
        }
        if parameters:
            operation["parameters"] = parameters
        if body:
            operation["requestBody"] = body
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "南海区物业项目信息数据采集 API", "version": "1.0.0"},
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@api_blueprint.get("/openapi.json")
def openapi_document():
    return jsonify(build_document())
