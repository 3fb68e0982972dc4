import pytest

from bot.client import ServiceAccountClient
from bot.errors import WeChatAPIError, WeChatNetworkError

QRCODE_CREATE = "/cgi-bin/qrcode/create"
TEMPLATE_SEND = "/cgi-bin/message/template/send"
STABLE_TOKEN = "/cgi-bin/stable_token"

TEMPLATE_DATA = {
    "thing1": {"value": "桂城花园"},
    "time4": {"value": "2026年12月04日 09:00"},
}


def test_client_disables_wechatpy_auto_retry(client):
    assert client.auto_retry is False


def test_client_points_wechatpy_at_base_url(client, fake_wechat):
    assert client.API_BASE_URL == f"{fake_wechat.base_url}/cgi-bin/"


def test_create_temp_qrcode_sends_string_scene_and_expiry(client, fake_wechat):
    result = client.create_temp_qrcode("bind:7f3a9c", 600)

    (request,) = fake_wechat.requests_to(QRCODE_CREATE)
    assert request.body == {
        "expire_seconds": 600,
        "action_name": "QR_STR_SCENE",
        "action_info": {"scene": {"scene_str": "bind:7f3a9c"}},
    }
    assert request.query["access_token"] == "ACCESS_TOKEN_0001"
    assert result["expire_seconds"] == 600
    assert result["url"].startswith("http://weixin.qq.com/q/")
    assert result["ticket"].startswith("gQFT8")


def test_create_temp_qrcode_accepts_64_character_scene(client, fake_wechat):
    client.create_temp_qrcode("s" * 64, 600)

    (request,) = fake_wechat.requests_to(QRCODE_CREATE)
    assert request.body["action_info"]["scene"]["scene_str"] == "s" * 64


@pytest.mark.parametrize(
    ("scene", "expire_seconds"),
    [("s" * 65, 600), ("", 600), ("bind:1", 0), ("bind:1", 2592001)],
)
def test_create_temp_qrcode_rejects_bad_arguments(
    client, fake_wechat, scene, expire_seconds
):
    with pytest.raises(ValueError):
        client.create_temp_qrcode(scene, expire_seconds)

    assert fake_wechat.count(QRCODE_CREATE) == 0


def test_send_template_posts_wechat_body(client, fake_wechat):
    msgid = client.send_template(
        "oService_user1",
        "Nh7dTemplate",
        TEMPLATE_DATA,
        miniprogram_appid="wxfakeminiapp00001",
        pagepath="pages/project/detail?id=12",
        client_msg_id="return_notice:12:basic:3",
    )

    (request,) = fake_wechat.requests_to(TEMPLATE_SEND)
    assert msgid == 200228333
    assert request.body == {
        "touser": "oService_user1",
        "template_id": "Nh7dTemplate",
        "data": TEMPLATE_DATA,
        "miniprogram": {
            "appid": "wxfakeminiapp00001",
            "pagepath": "pages/project/detail?id=12",
        },
        "client_msg_id": "return_notice:12:basic:3",
    }


def test_send_template_omits_optional_fields(client, fake_wechat):
    client.send_template("oService_user1", "Nh7dTemplate", TEMPLATE_DATA)

    (request,) = fake_wechat.requests_to(TEMPLATE_SEND)
    assert "miniprogram" not in request.body
    assert "client_msg_id" not in request.body


def test_send_template_uses_explicit_access_token(client, fake_wechat):
    token = fake_wechat.rotate_token()

    client.send_template("oService_user1", "Nh7dTemplate", {}, access_token=token)

    (request,) = fake_wechat.requests_to(TEMPLATE_SEND)
    assert request.query["access_token"] == token
    assert fake_wechat.count(STABLE_TOKEN) == 0


def test_rejected_token_raises_once_without_retry(client, fake_wechat):
    client.token_store.get()
    fake_wechat.rotate_token()

    with pytest.raises(WeChatAPIError) as caught:
        client.send_template("oService_user1", "Nh7dTemplate", TEMPLATE_DATA)

    assert caught.value.errcode == 40001
    assert fake_wechat.count(TEMPLATE_SEND) == 1
    assert fake_wechat.count(STABLE_TOKEN) == 1


def test_client_never_fetches_token_itself(client):
    with pytest.raises(NotImplementedError):
        client.fetch_access_token()


def test_timeout_raises_network_error(token_store, fake_wechat):
    client = ServiceAccountClient(token_store, fake_wechat.base_url, timeout=0.3)
    token_store.get()
    fake_wechat.delay(TEMPLATE_SEND, 1.0)

    with pytest.raises(WeChatNetworkError) as caught:
        client.send_template("oService_user1", "Nh7dTemplate", TEMPLATE_DATA)

    assert "Timeout" in str(caught.value)


def test_network_error_hides_access_token(token_store, fake_wechat):
    token = token_store.get()
    client = ServiceAccountClient(token_store, "http://127.0.0.1:9", timeout=0.5)

    with pytest.raises(WeChatNetworkError) as caught:
        client.send_template("oService_user1", "Nh7dTemplate", TEMPLATE_DATA)

    assert token not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__ is True


def test_http_error_raises_network_error(client, fake_wechat):
    with pytest.raises(WeChatNetworkError) as caught:
        client.get("unknown/endpoint")

    assert str(caught.value) == "HTTP 404 on /cgi-bin/unknown/endpoint"


def test_wechatpy_api_objects_use_base_url(client, fake_wechat):
    # wechatpy's wxa API has its own fixed https://api.weixin.qq.com/ root.
    # The fake rejects the service account's appid here, and that is fine:
    # the point is where the request went.
    with pytest.raises(WeChatAPIError):
        client.wxa.code_to_session("code-1")

    (request,) = fake_wechat.requests_to("/sns/jscode2session")
    assert request.query["js_code"] == "code-1"


def test_request_outside_base_url_rejected(client, fake_wechat):
    with pytest.raises(ValueError):
        client.get("https://example.com/cgi-bin/user/info")

    assert fake_wechat.requests == []


def test_production_base_url_keeps_wechat_host(token_store):
    client = ServiceAccountClient(token_store, "https://api.weixin.qq.com/", 5)

    assert client.API_BASE_URL == "https://api.weixin.qq.com/cgi-bin/"
    assert client.wxa.API_BASE_URL == "https://api.weixin.qq.com/"
