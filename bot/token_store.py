"""One access token per app, shared by every process through Redis.

Each fetch of a new access token invalidates the previous one (after a short
overlap), so processes that fetch their own tokens make each other's calls
fail with 40001. Here the token and its expiry live in Redis, and only the
process that holds a Redis lock fetches. Every other process waits for it and
reads the result.

Tokens come from WeChat's stable-token endpoint:
https://developers.weixin.qq.com/doc/service/api/base/api_getstableaccesstoken
"""

import logging
import secrets
import time

import requests

from bot.errors import AccessTokenError

logger = logging.getLogger(__name__)

# In normal mode, stable_token returns a new token only during the last five
# minutes of the current one (both stay valid during those minutes). A
# refresh earlier than that gets the same token back, so the margin must
# stay under 300 seconds.
REFRESH_MARGIN_SECONDS = 180

# WeChat ignores a forced refresh less than 30 seconds after the previous one
# and allows 20 forced refreshes a day.
FORCED_REFRESH_INTERVAL_SECONDS = 30

POLL_INTERVAL_SECONDS = 0.05

# Delete the lock only if it still contains our id, so a holder whose lock
# expired cannot delete the lock of the process that took over.
_RELEASE_LOCK_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


class SharedAccessToken:
    """Access token of one app, stored in a Redis hash with the key's TTL as its expiry.

    The hash ``wechat:access_token:<appid>`` contains ``token``,
    ``expires_in`` (seconds, as WeChat sent it) and ``fetched_at`` (Unix
    time, for operators). The key expires with the token, so every process
    reads the same remaining lifetime from Redis's clock, even when its own
    clock is off.
    """

    def __init__(
        self,
        redis,
        appid,
        secret,
        base_url,
        timeout,
        refresh_margin=REFRESH_MARGIN_SECONDS,
    ):
        self.redis = redis
        self.appid = appid
        self._secret = secret
        self.url = base_url.rstrip("/") + "/cgi-bin/stable_token"
        self.timeout = timeout
        self.refresh_margin = refresh_margin
        self.key = f"wechat:access_token:{appid}"
        self.lock_key = f"{self.key}:lock"
        self.forced_key = f"{self.key}:forced"
        # A holder makes at most two fetches (normal, then forced). The lock
        # expires soon after, so a holder that died does not block the rest.
        self.lock_ttl_ms = int((2 * timeout + 5) * 1000)
        self.wait_seconds = self.lock_ttl_ms / 1000 + 1
        self._release_lock = redis.register_script(_RELEASE_LOCK_SCRIPT)
        self._http = requests.Session()

    def __repr__(self):
        return f"SharedAccessToken(appid={self.appid!r}, url={self.url!r})"

    def get(self):
        """Return a valid access token, refreshing it when it is close to expiry.

        If the refresh fails while the stored token is still valid, the
        stored token is returned and a warning logged, so a short WeChat
        outage during the refresh window does not stop sends.

        Raises ``AccessTokenError`` when no valid token can be had.
        """
        token, remaining, margin = self._read()
        if token and remaining > margin:
            return token

        try:
            return self._refresh(self._is_fresh)
        except AccessTokenError as exc:
            token, remaining, _ = self._read()
            if not token or remaining <= 0:
                raise
            logger.warning(
                "Access token refresh failed, using the stored token "
                "appid=%s errcode=%s remaining_seconds=%d",
                self.appid,
                exc.errcode,
                remaining,
            )
            return token

    def force_refresh(self, stale_token):
        """Replace ``stale_token`` after WeChat rejected it (40001, 40014, 42001).

        Refreshes only if Redis still contains ``stale_token``: when N
        callers saw the same rejection, the first one refreshes and the
        rest receive its new token. Returns the token to retry with.

        If normal mode returns the rejected token again, a forced refresh
        follows, but at most one per 30 seconds across all processes.
        Within that interval the rejected token is returned, and the
        caller's single retry fails and is recorded.

        Raises ``AccessTokenError`` when the refresh fails.
        """

        def is_replaced(token, remaining, margin):
            return bool(token) and token != stale_token and remaining > 0

        return self._refresh(is_replaced, stale_token)

    def _is_fresh(self, token, remaining, margin):
        return bool(token) and remaining > margin

    def _read(self):
        """Return the stored token, its remaining seconds and its refresh margin."""
        pipeline = self.redis.pipeline(transaction=False)
        pipeline.hmget(self.key, "token", "expires_in")
        pipeline.pttl(self.key)
        (token, expires_in), ttl_ms = pipeline.execute()
        if token is None or ttl_ms < 0:
            return None, 0, 0

        # A token issued with a short lifetime (a test sandbox) would be due
        # for refresh on every read, so its margin is half its lifetime.
        margin = min(self.refresh_margin, int(_text(expires_in) or 0) / 2)
        return _text(token), ttl_ms / 1000, margin

    def _refresh(self, is_current, stale_token=None):
        """Fetch under the lock, or wait until the lock holder has stored a token."""
        deadline = time.monotonic() + self.wait_seconds
        while time.monotonic() < deadline:
            lock_id = secrets.token_hex(16)
            if self.redis.set(self.lock_key, lock_id, nx=True, px=self.lock_ttl_ms):
                try:
                    return self._refresh_locked(is_current, stale_token)
                finally:
                    self._release_lock(keys=[self.lock_key], args=[lock_id])

            time.sleep(POLL_INTERVAL_SECONDS)
            token, remaining, margin = self._read()
            if is_current(token, remaining, margin):
                return token

        raise AccessTokenError(None, "timed out waiting for the access token refresh")

    def _refresh_locked(self, is_current, stale_token):
        # Another process may have stored a new token between our read and
        # taking the lock.
        token, remaining, margin = self._read()
        if is_current(token, remaining, margin):
            return token

        token = self._fetch(force=False)
        if token == stale_token and self._claim_forced_refresh():
            # Normal mode returned the token WeChat just rejected, so only a
            # forced refresh can replace it.
            token = self._fetch(force=True)
        return token

    def _claim_forced_refresh(self):
        return bool(
            self.redis.set(
                self.forced_key, "1", nx=True, ex=FORCED_REFRESH_INTERVAL_SECONDS
            )
        )

    def _fetch(self, force):
        """Fetch a token from stable_token and store it in Redis."""
        result = self._post_stable_token(force)
        token = result.get("access_token")
        expires_in = int(result.get("expires_in") or 0)
        if not token or expires_in <= 0:
            raise AccessTokenError(None, "stable_token reply has no token or expiry")

        pipeline = self.redis.pipeline(transaction=True)
        pipeline.delete(self.key)
        pipeline.hset(
            self.key,
            mapping={
                "token": token,
                "expires_in": expires_in,
                "fetched_at": int(time.time()),
            },
        )
        pipeline.expire(self.key, expires_in)
        pipeline.execute()
        logger.info(
            "Fetched access token appid=%s force_refresh=%s expires_in=%d",
            self.appid,
            force,
            expires_in,
        )
        return token

    def _post_stable_token(self, force):
        payload = {
            "grant_type": "client_credential",
            "appid": self.appid,
            "secret": self._secret,
            "force_refresh": force,
        }
        try:
            response = self._http.post(self.url, json=payload, timeout=self.timeout)
            response.raise_for_status()
            result = response.json()
        except (requests.RequestException, ValueError) as exc:
            logger.warning(
                "Access token fetch failed appid=%s error=%s",
                self.appid,
                type(exc).__name__,
            )
            raise AccessTokenError(None, type(exc).__name__) from exc

        if not isinstance(result, dict):
            raise AccessTokenError(None, "stable_token reply is not a JSON object")
        errcode = int(result.get("errcode") or 0)
        if errcode:
            logger.error(
                "Access token fetch rejected appid=%s errcode=%s errmsg=%s",
                self.appid,
                errcode,
                result.get("errmsg"),
            )
            raise AccessTokenError(errcode, result.get("errmsg", ""))
        return result
