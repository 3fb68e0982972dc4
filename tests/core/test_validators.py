"""The field validators with real valid and invalid examples."""

from datetime import date

import pytest

from models.form_schema import load_schema
from models.validators import (
    FieldInvalid,
    fold_width,
    validate_credit_code,
    validate_id_number,
    validate_mobile,
    validate_phone,
)
from wxapp_backend.config import ROOT

TODAY = date(2026, 12, 4)
SCHEMA = load_schema(str(ROOT / "data" / "form_schema.json"))


@pytest.mark.parametrize("raw, cleaned", [
    ("11010519491231002X", "11010519491231002X"),
    ("44011320141005001x", "44011320141005001X"),
    ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
    (" 110105 19491231 002X ", "11010519491231002X"),
])
def test_id_number_valid(raw, cleaned):
    assert validate_id_number(raw, TODAY) == cleaned


@pytest.mark.parametrize("raw, fragment", [
    ("36042619910102009X", "校验位不正确"),
    ("360426199113010079", "出生日期"),
    ("11010519491231002", "应为18位，当前为17位"),
    ("1101051949123100AX", "前17位应为数字"),
    ("110105202712310025", "不在合理范围"),
])
def test_id_number_invalid(raw, fragment):
    with pytest.raises(FieldInvalid) as caught:
        validate_id_number(raw, TODAY)
    assert fragment in str(caught.value)


def test_id_number_future_birth_rejected():
    # 2026-12-05 is tomorrow relative to TODAY; check digit computed for it.
    from models.validators import id_number_check_char

    first17 = "11010520261205001"
    with pytest.raises(FieldInvalid) as caught:
        validate_id_number(first17 + id_number_check_char(first17), TODAY)
    assert "不在合理范围" in str(caught.value)


@pytest.mark.parametrize("raw", ["91110000600037341L", "9111 0000 6000 3734 1L",
                                 "91110000600037341l", "９１１１００００６０００３７３４１Ｌ"])
def test_credit_code_valid(raw):
    assert validate_credit_code(raw) == "91110000600037341L"


def test_credit_code_wrong_check_character():
    with pytest.raises(FieldInvalid) as caught:
        validate_credit_code("91110000600037341N")
    assert "校验位不正确" in str(caught.value)


def test_credit_code_forbidden_letters_named():
    with pytest.raises(FieldInvalid) as caught:
        validate_credit_code("9111000060003IOZSV")
    assert str(caught.value) == "不能包含字母I、O、S、V、Z，请核对营业执照上的代码"


@pytest.mark.parametrize("raw", ["13800138000", "+86 138-0013-8000", "0086 13800138000",
                                 "１３８００１３８０００", "19912345678"])
def test_mobile_valid(raw):
    assert validate_mobile(raw)[:3] in ("138", "199")
    assert len(validate_mobile(raw)) == 11


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "138001380001", "+1 13800138000"])
def test_mobile_invalid(raw):
    with pytest.raises(FieldInvalid) as caught:
        validate_mobile(raw)
    assert "11位手机号码" in str(caught.value)


def test_phone_accepts_landline():
    assert validate_phone("0757-83380526") == "0757-83380526"


def test_phone_rejects_short_number():
    with pytest.raises(FieldInvalid):
        validate_phone("83380")


def test_fold_width_maps_full_width_forms():
    assert fold_width("ＡＢＣ１２３　ｘ") == "ABC123 x"


def _basic(**changes):
    from tests.factories import VALID_BASIC

    data = dict(VALID_BASIC)
    data.update(changes)
    return data


def test_schema_complete_basic_has_no_errors():
    result = SCHEMA.validate("basic", _basic(), town_name="狮山镇", today=TODAY)
    assert result.errors == {}
    assert result.missing == []
    assert result.completeness == 100
    assert result.data["town"] == "狮山镇"


def test_schema_contract_end_before_start():
    result = SCHEMA.validate("basic", _basic(contract_start="2025-01-01",
                                             contract_end="2024-12-31"),
                             town_name="狮山镇", today=TODAY)
    assert list(result.errors) == ["contract_end"]
    assert "不能早于服务合同开始日期" in result.errors["contract_end"]


@pytest.mark.parametrize("field, value, fragment", [
    ("building_area", 0, "应大于0"),
    ("building_area", "-5", "应大于0"),
    ("households", 12.5, "应为整数"),
    ("households", -1, "不能小于0"),
    ("fee", "abc", "应为数字"),
    ("property_type", "别墅", "应从选项中选择"),
    ("delivery_date", "2030-01-01", "不能晚于今天"),
    ("delivery_date", "2024-02-30", "不是有效日期"),
    ("company_credit_code", "91110000600037341N", "校验位不正确"),
])
def test_schema_field_errors_name_field(field, value, fragment):
    result = SCHEMA.validate("basic", _basic(**{field: value}), town_name="狮山镇",
                             today=TODAY)
    assert list(result.errors) == [field]
    assert fragment in result.errors[field]


def test_schema_full_width_number_folded():
    result = SCHEMA.validate("basic", _basic(households="６４０"), town_name="狮山镇",
                             today=TODAY)
    assert result.data["households"] == 640


def test_schema_missing_required_is_not_error():
    result = SCHEMA.validate("basic", {"project_name": "甲"}, town_name="狮山镇", today=TODAY)
    assert result.errors == {}
    assert "address" in result.missing
    assert result.completeness == 2 * 100 // 17


def test_schema_unknown_field_rejected():
    result = SCHEMA.validate("other", {"hacker": 1}, today=TODAY)
    assert "hacker" in result.errors
