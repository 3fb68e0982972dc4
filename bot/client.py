"""wechatpy client for the service account, pointed at WeChat or the sandbox.

wechatpy 1.8.18's ``WeChatClient`` fixes the API host, fetches its own
access token with no timeout, and retries 40001/42001 without limit when
``auto_retry`` is on. This subclass takes the host from configuration,
sets a timeout on every request, takes the token from ``SharedAccessToken``
and never fetches one itself, and leaves retries to ``bot.sender``.
"""

import logging
import os
from urllib.parse import urlsplit

import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from bot.errors import WeChatAPIError, WeChatNetworkError

logger = logging.getLogger(__name__)

WECHAT_API_ROOT = "https://api.weixin.qq.com"

# Limits of temporary QR codes with a string scene:
# https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html
MAX_SCENE_LENGTH = 64
MAX_TEMP_QRCODE_SECONDS = 30 * 24 * 3600


class ServiceAccountClient(WeChatClient):
    """WeChat API client of the service account.

    ``base_url`` is the API root, ``https://api.weixin.qq.com`` in production
    or the sandbox's ``http://127.0.0.1:<port>``. Every request the client
    sends goes to that root: wechatpy's fixed WeChat host is rewritten, and
    any other host raises ``ValueError``. A few wechatpy helpers
    (``qrcode.show``, cloud uploads) call ``requests`` directly and bypass
    the client, so the product must not use them.

    API errors raise ``WeChatAPIError`` with the errcode. Timeouts,
    connection errors, HTTP errors and non-JSON replies raise
    ``WeChatNetworkError``. A request without an explicit ``access_token``
    reads the store and raises ``AccessTokenError`` if no token can be had.
    """

    def __init__(self, token_store, base_url, timeout):
        super().__init__(
            token_store.appid, secret=None, timeout=timeout, auto_retry=False
        )
        self.token_store = token_store
        self.api_root = base_url.rstrip("/")
        self.API_BASE_URL = f"{self.api_root}/cgi-bin/"
        _read_environment_once(self._http, self.api_root)

    @property
    def access_token(self):
        """Current access token from the shared Redis store."""
        return self.token_store.get()

    def fetch_access_token(self):
        """Reject fetching: only ``SharedAccessToken`` may fetch a token.

        A fetch here would invalidate the token that every other process
        is using.
        """
        raise NotImplementedError("access tokens come from SharedAccessToken")

    def create_temp_qrcode(self, scene, expire_seconds, access_token=None):
        """Create a temporary QR code whose scan pushes ``scene`` to the callback.

        The expiry is always sent because WeChat's default is only 60
        seconds. Returns ``{"ticket", "url", "expire_seconds"}``, where
        ``url`` is the text to encode in the QR image.
        https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html
        """
        if not 1 <= len(scene) <= MAX_SCENE_LENGTH:
            raise ValueError(f"scene must be 1 to {MAX_SCENE_LENGTH} characters")
        if not 1 <= expire_seconds <= MAX_TEMP_QRCODE_SECONDS:
            raise ValueError(
                f"expire_seconds must be 1 to {MAX_TEMP_QRCODE_SECONDS}, "
                f"got {expire_seconds}"
            )

        body = {
            "expire_seconds": expire_seconds,
            "action_name": "QR_STR_SCENE",
            "action_info": {"scene": {"scene_str": scene}},
        }
        result = self.post("qrcode/create", data=body, params=_token(access_token))
        if not result.get("ticket") or not result.get("url"):
            raise WeChatNetworkError("qrcode/create reply has no ticket or url")
        return {
            "ticket": result["ticket"],
            "url": result["url"],
            "expire_seconds": int(result.get("expire_seconds", expire_seconds)),
        }

    def send_template(
        self,
        openid,
        template_id,
        data,
        miniprogram_appid=None,
        pagepath=None,
        client_msg_id=None,
        access_token=None,
    ):
        """Send a template message and return WeChat's msgid.

        ``data`` is already in WeChat's shape, ``{"thing1": {"value": "..."}}``,
        as ``TemplateCatalog.build_template_data`` returns it. WeChat sends
        at most one message per openid and ``client_msg_id``, so a repeat
        after a lost reply is dropped by WeChat itself. Tapping the message
        opens ``pagepath`` in the mini-program ``miniprogram_appid``.
        https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
        """
        body = {"touser": openid, "template_id": template_id, "data": data}
        if miniprogram_appid:
            body["miniprogram"] = {
                "appid": miniprogram_appid,
                "pagepath": pagepath or "",
            }
        if client_msg_id:
            body["client_msg_id"] = client_msg_id

        result = self.post(
            "message/template/send", data=body, params=_token(access_token)
        )
        return result.get("msgid")

    def _request(self, method, url_or_endpoint, **kwargs):
        base = kwargs.pop("api_base_url", self.API_BASE_URL)
        url = self._resolve_url(url_or_endpoint, base)
        kwargs.setdefault("timeout", self.timeout)
        if isinstance(kwargs.get("data"), dict):
            kwargs["headers"] = {
                **kwargs.get("headers", {}),
                "Content-Type": "application/json; charset=utf-8",
            }

        # The request URL contains the access token, so the original
        # exceptions are dropped (``from None``) to keep it out of logs.
        try:
            result = super()._request(method, url, **kwargs)
        except requests.RequestException as exc:
            raise WeChatNetworkError(f"{type(exc).__name__} on {_path(url)}") from None
        except WeChatClientException as exc:
            raise _translate(exc, url) from None

        if not isinstance(result, dict):
            raise WeChatNetworkError(f"reply to {_path(url)} is not JSON")
        return result

    def _resolve_url(self, url_or_endpoint, base):
        """Return the full URL under ``api_root``, rewriting WeChat's fixed host."""
        if url_or_endpoint.startswith(("http://", "https://")):
            url = url_or_endpoint
        else:
            url = f"{base}{url_or_endpoint}"

        if url.startswith(WECHAT_API_ROOT + "/"):
            url = self.api_root + url[len(WECHAT_API_ROOT) :]
        if not url.startswith(self.api_root + "/"):
            raise ValueError(f"refusing a request outside {self.api_root}: {url}")
        return url


def _read_environment_once(session, url):
    """Take the proxy and CA bundle settings for ``url`` from the environment now.

    By default ``requests`` reads them again on every request, which cost
    about an eighth of the client's CPU per template send to the sandbox.
    The sender makes thousands of requests to one host, so the settings are
    read once, when the client is built.
    """
    session.proxies = requests.utils.get_environ_proxies(url)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False


def _token(access_token):
    """Query parameters that pin the access token, or none to use the store's."""
    return {"access_token": access_token} if access_token else {}


def _path(url):
    return urlsplit(url).path


def _translate(exc, url):
    if exc.errcode is None:
        status = getattr(exc.response, "status_code", None)
        return WeChatNetworkError(f"HTTP {status} on {_path(url)}")

    logger.info(
        "WeChat API error path=%s errcode=%s errmsg=%s",
        _path(url),
        exc.errcode,
        exc.errmsg,
    )
    return WeChatAPIError(exc.errcode, exc.errmsg)
