"""Signatures and safe-mode (AES) encryption of WeChat callback pushes.

Plain signature: SHA-1 over the sorted, concatenated token, timestamp and
nonce. Safe mode adds ``msg_signature`` (the same with the ciphertext as a
fourth string) and encrypts the XML with AES-256-CBC, with the IV taken
from the first 16 key bytes and PKCS#7 padding to 32-byte blocks. The
plaintext is 16 random bytes, the XML length as a 4-byte big-endian
integer, the XML, and the appid.
https://developers.weixin.qq.com/doc/subscription/guide/dev/push/encryption.html

This module never parses XML. ``bot.inbound`` parses both the envelope and
the decrypted message with its size-limited, DTD-free parser.
"""

import base64
import binascii
import hashlib
import hmac
import os
import struct
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.errors import BadPayload, InvalidSignature, WrongAppId

# WeChat pads to 32-byte blocks, not to AES's 16.
PAD_BLOCK_SIZE = 32
RANDOM_PREFIX_SIZE = 16
LENGTH_FIELD_SIZE = 4


def compute_signature(*parts):
    """Return WeChat's SHA-1 hex signature over the sorted, concatenated parts."""
    joined = "".join(sorted(str(part) for part in parts))
    return hashlib.sha1(joined.encode()).hexdigest()


def verify_signature(token, signature, timestamp, nonce):
    """Raise ``InvalidSignature`` unless ``signature`` signs timestamp and nonce."""
    _compare(compute_signature(token, timestamp, nonce), signature, "signature")


def verify_msg_signature(token, msg_signature, timestamp, nonce, encrypted):
    """Raise ``InvalidSignature`` unless ``msg_signature`` also signs the ciphertext."""
    expected = compute_signature(token, timestamp, nonce, encrypted)
    _compare(expected, msg_signature, "msg_signature")


def _compare(expected, received, name):
    # A constant-time comparison keeps response timing from leaking how
    # much of a forged signature matched.
    if not received or not hmac.compare_digest(expected, str(received)):
        raise InvalidSignature(f"{name} does not match")


def check_timestamp(timestamp, max_age, now=None):
    """Raise ``InvalidSignature`` if ``timestamp`` is more than ``max_age`` seconds off.

    A signature never expires, so this check limits how long a captured
    push can be replayed. ``max_age`` of 0 or less turns the check off.
    """
    if max_age <= 0:
        return
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        raise InvalidSignature("timestamp is missing or not an integer") from None

    now = time.time() if now is None else now
    offset = abs(now - sent_at)
    if offset > max_age:
        raise InvalidSignature(
            f"timestamp is {offset:.0f} seconds from now, limit is {max_age}"
        )


def decode_aes_key(encoding_aes_key):
    """Return the 32-byte AES key from the 43-character EncodingAESKey.

    Raises ``ValueError`` for a key of the wrong length or alphabet, which
    is a configuration error.
    """
    if not encoding_aes_key or len(encoding_aes_key) != 43:
        raise ValueError("EncodingAESKey must be 43 characters")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error:
        raise ValueError("EncodingAESKey is not base64") from None
    return key


def decrypt(encrypted, key, appid):
    """Return the XML bytes inside ``encrypted`` (the base64 ``Encrypt`` text).

    Raises ``BadPayload`` for corrupt base64, ciphertext or padding, and
    ``WrongAppId`` when the appid inside is not ``appid``.
    """
    try:
        ciphertext = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError):
        raise BadPayload("Encrypt is not valid base64") from None
    if not ciphertext or len(ciphertext) % 16:
        raise BadPayload("ciphertext length is not a multiple of 16 bytes")

    decryptor = _cipher(key).decryptor()
    plaintext = _unpad(decryptor.update(ciphertext) + decryptor.finalize())
    xml, sender_appid = _split_plaintext(plaintext)
    if sender_appid != appid.encode():
        raise WrongAppId("appid inside the payload is not this app's")
    return xml


def encrypt(xml, key, appid, random_prefix=None):
    """Return the base64 ciphertext of ``xml`` (bytes) for ``appid``.

    ``random_prefix`` exists for tests; by default 16 fresh random bytes
    are used.
    """
    prefix = os.urandom(RANDOM_PREFIX_SIZE) if random_prefix is None else random_prefix
    plaintext = prefix + struct.pack(">I", len(xml)) + xml + appid.encode()
    pad_length = PAD_BLOCK_SIZE - len(plaintext) % PAD_BLOCK_SIZE
    plaintext += bytes([pad_length]) * pad_length

    encryptor = _cipher(key).encryptor()
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    return base64.b64encode(ciphertext).decode()


def _cipher(key):
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def _unpad(padded):
    pad_length = padded[-1]
    if not 1 <= pad_length <= PAD_BLOCK_SIZE:
        raise BadPayload("ciphertext padding is invalid")
    if padded[-pad_length:] != bytes([pad_length]) * pad_length:
        raise BadPayload("ciphertext padding is invalid")
    return padded[:-pad_length]


def _split_plaintext(plaintext):
    """Return the XML and the appid from a decrypted plaintext."""
    header_size = RANDOM_PREFIX_SIZE + LENGTH_FIELD_SIZE
    if len(plaintext) < header_size:
        raise BadPayload("decrypted payload is too short")

    (xml_length,) = struct.unpack(">I", plaintext[RANDOM_PREFIX_SIZE:header_size])
    xml_end = header_size + xml_length
    if xml_end > len(plaintext):
        raise BadPayload("decrypted payload length field exceeds its size")
    return plaintext[header_size:xml_end], plaintext[xml_end:]
