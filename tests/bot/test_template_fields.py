import json
from datetime import datetime
from pathlib import Path

import pytest

from bot.errors import TemplateConfigError, TemplateFieldError
from bot.template_fields import (
    check_field,
    cut_thing,
    field_type,
    format_time,
    load_templates,
)

TEMPLATES_FILE = Path(__file__).resolve().parents[2] / "data" / "wechat_templates.json"

RETURN_NOTICE = {
    "thing1": "桂城花园二期",
    "phrase2": "基本信息",
    "thing3": "物业服务合同期限填写有误",
    "time4": "2026年12月04日 09:00",
}


@pytest.fixture(scope="module")
def catalog():
    return load_templates(TEMPLATES_FILE)


def test_project_templates_file_loads(catalog):
    assert sorted(catalog.templates) == [
        "digest",
        "notice",
        "reminder",
        "return_notice",
        "staff_reminder",
    ]
    assert catalog.get("return_notice").template_id == (
        "Nh7dGstP0qZ1cXvEntryReturnedNotice000000003"
    )


def test_build_template_data_returns_wechat_shape(catalog):
    data = catalog.build_template_data("return_notice", RETURN_NOTICE)

    assert data == {
        "thing1": {"value": "桂城花园二期"},
        "phrase2": {"value": "基本信息"},
        "thing3": {"value": "物业服务合同期限填写有误"},
        "time4": {"value": "2026年12月04日 09:00"},
    }


def test_build_template_data_accepts_int_number(catalog):
    values = {
        "thing1": "桂城街道",
        "number2": 12,
        "thing3": "最早一条已等待3天",
        "time4": "2026年12月04日 10:00",
    }

    data = catalog.build_template_data("reminder", values)

    assert data["number2"] == {"value": "12"}


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("thing1", "桂" * 21, "is 21 characters, thing allows 20"),
        ("thing3", "", "is empty"),
        ("thing3", "   ", "is empty"),
        ("thing3", "第一行\n第二行", "contains a line break or control character"),
        ("phrase2", "其他信息补充", "is 6 characters, phrase allows 5"),
        ("phrase2", "basic", "must contain only Chinese characters"),
        ("phrase2", "基本 信息", "must contain only Chinese characters"),
        ("time4", "2026-12-04 09:00", "time must look like 2026年12月04日 09:00"),
        ("time4", "2026年02月30日 09:00", "time must look like 2026年12月04日 09:00"),
        ("time4", "2026年12月04日 24:00", "time must look like 2026年12月04日 09:00"),
        ("time4", "明天上午", "time must look like 2026年12月04日 09:00"),
    ],
)
def test_invalid_field_names_field(catalog, field, value, reason):
    values = dict(RETURN_NOTICE, **{field: value})

    with pytest.raises(TemplateFieldError) as caught:
        catalog.build_template_data("return_notice", values)

    assert caught.value.field == field
    assert caught.value.kind == "return_notice"
    assert caught.value.reason == reason


def test_missing_field_rejected(catalog):
    values = dict(RETURN_NOTICE)
    del values["thing3"]

    with pytest.raises(TemplateFieldError) as caught:
        catalog.build_template_data("return_notice", values)

    assert caught.value.field == "thing3"
    assert caught.value.reason == "is missing"


def test_unknown_field_rejected(catalog):
    values = dict(RETURN_NOTICE, first="您有一条退回通知")

    with pytest.raises(TemplateFieldError) as caught:
        catalog.build_template_data("return_notice", values)

    assert caught.value.field == "first"
    assert caught.value.reason == "is not a field of this template"


def test_unknown_kind_rejected(catalog):
    with pytest.raises(TemplateConfigError):
        catalog.build_template_data("birthday", {})


