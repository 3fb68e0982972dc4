"""Companies, users, API sessions and uploaded files."""

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, has_app_context
from werkzeug.security import check_password_hash, generate_password_hash

from models.base import UTCDateTime, db, utcnow

ROLE_STAFF = "staff"
ROLE_REVIEWER = "reviewer"
ROLE_OFFICIAL = "official"
ROLE_ADMIN = "admin"
ROLES = (ROLE_STAFF, ROLE_REVIEWER, ROLE_OFFICIAL, ROLE_ADMIN)
ROLE_LABELS = {
    ROLE_STAFF: "物业项目用户",
    ROLE_REVIEWER: "镇街复核人员",
    ROLE_OFFICIAL: "领导",
    ROLE_ADMIN: "管理员",
}


class Company(db.Model):
    """A property-service company (物业服务企业)."""

    __tablename__ = "companies"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), nullable=False)
    credit_code = db.Column(db.String(18), nullable=False, unique=True)
    disabled = db.Column(db.Boolean, nullable=False, default=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    def to_dict(self):
        return {"id": self.id, "name": self.name, "credit_code": self.credit_code}


class User(db.Model):
    __tablename__ = "users"

    id = db.Column(db.Integer, primary_key=True)
    role = db.Column(db.String(16), nullable=False, index=True)
    name = db.Column(db.String(40), nullable=False)
    username = db.Column(db.String(40), unique=True)
    password_hash = db.Column(db.String(256))
    must_change_password = db.Column(db.Boolean, nullable=False, default=False)
    mobile = db.Column(db.String(11))
    id_number = db.Column(db.String(18))
    company_id = db.Column(db.ForeignKey("companies.id"), index=True)
    # Reviewers belong to one town; officials to one town or, when NULL, to
    # the whole district.
    town_id = db.Column(db.ForeignKey("towns.id"), index=True)
    # No foreign key: uploaded_files.owner_id already points at users, and a
    # cycle of constraints cannot be created on SQLite.
    id_proof_file_id = db.Column(db.Integer)
    # openids are per WeChat app: the mini-program openid logs in, the
    # service-account openid (bound by QR scan) receives template messages.
    miniprogram_openid = db.Column(db.String(64), unique=True)
    service_openid = db.Column(db.String(64), unique=True)
    reachable = db.Column(db.Boolean, nullable=False, default=False)
    bound_at = db.Column(UTCDateTime)
    disabled = db.Column(db.Boolean, nullable=False, default=False)
    failed_logins = db.Column(db.Integer, nullable=False, default=0)
    locked_until = db.Column(UTCDateTime)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    company = db.relationship("Company")
    town = db.relationship("Town")

    @property
    def role_label(self):
        return ROLE_LABELS[self.role]

    @property
    def is_bound(self):
        return self.service_openid is not None

    def set_password(self, password):
        # Tests lower the work factor through PASSWORD_HASH_METHOD; the
        # default is werkzeug's scrypt.
        method = "scrypt"
        if has_app_context():
            method = current_app.config.get("PASSWORD_HASH_METHOD", method)
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password):
        if not self.password_hash:
            return False
        return check_password_hash(self.password_hash, password)

    def to_dict(self):
        from models.masking import mask_id_number

        return {
            "id": self.id,
            "role": self.role,
            "role_label": self.role_label,
            "name": self.name,
            "username": self.username,
            "mobile": self.mobile,
            "id_number": mask_id_number(self.id_number),
            "company": self.company.to_dict() if self.company else None,
            "town": self.town.to_dict() if self.town else None,
            "wechat_bound": self.is_bound,
            "wechat_reachable": self.reachable,
            "must_change_password": self.must_change_password,
        }


class ApiSession(db.Model):
    """A bearer-token session of the mini-program API.

    Only the SHA-256 of the token is stored. A session without a user comes
    from a ``wx.login`` of someone who has not registered yet. The WeChat
    session key stays in this row and is never sent to a client.
    """

    __tablename__ = "api_sessions"

    id = db.Column(db.Integer, primary_key=True)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    user_id = db.Column(db.ForeignKey("users.id"), index=True)
    miniprogram_openid = db.Column(db.String(64))
    session_key = db.Column(db.String(64))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)
    expires_at = db.Column(UTCDateTime, nullable=False)

    user = db.relationship("User")

    @staticmethod
    def hash_token(token):
        return hashlib.sha256(token.encode("utf-8")).hexdigest()

    @classmethod
    def open(cls, ttl_hours, user=None, openid=None, session_key=None):
        """Create a session and return ``(session, token)``; the token is shown once."""
        token = secrets.token_urlsafe(32)
        session = cls(
            token_hash=cls.hash_token(token),
            user=user,
            miniprogram_openid=openid,
            session_key=session_key,
            expires_at=utcnow() + timedelta(hours=ttl_hours),
        )
        db.session.add(session)
        return session, token


class UploadedFile(db.Model):
    """A stored upload (ID proof). The file lives under a random name."""

    __tablename__ = "uploaded_files"

    id = db.Column(db.Integer, primary_key=True)
    owner_id = db.Column(db.ForeignKey("users.id"), index=True)
    storage_name = db.Column(db.String(64), nullable=False, unique=True)
    content_type = db.Column(db.String(40), nullable=False)
    size = db.Column(db.Integer, nullable=False)
    sha256 = db.Column(db.String(64), nullable=False)
    original_name = db.Column(db.String(120))
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow)

    def to_dict(self):
        return {
            "id": self.id,
            "content_type": self.content_type,
            "size": self.size,
            "name": self.original_name,
            "url": f"/api/files/{self.id}",
        }
