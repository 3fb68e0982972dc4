"""Callback pushes from WeChat: verify, parse safely, decrypt, and reply.

The callback view builds one ``CallbackCodec`` from configuration and calls
``verify_url`` for WeChat's GET check and ``parse`` for each POST, then
responds with ``render_reply``, or with ``"success"`` when it sends no
reply. ``CallbackError`` subclasses carry the HTTP status to respond with:
403 for ``InvalidSignature``, 400 for ``BadPayload``, 413 for ``TooLarge``.
"""

import secrets
import time
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring

from bot import crypto
from bot.errors import BadPayload, TooLarge

# The photo-picking event nests five levels counting <xml> (SendPicsInfo >
# PicList > item > PicMd5Sum). Deeper XML is rejected so recursion stays bounded.
MAX_XML_DEPTH = 8

# A new follower's subscribe event carries the QR scene with this prefix.
SUBSCRIBE_SCENE_PREFIX = "qrscene_"


def parse_xml(body, max_bytes):
    """Return the fields of a callback XML body as a dict of strings.

    The size is checked before parsing. Any DOCTYPE, entity declaration or
    external reference is rejected by defusedxml before expansion, which
    stops billion-laughs and external-entity bodies. A child element with
    children becomes a nested dict, and a tag repeated under one parent
    becomes a list.

    Raises ``TooLarge`` over ``max_bytes`` and ``BadPayload`` for anything
    that is not well-formed ``<xml>`` without a DTD.
    """
    if isinstance(body, str):
        body = body.encode()
    if len(body) > max_bytes:
        raise TooLarge(f"body is {len(body)} bytes, limit is {max_bytes}")

    try:
        root = defused_fromstring(
            body, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except (DefusedXmlException, ParseError, LookupError, UnicodeError) as exc:
        # LookupError: an unknown encoding named in the XML declaration.
        raise BadPayload(f"XML rejected: {type(exc).__name__}") from None
    if root.tag != "xml":
        raise BadPayload(f"root element is <{root.tag}>, expected <xml>")

    fields = _element_value(root, depth=1)
    return fields if isinstance(fields, dict) else {}


def _element_value(element, depth):
    if depth > MAX_XML_DEPTH:
        raise BadPayload(f"XML is nested deeper than {MAX_XML_DEPTH} levels")
    children = list(element)
    if not children:
        return element.text or ""

    value = {}
    for child in children:
        child_value = _element_value(child, depth + 1)
        if child.tag not in value:
            value[child.tag] = child_value
        elif isinstance(value[child.tag], list):
            value[child.tag].append(child_value)
        else:
            value[child.tag] = [value[child.tag], child_value]
    return value


class CallbackCodec:
    """Signature checks, parsing and reply encryption for one service account.

    ``aes_key`` is the EncodingAESKey, needed only when the account is in
    safe or compatible mode (WeChat then adds ``encrypt_type=aes`` to the
    query). ``max_bytes`` limits the body size. ``max_age`` limits how far
    the push's timestamp may be from now in seconds, and 0 turns that check
    off.
    """

    def __init__(self, token, appid, aes_key=None, max_bytes=64 * 1024, max_age=300):
        self.token = token
        self.appid = appid
        self.key = crypto.decode_aes_key(aes_key) if aes_key else None
        self.max_bytes = max_bytes
        self.max_age = max_age

    def __repr__(self):
        return f"CallbackCodec(appid={self.appid!r})"

    def verify_url(self, query, now=None):
        """Return ``echostr`` after checking the signature of WeChat's GET check.

        WeChat sends this GET when the callback URL is saved in its console,
        and expects ``echostr`` back as the body.
        """
        self._verify_query(query, now)
        return query.get("echostr") or ""

    def parse(self, body, query, now=None):
        """Verify a POST push and return its message fields as a dict.

        ``query`` is the request's query mapping (Flask's ``request.args``).
        In safe mode the ``Encrypt`` envelope is checked against
        ``msg_signature``, decrypted, and the inner XML parsed with the same
        safe parser. The result never contains the ciphertext.
        """
        if not is_safe_mode(query):
            self._verify_query(query, now)
            return parse_xml(body, self.max_bytes)

        if self.key is None:
            raise BadPayload("encrypted push received but no EncodingAESKey is set")
        if query.get("signature"):
            self._verify_query(query, now)
        else:
            crypto.check_timestamp(query.get("timestamp"), self.max_age, now)

        envelope = parse_xml(body, self.max_bytes)
        encrypted = envelope.get("Encrypt")
        if not encrypted or not isinstance(encrypted, str):
            raise BadPayload("encrypted push has no Encrypt element")
        crypto.verify_msg_signature(
            self.token,
            query.get("msg_signature"),
            query.get("timestamp"),
            query.get("nonce"),
            encrypted,
        )
        return parse_xml(
            crypto.decrypt(encrypted, self.key, self.appid), self.max_bytes
        )

    def render_reply(self, reply_xml, query, now=None):
        """Return the passive reply body, encrypted when the push was.

        WeChat expects an encrypted reply to an encrypted push, signed with
        a fresh timestamp and nonce.
        """
        if not is_safe_mode(query):
            return reply_xml

        timestamp = str(int(time.time() if now is None else now))
        nonce = str(secrets.randbelow(10**10))
        encrypted = crypto.encrypt(reply_xml.encode(), self.key, self.appid)
        signature = crypto.compute_signature(self.token, timestamp, nonce, encrypted)
        return (
            f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp>"
            f"<Nonce><![CDATA[{nonce}]]></Nonce></xml>"
        )

    def _verify_query(self, query, now):
        crypto.check_timestamp(query.get("timestamp"), self.max_age, now)
        crypto.verify_signature(
            self.token,
            query.get("signature"),
            query.get("timestamp"),
            query.get("nonce"),
        )


def is_safe_mode(query):
    """Return True when WeChat encrypted the push (safe or compatible mode)."""
    return query.get("encrypt_type") == "aes"


def binding_scene(message):
    """Return the QR scene a subscribe or SCAN event carries, or None.

    A new follower's ``subscribe`` has EventKey ``qrscene_<scene>``, and an
    existing follower's ``SCAN`` has the bare scene. A plain subscribe may
    have an empty key or an unrelated one (``last_trade_no_...``), and
    those give None.
    https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html
    """
    if message.get("MsgType") != "event":
        return None
    event = message.get("Event")
    event_key = message.get("EventKey")
    if not isinstance(event_key, str):
        return None

    if event == "subscribe" and event_key.startswith(SUBSCRIBE_SCENE_PREFIX):
        return event_key[len(SUBSCRIBE_SCENE_PREFIX) :] or None
    if event == "SCAN":
        return event_key or None
    return None


def dedup_key(message):
    """Return a key that is equal for WeChat's retries of one push.

    WeChat retries a push it got no reply to within five seconds, up to
    three times. Messages are identified by MsgId. Events have no id, so
    the key is sender and CreateTime, plus the event name and MsgID (of a
    template send result) so that two different events in one second stay
    apart.
    """
    if message.get("MsgId"):
        return f"msg:{message['MsgId']}"
    parts = [
        message.get("FromUserName", ""),
        message.get("CreateTime", ""),
        message.get("Event", ""),
        message.get("MsgID", ""),
    ]
    return "event:" + ":".join(str(part) for part in parts)


def build_text_reply(message, content, now=None):
    """Return the XML of a passive text reply to ``message``.

    A passive reply swaps the sender and recipient of the push it replies to.
    """
    create_time = int(time.time() if now is None else now)
    return (
        "<xml>"
        f"<ToUserName>{_cdata(message.get('FromUserName', ''))}</ToUserName>"
        f"<FromUserName>{_cdata(message.get('ToUserName', ''))}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{_cdata(content)}</Content>"
        "</xml>"
    )


def _cdata(text):
    # "]]>" would end the section early, so it is split across two sections.
    return "<![CDATA[" + str(text).replace("]]>", "]]]]><![CDATA[>") + "]]>"
