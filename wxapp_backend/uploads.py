"""Storage of uploaded ID proofs: type recognised by content, size capped.

Files are stored under a random name in ``UPLOAD_DIR``; the name the client
sent is kept only as a label.
"""

import hashlib
import secrets
from pathlib import Path

from flask import current_app

from models import UploadedFile, db
from wxapp_backend.errors import ApiError

# Leading bytes of each accepted format; the client's Content-Type and file
# name are not trusted.
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"%PDF-", "application/pdf", ".pdf"),
)


def detect_type(head):
    for prefix, content_type, suffix in SIGNATURES:
        if head.startswith(prefix):
            return content_type, suffix
    return None, None


def store_upload(file_storage, owner, field="file"):
    """Check and store an uploaded file; return the new ``UploadedFile`` row."""
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    content = file_storage.stream.read(limit + 1)
    if len(content) > limit:
        raise ApiError(
            413,
            f"文件不能超过{limit // (1024 * 1024)}MB，请压缩后重新上传",
            fields={field: "文件过大"},
        )
    if not content:
        raise ApiError(
            422,
            "文件为空，请重新选择",
            code="validation_failed",
            fields={field: "文件为空"},
        )
    content_type, suffix = detect_type(content[:16])
    if content_type is None:
        raise ApiError(
            422,
            "只支持JPG、PNG图片或PDF文件",
            code="validation_failed",
            fields={field: "文件格式不支持，请上传JPG、PNG或PDF"},
        )

    storage_name = secrets.token_hex(16) + suffix
    directory = Path(current_app.config["UPLOAD_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    (directory / storage_name).write_bytes(content)
    row = UploadedFile(
        owner_id=owner.id if owner is not None else None,
        storage_name=storage_name,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        original_name=(file_storage.filename or "")[:120] or None,
    )
    db.session.add(row)
    db.session.flush()
    return row


def upload_path(row):
    return Path(current_app.config["UPLOAD_DIR"]) / row.storage_name
