"""Typed template field rules, with valid and invalid values for each type."""

import pytest

from wechat_sandbox.fields import field_type, is_valid_value

VALID = [
    ("thing1", "桂城街道"),
    ("thing1", "一二三四五六七八九十一二三四五六七八九十"),
    ("thing3", "提交12 复核8"),
    ("number2", "42"),
    ("number2", "3.5"),
    ("number2", "1" * 32),
    ("character_string2", "NH-2026-0001"),
    ("character_string2", "a" * 32),
    ("time4", "2026年12月04日 09:00"),
    ("time4", "2026-12-04 09:00"),
    ("time4", "09:00"),
    ("time4", "2026年12月4日 9:00~2026年12月4日 17:30"),
    ("date5", "2026年12月04日"),
    ("date5", "2026-12-04 09:00"),
    ("phrase2", "基本信息"),
    ("phrase2", "已退回"),
    ("letter1", "ABCdef"),
    ("symbol1", "#*"),
    ("amount1", "¥99.00"),
    ("amount1", "39.8元"),
    ("phone_number1", "+86-0757-86282000"),
    ("car_number1", "粤A8Z888挂"),
    ("name1", "陈小明"),
    ("name1", "Alice Chan"),
    ("enum1", "anything"),
]

INVALID = [
    ("thing1", "一二三四五六七八九十一二三四五六七八九十一"),
    ("thing1", ""),
    ("thing1", "   "),
    ("number2", "12a"),
    ("number2", "-3"),
    ("number2", "1.2.3"),
    ("number2", "1" * 33),
    ("character_string2", "编号001"),
    ("character_string2", "a b"),
    ("character_string2", "a" * 33),
    ("time4", "2026年12月04日"),
    ("time4", "明天上午"),
    ("time4", "24:00"),
    ("time4", "2026-12-04 09:60"),
    ("date5", "09:00"),
    ("phrase2", "基本信息补充"),
    ("phrase2", "ok"),
    ("phrase2", "退回1"),
    ("letter1", "abc1"),
    ("symbol1", "######"),
    ("amount1", "九十九元"),
    ("phone_number1", "电话0757"),
    ("car_number1", "粤A8Z888挂X"),
    ("name1", "陈小明陈小明陈小明陈小"),
    ("thing1", 42),
]


@pytest.mark.parametrize(("key", "value"), VALID)
def test_valid_values_are_accepted(key, value):
    assert is_valid_value(key, value) is True


@pytest.mark.parametrize(("key", "value"), INVALID)
def test_invalid_values_are_rejected(key, value):
    assert is_valid_value(key, value) is False


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("thing1", "thing"),
        ("character_string12", "character_string"),
        ("phone_number3", "phone_number"),
        ("time", "time"),
    ],
)
def test_field_type_strips_number(key, kind):
    assert field_type(key) == kind
