"""Field validators with the real rules, and Chinese messages that name the fix.

Every validator takes the raw value and returns the cleaned value, or raises
``FieldInvalid`` with a message for the user. Full-width digits and letters
are folded to half-width first, because phone keyboards often produce them.
"""

import re
from datetime import date
from decimal import Decimal, InvalidOperation


class FieldInvalid(ValueError):
    """A value that breaks a field rule; ``str(exc)`` is the Chinese message."""


def fold_width(text):
    """Map full-width forms (U+FF01..U+FF5E) and the ideographic space to ASCII."""
    folded = []
    for char in text:
        code = ord(char)
        if 0xFF01 <= code <= 0xFF5E:
            folded.append(chr(code - 0xFEE0))
        elif code == 0x3000:
            folded.append(" ")
        else:
            folded.append(char)
    return "".join(folded)


def _compact(value):
    """Fold width and drop all whitespace."""
    return re.sub(r"\s+", "", fold_width(str(value)))


# GB 11643-1999: weights 2^(17-i) mod 11 for the first 17 digits, and the
# check character indexed by the weighted sum mod 11.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"


def id_number_check_char(first17):
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS))
    return ID_CHECK_CHARS[total % 11]


def validate_id_number(value, today=None):
    """Validate an 18-character resident ID number (GB 11643)."""
    text = _compact(value).upper()
    if len(text) != 18:
        raise FieldInvalid(f"应为18位，当前为{len(text)}位，请核对后重新填写")
    if not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        raise FieldInvalid("前17位应为数字，最后一位为数字或X，请核对后重新填写")
    if text[0] == "0":
        raise FieldInvalid("地址码不正确（首位不能为0），请核对后重新填写")

    try:
        birth = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise FieldInvalid(
            "出生日期（第7至14位）不是有效日期，请核对后重新填写"
        ) from None
    today = today or date.today()
    if birth > today or birth.year < 1900:
        raise FieldInvalid("出生日期（第7至14位）不在合理范围，请核对后重新填写")

    if id_number_check_char(text[:17]) != text[17]:
        raise FieldInvalid("校验位不正确，请核对号码，特别是最后一位")
    return text


# GB 32100-2015: the code alphabet omits I, O, Z, S and V.
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17):
    total = sum(
        CREDIT_ALPHABET.index(char) * weight
        for char, weight in zip(first17, CREDIT_WEIGHTS)
    )
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value):
    """Validate an 18-character unified social credit code (GB 32100)."""
    text = _compact(value).upper()
    if len(text) != 18:
        raise FieldInvalid(f"应为18位，当前为{len(text)}位，请核对营业执照后重新填写")
    forbidden = sorted({char for char in text if char in "IOZSV"})
    if forbidden:
        raise FieldInvalid(
            "不能包含字母" + "、".join(forbidden) + "，请核对营业执照上的代码"
        )
    if any(char not in CREDIT_ALPHABET for char in text):
        raise FieldInvalid("只能由数字和大写字母组成，请核对营业执照上的代码")
    if credit_code_check_char(text[:17]) != text[17]:
        raise FieldInvalid("校验位不正确，请核对营业执照上的代码，特别是最后一位")
    return text


def validate_mobile(value):
    """Validate a mainland mobile number; +86, spaces and hyphens are removed."""
    text = _compact(value).replace("-", "")
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    if not re.fullmatch(r"1[3-9]\d{9}", text):
        raise FieldInvalid("应为11位手机号码，以13至19开头，请核对后重新填写")
    return text


def validate_phone(value):
    """Validate a mobile number or a landline such as 0757-83380526."""
    try:
        return validate_mobile(value)
    except FieldInvalid:
        pass
    text = _compact(value)
    if re.fullmatch(r"0\d{2,3}-?\d{7,8}(-\d{1,6})?", text):
        return text
    if re.fullmatch(r"[48]00-?\d{3}-?\d{4}", text):
        return text
    raise FieldInvalid(
        "应为手机号码或带区号的固定电话（如0757-83380526），请核对后重新填写"
    )


def parse_date(value):
    text = _compact(value).replace("/", "-").replace(".", "-")
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if not match:
        raise FieldInvalid("日期格式应为YYYY-MM-DD，如2024-01-31")
    try:
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise FieldInvalid("不是有效日期，请核对年月日") from None


def parse_decimal(value):
    if isinstance(value, bool):
        raise FieldInvalid("应为数字")
    text = _compact(value).replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise FieldInvalid("应为数字，请只填写数值（单位无需填写）") from None
    if not number.is_finite():
        raise FieldInvalid("应为有限的数字")
    return number
