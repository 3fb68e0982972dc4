"""The form schema: categories and fields, loaded from one data file.

The same schema drives server validation, completeness, the mini-program
form, the review screen and the export columns.
"""

import json
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from models import validators
from models.validators import FieldInvalid

TEXT_TYPES = ("text", "textarea")


@dataclass
class CategoryResult:
    """Outcome of checking one category's data against the schema."""

    data: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)
    missing: list = field(default_factory=list)
    required_count: int = 0

    @property
    def completeness(self):
        if self.required_count == 0:
            return 100
        filled = self.required_count - len(self.missing)
        return filled * 100 // self.required_count

    @property
    def complete(self):
        return not self.missing and not self.errors


class FormSchema:
    def __init__(self, document):
        self.document = document
        self.categories = {item["key"]: item for item in document["categories"]}

    @property
    def category_keys(self):
        return [item["key"] for item in self.document["categories"]]

    def label(self, category):
        return self.categories[category]["label"]

    def fields(self, category):
        return self.categories[category]["fields"]

    def validate(self, category, raw, *, town_name=None, file_exists=None, today=None):
        """Check ``raw`` (a dict of field key to value) for ``category``.

        Empty values count as missing rather than invalid, so a partly filled
        form can be kept as a draft. ``town_name`` fills the read-only town
        field, and ``file_exists(file_id)`` returns whether an uploaded file
        may be referenced by this user.
        """
        result = CategoryResult()
        fields = self.fields(category)
        known = {spec["key"] for spec in fields}
        for key in raw:
            if key not in known:
                result.errors[key] = (
                    f"不是“{self.label(category)}”的字段，请刷新表单后重试"
                )

        for spec in fields:
            if spec.get("required"):
                result.required_count += 1
            value = town_name if spec["type"] == "town" else raw.get(spec["key"])
            if _is_empty(value):
                if spec.get("required"):
                    result.missing.append(spec["key"])
                continue
            try:
                result.data[spec["key"]] = _clean(spec, value, file_exists, today)
            except FieldInvalid as exc:
                result.errors[spec["key"]] = f"{spec['label']}{exc}"

        _check_cross_field(fields, result)
        return result


def _is_empty(value):
    return value is None or (isinstance(value, str) and value.strip() == "")


def _clean(spec, value, file_exists, today):
    kind = spec["type"]
    if kind in TEXT_TYPES:
        return _clean_text(spec, value)
    if kind in ("number", "integer"):
        return _clean_number(spec, value)
    if kind == "date":
        return _clean_date(spec, value, today)
    if kind == "select":
        if value not in spec["options"]:
            raise FieldInvalid("应从选项中选择：" + "、".join(spec["options"]))
        return value
    if kind == "town":
        return value
    if kind == "file":
        return _clean_file(value, file_exists)
    checker = {
        "id_number": lambda text: validators.validate_id_number(text, today),
        "credit_code": validators.validate_credit_code,
        "mobile": validators.validate_mobile,
        "phone": validators.validate_phone,
    }[kind]
    if not isinstance(value, str):
        raise FieldInvalid("应为文本")
    return checker(value)


def _clean_text(spec, value):
    if not isinstance(value, str):
        raise FieldInvalid("应为文本")
    text = value.strip()
    limit = spec.get("max_length")
    if limit and len(text) > limit:
        raise FieldInvalid(f"不能超过{limit}个字，当前为{len(text)}个字，请删减")
    return text


def _clean_number(spec, value):
    number = validators.parse_decimal(value)
    unit = spec.get("unit", "")
    if spec["type"] == "integer":
        if number != number.to_integral_value():
            raise FieldInvalid("应为整数，请去掉小数部分")
        number = int(number)
    low, high = spec.get("min"), spec.get("max")
    if low is not None and spec.get("exclusive_min") and number <= low:
        raise FieldInvalid(f"应大于{low}{unit}，请填写实际数值")
    if low is not None and number < low:
        raise FieldInvalid(f"不能小于{low}{unit}，请填写实际数值")
    if high is not None and number > high:
        raise FieldInvalid(f"不能大于{high}{unit}，请核对数值和单位")
    if isinstance(number, int):
        return number
    return float(round(number, 2))


def _clean_date(spec, value, today):
    if not isinstance(value, str):
        raise FieldInvalid("应为日期文本，格式YYYY-MM-DD")
    parsed = validators.parse_date(value)
    if spec.get("not_future") and parsed > (today or date.today()):
        raise FieldInvalid("不能晚于今天，请核对日期")
    return parsed.isoformat()


def _clean_file(value, file_exists):
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldInvalid("应为已上传文件的编号，请重新上传")
    if file_exists is not None and not file_exists(value):
        raise FieldInvalid("对应的文件不存在或无权使用，请重新上传")
    return value


def _check_cross_field(fields, result):
    for spec in fields:
        other = spec.get("not_before")
        if not other:
            continue
        start, end = result.data.get(other), result.data.get(spec["key"])
        if start and end and end < start:
            start_label = next(item["label"] for item in fields if item["key"] == other)
            result.errors[spec["key"]] = (
                f"{spec['label']}不能早于{start_label}（{start}），请核对合同日期"
            )


@lru_cache(maxsize=8)
def load_schema(path):
    with open(path, encoding="utf-8") as handle:
        return FormSchema(json.load(handle))
