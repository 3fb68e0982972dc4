"""Signatures and safe-mode encryption against Tencent's sample and wechatpy."""

import pytest
from wechatpy.crypto import PrpCrypto, WeChatCrypto

from wechat_sandbox import crypto

# Tencent's official message-encryption sample values.
SAMPLE_TOKEN = "spamtest"
SAMPLE_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SAMPLE_APP_ID = "wx2c2769f8efd9abc2"
SAMPLE_TIMESTAMP = "1409735669"
SAMPLE_NONCE = "1320562132"
SAMPLE_XML = (
    "<xml><ToUserName><![CDATA[gh_3f9a1c2b7d4e]]></ToUserName>"
    "<FromUserName><![CDATA[oSampleUser0000000000000001]]></FromUserName>"
    "<CreateTime>1409735669</CreateTime><MsgType><![CDATA[event]]></MsgType>"
    "<Event><![CDATA[SCAN]]></Event><EventKey><![CDATA[bind:sample]]></EventKey>"
    "</xml>"
)


def test_signature_matches_tencent_sample():
    signature = crypto.signature(SAMPLE_TOKEN, SAMPLE_TIMESTAMP, SAMPLE_NONCE)

    assert signature == "16120ec1b8dbb870f510d87ce6bc2463eae6ca1a"


def test_signature_ignores_argument_order():
    assert crypto.signature("b", "a", "c") == crypto.signature("c", "b", "a")


def test_sandbox_ciphertext_decrypts_with_wechatpy():
    key = crypto.aes_key(SAMPLE_AES_KEY)
    encrypted = crypto.encrypt(key, SAMPLE_APP_ID, SAMPLE_XML)
    msg_signature = crypto.signature(
        SAMPLE_TOKEN, SAMPLE_TIMESTAMP, SAMPLE_NONCE, encrypted
    )
    body = (
        "<xml><ToUserName><![CDATA[gh_3f9a1c2b7d4e]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    )

    wechatpy = WeChatCrypto(SAMPLE_TOKEN, SAMPLE_AES_KEY, SAMPLE_APP_ID)
    plain = wechatpy.decrypt_message(
        body, msg_signature, SAMPLE_TIMESTAMP, SAMPLE_NONCE
    )

    assert plain == SAMPLE_XML


def test_wechatpy_ciphertext_decrypts_in_sandbox():
    encrypted = PrpCrypto(crypto.aes_key(SAMPLE_AES_KEY)).encrypt(
        SAMPLE_XML, SAMPLE_APP_ID
    )

    plain = crypto.decrypt(crypto.aes_key(SAMPLE_AES_KEY), SAMPLE_APP_ID, encrypted)

    assert plain == SAMPLE_XML


def test_chinese_text_round_trips():
    key = crypto.aes_key(SAMPLE_AES_KEY)
    text = "<xml><Content><![CDATA[南海区物业项目]]></Content></xml>"

    encrypted = crypto.encrypt(key, SAMPLE_APP_ID, text)

    assert crypto.decrypt(key, SAMPLE_APP_ID, encrypted) == text


def test_ciphertext_is_padded_to_32_bytes_and_random():
    key = crypto.aes_key(SAMPLE_AES_KEY)

    first = crypto.encrypt(key, SAMPLE_APP_ID, "x")
    second = crypto.encrypt(key, SAMPLE_APP_ID, "x")

    assert first != second
    assert len(crypto.base64.b64decode(first)) % 32 == 0


def test_decrypt_rejects_other_appid():
    key = crypto.aes_key(SAMPLE_AES_KEY)
    encrypted = crypto.encrypt(key, "wxotherapp", SAMPLE_XML)

    with pytest.raises(crypto.DecryptError, match="another appid"):
        crypto.decrypt(key, SAMPLE_APP_ID, encrypted)


@pytest.mark.parametrize(
    "ciphertext",
    ["not base64!", "", "QUJD", "QUJDRA==", "A" * 22 + "==", "B" * 43 + "="],
)
def test_decrypt_rejects_malformed_ciphertext(ciphertext):
    with pytest.raises(crypto.DecryptError):
        crypto.decrypt(crypto.aes_key(SAMPLE_AES_KEY), SAMPLE_APP_ID, ciphertext)


@pytest.mark.parametrize(
    "encoding_aes_key",
    [
        "abcdefghijklmnopqrstuvwxyz0123456789ABCD",
        "abcdefghijklmnopqrstuvwxyz0123456789ABC",
    ],
)
def test_aes_key_must_decode_to_32_bytes(encoding_aes_key):
    with pytest.raises(ValueError, match="43 characters"):
        crypto.aes_key(encoding_aes_key)
