"""Name normalisation and the keys an entity is found by."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.matching.names import (
    clean_name,
    core_name,
    is_placeholder_name,
    keys_of_one_name,
    name_keys,
    normalize_name,
    strip_organisation_form,
    strip_region_prefix,
)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("全家便利店（临汾路店）", "全家便利店"),
        ("全家便利店(临汾店)", "全家便利店"),
        ("全家便利店【临汾路店】", "全家便利店"),
        ("全家便利店（临汾路店", "全家便利店"),  # the closing bracket lost in truncation
        ("全家便利店 临汾路店", "全家便利店"),
        ("全家便利店临汾路店", "全家便利店"),
        ("老娘舅临汾路分店", "老娘舅"),
        ("老娘舅共和新路分店", "老娘舅"),
        ("老娘舅中山北路分店", "老娘舅"),
        ("老娘舅临汾分店", "老娘舅"),
        ("好德便利第一分店", "好德便利"),
        ("上海福满家便利有限公司闻喜路分店", "上海福满家便利有限公司"),
        ("联华超市股份有限公司共和新路分店", "联华超市股份有限公司"),
        ("ＡＢＣ　Café", "abccafé"),
        ("老王 · 面馆", "老王面馆"),
        ("  重庆小面  ", "重庆小面"),
        # Not branches: a trailing 店 that is the trade, or too little left.
        ("重庆小面店", "重庆小面店"),
        ("中山路店", "中山路店"),
        ("（临汾路店）", "临汾路店"),
    ],
)
def test_normalize_name(raw: str, normalised: str) -> None:
    assert normalize_name(raw) == normalised


@pytest.mark.parametrize(
    ("raw", "core"),
    [
        ("上海市静安区何娟重庆小面店", "何娟重庆小面"),
        ("上海鑫源物流有限公司", "鑫源物流"),
        ("上海鑫源物流有限责任公司", "鑫源物流"),
        ("上海王老师培训中心有限公司", "王老师培训中心"),
        ("联华超市股份有限公司共和新路分店", "联华超市"),
        ("上海福满家便利有限公司闻喜路分店", "福满家便利"),
        ("静安区临汾路门诊部", "临汾路门诊部"),
        ("上海市汾西路幼儿园", "汾西路幼儿园"),
        ("浦东新区张江小吃店", "张江小吃"),
        # Signboards that start with a place keep it: the place is part of the name.
        ("重庆小面", "重庆小面"),
        ("北京烤鸭店", "北京烤鸭"),
        ("临汾路社区卫生服务站", "临汾路社区卫生服务站"),
        ("临汾社区卫生服务站", "临汾社区卫生服务站"),
        ("联华超市", "联华超市"),
    ],
)
def test_core_name(raw: str, core: str) -> None:
    assert core_name(raw) == core


def test_region_prefix_is_kept_when_nothing_would_remain() -> None:
    assert strip_region_prefix("上海市") == "上海市"
    assert strip_region_prefix("静安区") == "静安区"


def test_organisation_form_is_kept_when_nothing_would_remain() -> None:
    assert strip_organisation_form("公司") == "公司"
    assert strip_organisation_form("小店") == "小店"
    assert strip_organisation_form("老王小店") == "老王小"


def test_legal_and_signboard_names_share_keys_with_department_spellings() -> None:
    keys = name_keys("重庆小面", "上海市静安区何娟重庆小面店", ())
    for written in ("重庆小面", "何娟重庆小面店", "静安区何娟重庆小面店", "上海市静安区何娟重庆小面店"):
        assert keys_of_one_name(written) & keys, written

    keys = name_keys("鑫源快递驿站", "上海鑫源物流有限公司", ())
    for written in ("鑫源快递驿站", "鑫源物流", "上海鑫源物流有限公司", "鑫源物流有限公司"):
        assert keys_of_one_name(written) & keys, written


def test_branch_spellings_share_keys() -> None:
    keys = name_keys("全家便利店（临汾路店）", "上海福满家便利有限公司临汾路分店", ())
    for written in ("全家便利店(临汾路店)", "全家便利店", "全家便利店临汾路店", "上海福满家便利有限公司临汾路分店"):
        assert keys_of_one_name(written) & keys, written


def test_aliases_are_keys() -> None:
    keys = name_keys("小何面馆", "上海市静安区何强面馆", ["新高面馆"])
    assert "新高面馆" in keys


def test_different_shops_share_no_key() -> None:
    assert not name_keys("老王面馆", None, ()) & name_keys("老李面馆", None, ())
    assert not name_keys("鑫源快递驿站", "上海鑫源物流有限公司", ()) & name_keys(
        "鑫达水果店", "上海鑫达商贸有限公司", ()
    )


def test_empty_names_have_no_keys() -> None:
    assert keys_of_one_name(None) == set()
    assert keys_of_one_name("") == set()
    assert keys_of_one_name("（）") == set()
    assert keys_of_one_name("王") == set()  # one character is not a name to search by
    assert name_keys("老王面馆", None, ("",)) == name_keys("老王面馆", None, ())


name_text = st.text(
    alphabet=st.sampled_from("老王李记鑫源面馆便利店临汾路分有限公司上海市静安区（）() ·ABCabc123１２３　"),
    max_size=24,
)


@given(name_text)
def test_clean_name_is_idempotent_and_has_no_punctuation(text: str) -> None:
    cleaned = clean_name(text)
    assert clean_name(cleaned) == cleaned
    assert all(char.isalnum() for char in cleaned)
    assert cleaned == cleaned.lower()


@given(name_text)
def test_keys_do_not_depend_on_width_or_spacing(text: str) -> None:
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if 0x21 <= ord(c) <= 0x7E else c for c in text)
    assert keys_of_one_name(fullwidth) == keys_of_one_name(text)
    assert keys_of_one_name(" ".join(text)) == keys_of_one_name(text)


@given(name_text)
def test_keys_are_nonempty_cleaned_strings(text: str) -> None:
    for key in keys_of_one_name(text):
        assert len(key) >= 2
        assert clean_name(key) == key


@pytest.mark.parametrize("placeholder", ["无", "不详", "未知", "N/A", "  暂无 ", "个体户", "/", "——", "null"])
def test_placeholder_names_have_no_keys(placeholder: str) -> None:
    assert is_placeholder_name(placeholder)
    assert keys_of_one_name(placeholder) == set()


def test_real_names_are_not_placeholders() -> None:
    assert not is_placeholder_name("无名居")
    assert not is_placeholder_name("老王面馆")
