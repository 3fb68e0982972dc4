"""Mount the service-account bot on the Flask app.

``init_app`` builds the WeChat objects once per app and stores them on
``app.extensions["wechat"]``, then registers the callback blueprint and the
binding API. Every process (web or worker) that calls ``create_app`` gets
the same Redis-backed access token, so no process fetches its own.
"""

from dataclasses import dataclass

from flask import current_app

from bot.client import ServiceAccountClient
from bot.inbound import CallbackCodec
from bot.template_fields import TemplateCatalog, load_templates
from bot.token_store import SharedAccessToken


@dataclass(frozen=True)
class WeChatServices:
    """The WeChat objects of one app, shared by its requests and jobs."""

    token_store: SharedAccessToken
    client: ServiceAccountClient
    codec: CallbackCodec
    templates: TemplateCatalog
    miniprogram_appid: str


def build_services(config, redis):
    """Build the service-account objects from the app ``config``.

    Raises ``TemplateConfigError`` for an unreadable templates file and
    ``ValueError`` for a malformed EncodingAESKey, so a bad setting stops
    the app at start instead of failing the first push or send.
    """
    base_url = config["WECHAT_API_BASE_URL"]
    timeout = config["WECHAT_HTTP_TIMEOUT"]
    token_store = SharedAccessToken(
        redis,
        config["WECHAT_APP_ID"],
        config["WECHAT_APP_SECRET"],
        base_url,
        timeout,
    )
    codec = CallbackCodec(
        config["WECHAT_TOKEN"],
        config["WECHAT_APP_ID"],
        aes_key=config["WECHAT_AES_KEY"],
        max_bytes=config["WECHAT_CALLBACK_MAX_BYTES"],
        max_age=config["WECHAT_CALLBACK_MAX_AGE"],
    )
    return WeChatServices(
        token_store=token_store,
        client=ServiceAccountClient(token_store, base_url, timeout),
        codec=codec,
        templates=load_templates(config["WECHAT_TEMPLATES_FILE"]),
        miniprogram_appid=config["MINIPROGRAM_APP_ID"],
    )


def wechat_services():
    """Return the ``WeChatServices`` of the current app."""
    return current_app.extensions["wechat"]


def init_app(app):
    from bot.binding import blueprint as binding_blueprint
    from bot.callback import blueprint as callback_blueprint

    app.extensions["wechat"] = build_services(app.config, app.extensions["redis"])
    app.register_blueprint(callback_blueprint)
    app.register_blueprint(binding_blueprint)
