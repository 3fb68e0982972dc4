"""WeChat callback signatures and safe-mode (AES) message encryption.

Written against the ``cryptography`` package rather than wechatpy, so that
the tests can check the sandbox and wechatpy against each other. The scheme
is AES-256-CBC. The key is ``EncodingAESKey + "="`` decoded from base64 (32
bytes), and its first 16 bytes are the IV. The plaintext is 16 random bytes,
the message length as a 4-byte big-endian integer, the message, then the
appid, padded PKCS#7-style to a multiple of 32 bytes. See
https://developers.weixin.qq.com/doc/oplatform/developers/dev/push/encryption.html.
"""

import base64
import binascii
import hashlib
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32


class DecryptError(ValueError):
    """Ciphertext that does not decrypt to a message for the expected appid."""


def signature(*parts):
    """Return sha1 of the parts sorted and joined: WeChat's signature scheme."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def aes_key(encoding_aes_key):
    """Return the 32-byte AES key; raise ValueError for a malformed EncodingAESKey."""
    message = "EncodingAESKey must be 43 characters of base64"
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error as exc:
        raise ValueError(message) from exc
    if len(key) != 32:
        raise ValueError(message)
    return key


def encrypt(key, appid, message):
    """Return the base64 ciphertext of ``message`` (str) for ``appid``."""
    text = message.encode()
    raw = os.urandom(16) + struct.pack(">I", len(text)) + text + appid.encode()
    pad = BLOCK - len(raw) % BLOCK
    raw += bytes([pad]) * pad
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(raw) + encryptor.finalize()).decode()


def decrypt(key, appid, ciphertext):
    """Return the message in ``ciphertext``, or raise DecryptError.

    DecryptError covers malformed ciphertext and a message for another appid.
    """
    try:
        data = base64.b64decode(ciphertext, validate=True)
    except binascii.Error as exc:
        raise DecryptError("ciphertext is not base64") from exc
    if not data or len(data) % 16:
        raise DecryptError("ciphertext length is not a multiple of 16")

    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    raw = decryptor.update(data) + decryptor.finalize()
    pad = raw[-1]
    if not 1 <= pad <= BLOCK:
        raise DecryptError("invalid padding")
    content = raw[16:-pad]
    if len(content) < 4:
        raise DecryptError("ciphertext too short")
    (length,) = struct.unpack(">I", content[:4])
    message = content[4 : 4 + length]
    if content[4 + length :].decode(errors="replace") != appid:
        raise DecryptError("message is for another appid")
    try:
        return message.decode()
    except UnicodeDecodeError as exc:
        raise DecryptError("message is not UTF-8") from exc
