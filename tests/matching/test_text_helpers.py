"""service.kit.text: the domain-free helpers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from service.kit.text import remove_spaces, to_halfwidth


def test_to_halfwidth_folds_letters_digits_punctuation_and_space() -> None:
    assert to_halfwidth("ＡＢＣ１２３（临汾路店）\u3000！") == "ABC123(临汾路店) !"


def test_to_halfwidth_leaves_cjk_and_ascii_alone() -> None:
    assert to_halfwidth("临汾路375号 abc") == "临汾路375号 abc"


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E)))
def test_to_halfwidth_inverts_the_fullwidth_block(ascii_text: str) -> None:
    fullwidth = "".join(chr(ord(char) + 0xFEE0) for char in ascii_text)
    assert to_halfwidth(fullwidth) == ascii_text


def test_remove_spaces() -> None:
    assert remove_spaces(" 临汾路\u3000375\u200b号 ") == "临汾路375号"
