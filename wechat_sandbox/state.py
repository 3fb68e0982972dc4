"""In-memory sandbox state: tokens, codes, users, QR codes, messages, rules.

One ``SandboxState`` lives on the Flask app. The server runs threaded in one
process, so every read-modify-write of the state happens under ``lock``.
``now()`` is the sandbox clock: wall time plus an offset that the control API
can advance, so tests can reach five-minute and two-hour expiries without
sleeping. Pushed events carry wall-clock timestamps, so that the product's
own timestamp checks still pass after the sandbox clock moved.
"""

import secrets
import string
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

OPENID_ALPHABET = string.ascii_letters + string.digits + "-_"
CODE_ALPHABET = string.ascii_letters + string.digits

# Real template msgids are 19-digit integers; start in that range so that
# product columns that are too narrow fail here too.
FIRST_MSGID = 3487542469355610001


def random_string(alphabet, length):
    return "".join(secrets.choice(alphabet) for _ in range(length))


def new_openid():
    """Return an openid shaped like WeChat's: "o" and 27 URL-safe characters."""
    return "o" + random_string(OPENID_ALPHABET, 27)


@dataclass
class AccessToken:
    value: str
    appid: str
    kind: str  # "basic" (cgi-bin/token) or "stable" (cgi-bin/stable_token)
    issued_at: float
    expires_at: float
    revoked_at: float | None = None  # end of the grace period after a refresh


@dataclass
class LoginCode:
    code: str
    appid: str
    openid: str
    created_at: float
    unionid: str | None = None
    used: bool = False


@dataclass
class User:
    """A person known to the service account, by service-account openid."""

    openid: str
    following: bool
    created_at: float
    jobfinish_status: str = "success"


@dataclass
class QrCode:
    ticket: str
    url: str
    action_name: str
    scene: str
    created_at: float
    expire_seconds: int | None  # None for permanent codes


@dataclass
class TemplateMessage:
    msgid: int
    touser: str
    template_id: str
    data: dict
    miniprogram: dict | None
    url: str | None
    client_msg_id: str | None
    created_at: float
    jobfinish_status: str | None = None  # set once the event is pushed


@dataclass
class FailRule:
    endpoint: str
    errcode: int
    remaining: int  # -1 means every matching call until the rule is cleared
    openid: str | None = None
    errmsg: str | None = None


@dataclass
class SandboxState:
    lock: threading.RLock = field(default_factory=threading.RLock)
    clock_offset: float = 0.0
    tokens: dict = field(default_factory=dict)
    codes: dict = field(default_factory=dict)
    users: dict = field(default_factory=dict)
    miniprogram_users: dict = field(default_factory=dict)
    qrcodes: dict = field(default_factory=dict)
    messages: list = field(default_factory=list)
    client_msg_ids: dict = field(default_factory=dict)
    fail_rules: list = field(default_factory=list)
    # Milliseconds each call of an endpoint waits before answering.
    delays: dict = field(default_factory=dict)
    pushes: list = field(default_factory=list)
    stats: Counter = field(default_factory=Counter)
    next_msgid: int = FIRST_MSGID

    def now(self):
        return time.time() + self.clock_offset

    def reset(self):
        """Drop everything except the lock, as if the sandbox had restarted."""
        with self.lock:
            fresh = SandboxState()
            for name in self.__dataclass_fields__:
                if name != "lock":
                    setattr(self, name, getattr(fresh, name))

    def count(self, name, amount=1):
        with self.lock:
            self.stats[name] += amount

    def allocate_msgid(self):
        with self.lock:
            msgid = self.next_msgid
            self.next_msgid += 1
            return msgid

    def ensure_user(self, openid=None, following=False):
        """Return the user with ``openid``, creating them (new openid if None)."""
        with self.lock:
            openid = openid or new_openid()
            user = self.users.get(openid)
            if user is None:
                user = User(openid=openid, following=following, created_at=self.now())
                self.users[openid] = user
            return user
