"""Value rules of category template fields, keyed by the type prefix of the key.

A field key is its type plus a number (``thing1``, ``character_string2``).
The limits are WeChat's table "参数值内容限制说明" in the subscription
message send documentation, which category templates of service accounts
share. Lengths count Unicode characters. A time or date may be a range of two
values joined by "~". Types outside the table (``enum`` and others) are only
checked for being non-empty.
"""

import re

CHINESE = "\u4e00-\u9fff"
ASCII_SYMBOLS = re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")

DATE = r"\d{4}年\d{1,2}月\d{1,2}日|\d{4}-\d{1,2}-\d{1,2}|\d{4}/\d{1,2}/\d{1,2}"
CLOCK = r"(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d)?"
TIME_POINT = re.compile(rf"(?:(?:{DATE})\s*)?{CLOCK}")
DATE_POINT = re.compile(rf"(?:{DATE})(?:\s*{CLOCK})?")

PATTERNS = {
    "number": re.compile(r"\d+(?:\.\d+)?"),
    "letter": re.compile(r"[A-Za-z]+"),
    "symbol": re.compile(rf"[{ASCII_SYMBOLS}]+"),
    "character_string": re.compile(r"[!-~]+"),
    "amount": re.compile(r"[¥￥$€£]?\d{1,10}(?:\.\d{1,2})?元?"),
    "phone_number": re.compile(r"[\d+\-() ]+"),
    "car_number": re.compile(rf"[{CHINESE}A-Z0-9][A-Z0-9]{{0,6}}[{CHINESE}A-Z0-9]?"),
    "phrase": re.compile(rf"[{CHINESE}]+"),
}

MAX_LENGTHS = {
    "thing": 20,
    "number": 32,
    "letter": 32,
    "symbol": 5,
    "character_string": 32,
    "phone_number": 17,
    "car_number": 8,
    "phrase": 5,
}


def field_type(key):
    """Return the type prefix of a field key (``thing`` for ``thing12``)."""
    return key.rstrip("0123456789")


def is_valid_value(key, value):
    """Return whether ``value`` may fill the field ``key`` of a category template."""
    if not isinstance(value, str) or not value.strip():
        return False
    kind = field_type(key)
    limit = MAX_LENGTHS.get(kind)
    if limit is not None and len(value) > limit:
        return False
    if kind in ("time", "date"):
        return _is_time_range(kind, value)
    if kind == "name":
        return _is_name(value)
    pattern = PATTERNS.get(kind)
    return pattern is None or pattern.fullmatch(value) is not None


def _is_time_range(kind, value):
    pattern = TIME_POINT if kind == "time" else DATE_POINT
    parts = value.split("~")
    if len(parts) > 2:
        return False
    return all(pattern.fullmatch(part.strip()) for part in parts)


def _is_name(value):
    """Accept up to 10 Chinese characters, or up to 20 letters and symbols.

    A name that mixes Chinese and letters counts as Chinese, so 10 at most.
    """
    if re.search(rf"[{CHINESE}]", value):
        return len(value) <= 10
    return re.fullmatch(r"[A-Za-z .·\-']{1,20}", value) is not None