@pytest.mark.parametrize(
    ("type_name", "text"),
    [
        ("thing", "桂" * 20),
        ("thing", "A栋-3单元（含地下车库）"),
        ("number", "12"),
        ("number", "3.75"),
        ("number", "9" * 32),
        ("character_string", "91440605MA4UXXXX1X"),
        ("character_string", "A-" + "0" * 30),
        ("phrase", "待复核"),
        ("phrase", "已通过复核"),
        ("time", "09:00"),
        ("time", "2026年12月04日 09:00"),
        ("time", "2026年1月4日 9:05"),
        ("time", "2026年12月04日 09:00~2026年12月04日 17:00"),
        ("date", "2026年12月31日"),
        ("date", "2026年12月31日 17:00"),
    ],
)
def test_valid_values_pass(type_name, text):
    assert check_field(type_name, text) is None


@pytest.mark.parametrize(
    ("type_name", "text", "reason"),
    [
        ("number", "12个", "must contain only digits, with an optional decimal part"),
        ("number", "-3", "must contain only digits, with an optional decimal part"),
        ("number", "9" * 33, "has 33 digits, number allows 32"),
        ("number", "１２", "must contain only digits, with an optional decimal part"),
        ("character_string", "A" * 33, "is 33 characters, character_string allows 32"),
        (
            "character_string",
            "编号123",
            "must contain only ASCII letters, digits and symbols, no Chinese",
        ),
        ("date", "12/31/2026", "date must look like 2026年12月04日"),
        ("time", "09:00~", "time must look like 2026年12月04日 09:00"),
    ],
)
def test_invalid_values_give_reason(type_name, text, reason):
    assert check_field(type_name, text) == reason


@pytest.mark.parametrize(
    ("key", "type_name"),
    [
        ("thing1", "thing"),
        ("number12", "number"),
        ("character_string3", "character_string"),
        ("time6", "time"),
    ],
)
def test_field_type_from_key(key, type_name):
    assert field_type(key) == type_name


def test_cut_thing_shortens_with_ellipsis():
    opinion = "物业服务合同的起止日期与上传的合同扫描件不一致，请核对后重新填写"

    cut = cut_thing(opinion)

    assert cut == "物业服务合同的起止日期与上传的合同扫描…"
    assert len(cut) == 20
    assert check_field("thing", cut) is None


def test_cut_thing_keeps_short_text():
    assert cut_thing("请补充电梯数量") == "请补充电梯数量"


def test_cut_thing_collapses_line_breaks():
    assert cut_thing("第一条\n\n  第二条") == "第一条 第二条"


def test_cut_thing_keeps_exactly_twenty_characters():
    assert cut_thing("桂" * 20) == "桂" * 20


def test_format_time_matches_time_rule():
    text = format_time(datetime(2026, 12, 4, 9, 0))

    assert text == "2026年12月04日 09:00"
    assert check_field("time", text) is None


def test_unsupported_field_type_rejected_at_load(tmp_path):
    path = tmp_path / "templates.json"
    document = {
        "templates": {
            "odd": {"template_id": "T1", "fields": {"amount1": "金额"}},
        }
    }
    path.write_text(json.dumps(document), encoding="utf-8")

    with pytest.raises(TemplateConfigError) as caught:
        load_templates(path)

    assert str(caught.value) == "template odd: unsupported field amount1"


def test_missing_templates_file_rejected(tmp_path):
    with pytest.raises(TemplateConfigError):
        load_templates(tmp_path / "absent.json")


def test_templates_file_without_templates_key_rejected(tmp_path):
    path = tmp_path / "templates.json"
    path.write_text("{}", encoding="utf-8")

    with pytest.raises(TemplateConfigError):
        load_templates(path)


def test_template_without_template_id_rejected(tmp_path):
    path = tmp_path / "templates.json"
    document = {"templates": {"odd": {"fields": {"thing1": "项目"}}}}
    path.write_text(json.dumps(document), encoding="utf-8")

    with pytest.raises(TemplateConfigError) as caught:
        load_templates(path)

    assert str(caught.value) == "template odd: needs template_id and fields"
