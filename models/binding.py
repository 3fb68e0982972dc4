"""Service-account binding scenes and the receipts of WeChat callback pushes."""

from models.base import UTCDateTime, db, utcnow


class BindingScene(db.Model):
    """A one-time QR scene that binds the scanning openid to ``user``.

    The scene is the ``scene_str`` of a temporary QR code. It binds at most
    once: ``used_at`` is set in the same conditional UPDATE that claims it,
    so two scans of one code cannot both bind.
    """

    __tablename__ = "wechat_binding_scenes"

    id = db.Column(db.Integer, primary_key=True)
    scene = db.Column(db.String(64), nullable=False, unique=True)
    user_id = db.Column(db.ForeignKey("users.id"), nullable=False, index=True)
    ticket = db.Column(db.String(255), nullable=False)
    # The text the QR image encodes, as qrcode/create returned it.
    url = db.Column(db.String(255), nullable=False)
    created_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    expires_at = db.Column(UTCDateTime, nullable=False)
    used_at = db.Column(UTCDateTime)
    bound_openid = db.Column(db.String(64))

    user = db.relationship("User")


class CallbackReceipt(db.Model):
    """One handled callback push, stored under a unique key.

    WeChat retries a push up to three times when it gets no reply within
    five seconds. The receipt is inserted in the transaction that handles
    the push, so a retry hits the unique key and is treated as already
    handled, with or without Redis.

    A TEMPLATESENDJOBFINISH event can arrive before the send that caused it
    has stored its msgid. ``template_msgid`` and ``template_status`` keep
    such a result so that the sender can apply it afterwards.
    """

    __tablename__ = "wechat_callback_receipts"

    id = db.Column(db.Integer, primary_key=True)
    dedupe_key = db.Column(db.String(160), nullable=False, unique=True)
    msg_type = db.Column(db.String(32))
    event = db.Column(db.String(64))
    received_at = db.Column(UTCDateTime, nullable=False, default=utcnow, index=True)
    template_msgid = db.Column(db.String(32), index=True)
    template_status = db.Column(db.String(64))
