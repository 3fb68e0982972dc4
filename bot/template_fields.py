"""Template message kinds from the templates file, and WeChat's field rules.

The service account uses category templates: no first or remark line, no
colours, and typed fields whose key names the type (``thing1``,
``time4``). WeChat rejects a value that breaks its type's rule with
errcode 47003, so values are checked here first and the error names the
field. WeChat documents the type rules with its subscription message API:
https://developers.weixin.qq.com/miniprogram/dev/OpenApiDoc/mp-message-management/subscribe-message/sendMessage.html
"""

import json
import re
from dataclasses import dataclass
from datetime import datetime

from bot.errors import TemplateConfigError, TemplateFieldError

THING_MAX_LENGTH = 20
ELLIPSIS = "…"

_FIELD_KEY = re.compile(r"^([a-z_]+?)(\d+)$")
_CHINESE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NUMBER = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_PRINTABLE_ASCII = re.compile(r"^[\x20-\x7e]+$")
_CLOCK = r"[0-9]{1,2}:[0-9]{2}"
_CHINESE_DATE = r"[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日"
_TIME = re.compile(rf"^(?:(?P<date>{_CHINESE_DATE}) )?(?P<clock>{_CLOCK})$")
_DATE = re.compile(rf"^(?P<date>{_CHINESE_DATE})(?: (?P<clock>{_CLOCK}))?$")


@dataclass(frozen=True)
class TemplateSpec:
    """One template kind: its WeChat template_id, title and field labels."""

    kind: str
    template_id: str
    title: str
    fields: dict


class TemplateCatalog:
    """Template kinds loaded from the templates file (``WECHAT_TEMPLATES_FILE``)."""

    def __init__(self, templates):
        self.templates = templates

    def get(self, kind):
        """Return the ``TemplateSpec`` of ``kind``, or raise ``TemplateConfigError``."""
        try:
            return self.templates[kind]
        except KeyError:
            raise TemplateConfigError(f"unknown template kind {kind!r}") from None

    def build_template_data(self, kind, values):
        """Return ``values`` in WeChat's shape, ``{"thing1": {"value": "..."}}``.

        ``values`` maps every field key of the template to its text (numbers
        may be ints). Raises ``TemplateFieldError`` naming the first field
        that is missing, unknown or breaks its type's rule.
        """
        spec = self.get(kind)
        unknown = sorted(set(values) - set(spec.fields))
        if unknown:
            raise TemplateFieldError(
                kind, unknown[0], "is not a field of this template"
            )

        data = {}
        for key in spec.fields:
            if key not in values:
                raise TemplateFieldError(kind, key, "is missing")
            text = str(values[key])
            reason = check_field(field_type(key), text)
            if reason:
                raise TemplateFieldError(kind, key, reason)
            data[key] = {"value": text}
        return data


def load_templates(path):
    """Load the templates file into a ``TemplateCatalog``.

    Raises ``TemplateConfigError`` when the file is unreadable or a field
    has a type that ``check_field`` does not know, so a bad file stops the
    app at start instead of failing the first send.
    """
    try:
        with open(path, encoding="utf-8") as file:
            document = json.load(file)
        entries = document["templates"].items()
    except (OSError, ValueError, KeyError, AttributeError) as exc:
        raise TemplateConfigError(f"cannot read templates file {path}: {exc}") from exc

    templates = {}
    for kind, entry in entries:
        templates[kind] = _template_spec(kind, entry)
    return TemplateCatalog(templates)


def _template_spec(kind, entry):
    fields = entry.get("fields") if isinstance(entry, dict) else None
    if not isinstance(fields, dict) or not entry.get("template_id"):
        raise TemplateConfigError(f"template {kind}: needs template_id and fields")
    for key in fields:
        if field_type(key) not in FIELD_CHECKS:
            raise TemplateConfigError(f"template {kind}: unsupported field {key}")
    return TemplateSpec(
        kind=kind,
        template_id=entry["template_id"],
        title=entry.get("title", ""),
        fields=dict(fields),
    )


def field_type(key):
    """Return the WeChat type of a field key: ``thing3`` gives ``thing``."""
    match = _FIELD_KEY.match(key)
    return match.group(1) if match else key


def check_field(type_name, text):
    """Return why ``text`` breaks the rule of ``type_name``, or None if it fits."""
    if not text or not text.strip():
        return "is empty"
    if _CONTROL.search(text):
        return "contains a line break or control character"
    return FIELD_CHECKS[type_name](text)


def _check_thing(text):
    if len(text) > THING_MAX_LENGTH:
        return f"is {len(text)} characters, thing allows {THING_MAX_LENGTH}"
    return None


def _check_number(text):
    if not _NUMBER.match(text):
        return "must contain only digits, with an optional decimal part"
    digits = sum(character.isdigit() for character in text)
    if digits > 32:
        return f"has {digits} digits, number allows 32"
    return None


def _check_character_string(text):
    if len(text) > 32:
        return f"is {len(text)} characters, character_string allows 32"
    if not _PRINTABLE_ASCII.match(text):
        return "must contain only ASCII letters, digits and symbols, no Chinese"
    return None


def _check_phrase(text):
    if len(text) > 5:
        return f"is {len(text)} characters, phrase allows 5"
    if not all(_CHINESE.match(character) for character in text):
        return "must contain only Chinese characters"
    return None


def _check_time(text):
    return _check_moments(text, _TIME, "time must look like 2026年12月04日 09:00")


def _check_date(text):
    return _check_moments(text, _DATE, "date must look like 2026年12月04日")


def _check_moments(text, pattern, hint):
    # WeChat accepts a range of two moments joined by "~".
    for part in text.split("~"):
        match = pattern.match(part.strip())
        if not match or not _is_real_moment(match["date"], match["clock"]):
            return hint
    return None


def _is_real_moment(date_text, clock_text):
    try:
        if date_text:
            datetime.strptime(date_text, "%Y年%m月%d日")
        if clock_text:
            datetime.strptime(clock_text, "%H:%M")
    except ValueError:
        return False
    return True


FIELD_CHECKS = {
    "thing": _check_thing,
    "number": _check_number,
    "character_string": _check_character_string,
    "phrase": _check_phrase,
    "time": _check_time,
    "date": _check_date,
}


def format_time(moment):
    """Format a datetime for a ``time`` field, as ``2026年12月04日 09:00``."""
    return moment.strftime("%Y年%m月%d日 %H:%M")


def cut_thing(text):
    """Shorten ``text`` to fit a ``thing`` field, ending with an ellipsis if cut.

    Line breaks and runs of spaces become one space, because WeChat shows
    a field on one line. Use it for free text such as a reviewer's opinion,
    whose full wording the mini-program page shows.
    """
    text = " ".join(str(text).split())
    if len(text) <= THING_MAX_LENGTH:
        return text
    return text[: THING_MAX_LENGTH - 1] + ELLIPSIS
