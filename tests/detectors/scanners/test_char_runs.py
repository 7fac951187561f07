"""The byte-table scans agree with the character scans they replace, on any text."""

from __future__ import annotations

import doctest
import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import detectors.scanners._char_runs as char_runs_module
from detectors.scanners._char_runs import AsciiRun, non_ascii_text

# Class characters, their neighbours and non-ASCII text (accents, CJK, an emoji, a lone
# surrogate as JSON may carry, a non-ASCII digit): runs form, break and straddle them.
_ALPHABET = st.sampled_from([
    "a", "Z", "7", "+", "/", "_", "-", "=", " ", "\n", ".", "é", "中", "😀", "\ud800", "٣",
])


@pytest.mark.parametrize("chars", [string.ascii_letters + string.digits + "+/",
                                   string.digits, "ab"])
@settings(derandomize=True, max_examples=300, database=None)
@given(text=st.lists(_ALPHABET, max_size=40).map("".join), length=st.integers(1, 6))
def test_a_run_is_found_exactly_where_the_regex_finds_one(
    chars: str, text: str, length: int
) -> None:
    expected = re.search(f"[{re.escape(chars)}]{{{length}}}", text) is not None
    assert AsciiRun(chars, length)(text) is expected


@settings(derandomize=True, max_examples=300, database=None)
@given(text=st.lists(_ALPHABET, max_size=40).map("".join))
def test_the_non_ascii_text_is_every_non_ascii_character_in_order(text: str) -> None:
    expected = "".join(char for char in text if not char.isascii())
    assert non_ascii_text(text.encode("utf-8", "surrogatepass")) == expected


def test_invalid_arguments_name_themselves() -> None:
    with pytest.raises(ValueError, match="^chars must be ASCII"):
        AsciiRun("é", 3)
    with pytest.raises(ValueError, match="^length must be at least 1"):
        AsciiRun("abc", 0)


def test_docstring_examples_run() -> None:
    results = doctest.testmod(char_runs_module)
    assert results.attempted > 0 and results.failed == 0
