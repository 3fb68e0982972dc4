"""Signatures and AES, checked against Tencent's published sample message."""

import base64
import struct

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot import crypto
from bot.errors import BadPayload, InvalidSignature, WrongAppId

from .tencent_sample import (
    AES_KEY,
    APPID,
    ENCRYPT,
    MSG_SIGNATURE,
    NONCE,
    SIGNATURE,
    TIMESTAMP,
    TOKEN,
)

KEY = crypto.decode_aes_key(AES_KEY)


def test_sample_plain_signature_verifies():
    crypto.verify_signature(TOKEN, SIGNATURE, TIMESTAMP, NONCE)


def test_sample_signature_value_matches():
    assert crypto.compute_signature(TOKEN, TIMESTAMP, NONCE) == SIGNATURE


def test_sample_msg_signature_verifies():
    crypto.verify_msg_signature(TOKEN, MSG_SIGNATURE, TIMESTAMP, NONCE, ENCRYPT)


@pytest.mark.parametrize(
    "forged",
    [
        "16120ec1b8dbb870f510d87ce6bc2463eae6ca1b",
        "16120EC1B8DBB870F510D87CE6BC2463EAE6CA1A",
        "",
        None,
        "16120ec1",
    ],
)
def test_forged_signature_rejected(forged):
    with pytest.raises(InvalidSignature):
        crypto.verify_signature(TOKEN, forged, TIMESTAMP, NONCE)


def test_signature_of_other_nonce_rejected():
    with pytest.raises(InvalidSignature):
        crypto.verify_signature(TOKEN, SIGNATURE, TIMESTAMP, "1320562133")


def test_msg_signature_over_other_ciphertext_rejected():
    with pytest.raises(InvalidSignature):
        crypto.verify_msg_signature(
            TOKEN, MSG_SIGNATURE, TIMESTAMP, NONCE, ENCRYPT[:-8]
        )


def test_sample_decrypts_to_text_message():
    xml = crypto.decrypt(ENCRYPT, KEY, APPID)

    assert xml.startswith(b"<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]>")
    assert b"<Content><![CDATA[abcdteT]]></Content>" in xml
    assert b"<MsgId>6054768590064713728</MsgId>" in xml


def test_decrypt_rejects_other_appid():
    with pytest.raises(WrongAppId) as caught:
        crypto.decrypt(ENCRYPT, KEY, "wx0000000000000000")

    assert caught.value.http_status == 400


def test_encrypt_then_decrypt_round_trips():
    xml = "<xml><Content><![CDATA[绑定成功]]></Content></xml>".encode()

    encrypted = crypto.encrypt(xml, KEY, APPID)

    assert crypto.decrypt(encrypted, KEY, APPID) == xml


def test_encrypt_pads_to_32_byte_blocks():
    encrypted = crypto.encrypt(b"<xml/>", KEY, APPID, random_prefix=b"r" * 16)

    # 16 random + 4 length + 6 xml + 18 appid = 44 bytes, padded to 64.
    assert len(base64.b64decode(encrypted)) == 64


def test_encrypt_uses_fresh_random_prefix():
    first = crypto.encrypt(b"<xml/>", KEY, APPID)
    second = crypto.encrypt(b"<xml/>", KEY, APPID)

    assert first != second


@pytest.mark.parametrize(
    ("encrypted", "reason"),
    [
        (ENCRYPT[:-7], "Encrypt is not valid base64"),
        (ENCRYPT[:-4] + "!!!!", "Encrypt is not valid base64"),
        (base64.b64encode(bytes(range(64))).decode(), "ciphertext padding is invalid"),
        (base64.b64encode(b"x" * 20).decode(), "ciphertext length is not a multiple"),
        ("", "ciphertext length is not a multiple"),
    ],
)
def test_corrupt_ciphertext_rejected(encrypted, reason):
    with pytest.raises(BadPayload) as caught:
        crypto.decrypt(encrypted, KEY, APPID)

    assert str(caught.value).startswith(reason)
    assert caught.value.http_status == 400


def test_ciphertext_cut_at_block_boundary_rejected():
    ciphertext = base64.b64decode(ENCRYPT)
    cut = base64.b64encode(ciphertext[:-32]).decode()

    with pytest.raises(BadPayload):
        crypto.decrypt(cut, KEY, APPID)


def encrypt_raw(plaintext):
    """Pad and encrypt ``plaintext`` as WeChat does, without building its layout."""
    pad_length = 32 - len(plaintext) % 32
    padded = plaintext + bytes([pad_length]) * pad_length
    encryptor = Cipher(algorithms.AES(KEY), modes.CBC(KEY[:16])).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def test_length_field_beyond_payload_rejected():
    plaintext = b"r" * 16 + struct.pack(">I", 1000) + b"<xml/>" + APPID.encode()

    with pytest.raises(BadPayload) as caught:
        crypto.decrypt(encrypt_raw(plaintext), KEY, APPID)

    assert str(caught.value) == "decrypted payload length field exceeds its size"


def test_payload_shorter_than_header_rejected():
    with pytest.raises(BadPayload) as caught:
        crypto.decrypt(encrypt_raw(b"r" * 10), KEY, APPID)

    assert str(caught.value) == "decrypted payload is too short"


@pytest.mark.parametrize(
    ("timestamp", "now"),
    [("1409735669", 1409735669 + 301), ("1409735669", 1409735669 - 301)],
)
def test_timestamp_outside_max_age_rejected(timestamp, now):
    with pytest.raises(InvalidSignature):
        crypto.check_timestamp(timestamp, 300, now=now)


def test_timestamp_within_max_age_accepted():
    crypto.check_timestamp("1409735669", 300, now=1409735669 + 299)


def test_timestamp_check_off_when_max_age_zero():
    crypto.check_timestamp("1409735669", 0, now=2_000_000_000)


@pytest.mark.parametrize("timestamp", [None, "", "12ab"])
def test_non_integer_timestamp_rejected(timestamp):
    with pytest.raises(InvalidSignature):
        crypto.check_timestamp(timestamp, 300, now=1409735669)


@pytest.mark.parametrize("key", ["", "short", AES_KEY + "H", AES_KEY[:-1] + "*"])
def test_invalid_encoding_aes_key_rejected(key):
    with pytest.raises(ValueError):
        crypto.decode_aes_key(key)


def test_encoding_aes_key_decodes_to_32_bytes():
    assert len(KEY) == 32
