import pytest

from bot.errors import MiniProgramLoginError
from bot.miniprogram import code_to_session

JSCODE2SESSION = "/sns/jscode2session"


def login(fake_wechat, code="081aBcDe", timeout=2):
    return code_to_session(
        fake_wechat.base_url,
        fake_wechat.mini_appid,
        fake_wechat.mini_secret,
        code,
        timeout,
    )


def test_code_to_session_returns_openid_and_session_key(fake_wechat):
    session = login(fake_wechat)

    assert session == {
        "openid": "oMini_081aBcDe",
        "session_key": "tiihtNczf5v6AKRyjwEUhQ==",
    }


def test_code_to_session_sends_wechat_query(fake_wechat):
    login(fake_wechat)

    (request,) = fake_wechat.requests_to(JSCODE2SESSION)
    assert request.method == "GET"
    assert request.query == {
        "appid": fake_wechat.mini_appid,
        "secret": fake_wechat.mini_secret,
        "js_code": "081aBcDe",
        "grant_type": "authorization_code",
    }


def test_code_to_session_needs_no_access_token(fake_wechat):
    login(fake_wechat)

    assert fake_wechat.count("/cgi-bin/stable_token") == 0


def test_code_to_session_returns_unionid_when_sent(fake_wechat):
    fake_wechat.queue_reply(
        JSCODE2SESSION,
        {"openid": "oMini_1", "session_key": "c2Vzc2lvbg==", "unionid": "oUnion_1"},
    )

    assert login(fake_wechat)["unionid"] == "oUnion_1"


@pytest.mark.parametrize(
    ("errcode", "user_message", "retryable"),
    [
        (40029, "登录凭证无效或已过期，请重新进入小程序", False),
        (40163, "登录凭证已使用，请重新进入小程序", False),
        (45011, "登录请求过于频繁，请稍后再试", True),
        (40226, "当前微信账号被微信判定为高风险用户，登录已被拦截", False),
        (-1, "微信系统繁忙，请稍后再试", True),
        (40013, "微信登录失败，请重新进入小程序后再试", False),
    ],
)
def test_wechat_errors_raise_chinese_message(
    fake_wechat, errcode, user_message, retryable
):
    fake_wechat.queue_reply(JSCODE2SESSION, fake_wechat.error(errcode))

    with pytest.raises(MiniProgramLoginError) as caught:
        login(fake_wechat)

    assert caught.value.errcode == errcode
    assert caught.value.user_message == user_message
    assert caught.value.retryable is retryable


def test_empty_code_rejected_without_request(fake_wechat):
    with pytest.raises(MiniProgramLoginError) as caught:
        login(fake_wechat, code="")

    assert caught.value.errcode == 41008
    assert fake_wechat.count(JSCODE2SESSION) == 0


def test_timeout_raises_retryable_error(fake_wechat):
    fake_wechat.delay(JSCODE2SESSION, 1.0)

    with pytest.raises(MiniProgramLoginError) as caught:
        login(fake_wechat, timeout=0.3)

    assert caught.value.errcode is None
    assert caught.value.user_message == "暂时无法连接微信登录服务，请稍后再试"
    assert caught.value.retryable is True


def test_network_error_hides_secret():
    with pytest.raises(MiniProgramLoginError) as caught:
        code_to_session("http://127.0.0.1:9", "wxapp", "top-secret", "code", 0.5)

    assert caught.value.errcode is None
    assert "top-secret" not in str(caught.value)
    assert caught.value.__suppress_context__ is True


def test_reply_without_session_key_rejected(fake_wechat):
    fake_wechat.queue_reply(JSCODE2SESSION, {"openid": "oMini_1"})

    with pytest.raises(MiniProgramLoginError) as caught:
        login(fake_wechat)

    assert caught.value.errcode is None
    assert caught.value.retryable is False
