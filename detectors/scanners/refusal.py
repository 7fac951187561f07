"""Refusal completions ("I'm sorry, but I can't help with that") and empty completions.

Phrases are matched on a normalised copy of the completion's opening: lower-cased, curly
quotes and apostrophes folded to straight ones and then dropped (``I’m`` → ``im``, ``can't``
→ ``cant``), every other non-alphanumeric character turned into one space. So the patterns are
insensitive to case, punctuation and typography, and are written once in that plain form.

Only the opening ``head_chars`` characters are read: models refuse up front, and a long answer
that quotes a refusal further down (a story, an FAQ about the assistant) is not a refusal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from detectors._validation import check_int

# Refusal phrases in normalised form (see module notes): lower case, no apostrophes, single
# spaces. ``_NEG`` is a first-person "cannot" in every spelling that survives normalisation.
_NEG = (
    r"(?:(?:i|we) (?:cant|cannot|can not|wont|will not|wont be able to|will not be able to"
    r"|am unable to|am not able to|are unable to|are not able to)|(?:im|were) (?:unable to"
    r"|not able to))"
)
_HELP_VERBS = (
    r"(?:help|assist|provide|comply|fulfil|fulfill|do that|do this|support|engage|generate"
    r"|create|write|share|produce|give|offer|answer|complete|participate|continue|discuss)"
)
_PHRASES = (
    rf"\b(?:im|i am) (?:really |very |so |truly )?sorry (?:but )?{_NEG}",
    rf"\bsorry (?:but )?{_NEG}",
    rf"\b(?:i|we) (?:must )?apologi[sz]e (?:but )?{_NEG}",
    rf"\bim afraid (?:that )?{_NEG}",
    rf"\b{_NEG} (?!help but\b){_HELP_VERBS}\b",
    r"\bi (?:cannot|cant|will not|wont) and (?:cannot|cant|will not|wont)\b",
    r"\bas an ai(?: language)? model\b",
    r"\bas a (?:large )?language model\b",
    r"\bi (?:must|have to|need to|will have to|ll have to) (?:respectfully |politely )?"
    r"(?:decline|refuse)\b",
    r"\b(?:goes|go|is|would be) against (?:my|the) (?:guidelines|programming|policies|policy"
    r"|principles|usage policies|content policy)\b",
    r"\bi (?:do not|dont) feel comfortable\b",
    r"\b(?:im|i am) not (?:comfortable|going to) (?:help|assist|provid|writ|creat|generat|shar)",
    r"\b(?:cannot|cant|unable to|not able to) (?:fulfil|fulfill|comply with|assist with|help with)"
    r" (?:this|that|your|such) (?:request|ask|query)",
    r"\bnot something i (?:can|am able to|will) (?:help|assist) with\b",
)


def compile_phrases(pattern: str) -> re.Pattern[str]:
    """Compile a phrase pattern for searching :func:`normalize`'d text, which is fast there.

    Every alternative of a phrase pattern starts with ``\\b`` before a word. In normalised
    text that is exactly "after a space" (the text starts with one, and words are separated by
    single spaces), so the compiled pattern begins with a literal space: ``re`` then jumps from
    space to space instead of trying every alternative at every character (about 2-4x faster).
    A match starts one character earlier, at that space: whether and where a phrase matches is
    unchanged (``tests/detectors/scanners/test_refusal.py`` checks it against the plain pattern).
    """
    return re.compile(f" (?:{pattern})")


PHRASE_PATTERN = "|".join(f"(?:{p})" for p in _PHRASES)
_REFUSAL = compile_phrases(PHRASE_PATTERN)

# Every phrase above has one of these words at the start of a word (in normalised text, after
# a space): a first-person "cannot" of _NEG, or its own words. A completion without any of them
# skips the phrase search, which is most of them. The gate's pattern starts with a literal, so
# re jumps from space to space: 1.6 µs per generated completion, against 3.0 for a substring
# test per gate word. tests/detectors/scanners/test_refusal.py checks that it never hides a phrase.
_GATE = re.compile(
    r" (?:ca(?:nt|nnot|n not)|w(?:ont|ill not)|unable|not (?:able|going to|something)"
    r"|as an ai|language model|decline|refuse|against|comfortable)"
)

# Typographic apostrophes, dropped like the ASCII one ("I’m" -> "im"); curly quotes, like every
# other non-ASCII character, become blanks.
_APOSTROPHES = ("\u2018", "\u2019", "\u201b", "\u02bc", "\u2032", "\uff07")
# Characters that render as nothing: a completion made only of them is empty.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"


# ASCII normalisation as one byte table: A-Z to a-z, other non-alphanumerics to a space.
_ASCII_NORMAL = bytes(
    byte + 32 if 65 <= byte <= 90 else byte if 48 <= byte <= 57 or 97 <= byte <= 122 else 32
    for byte in range(256)
)


def normalize(text: str) -> str:
    """Lower-case, fold quotes, drop apostrophes, collapse everything else to single spaces."""
    # One byte translation that lower-cases, blanks and deletes apostrophes, then split/join
    # collapses the runs of spaces: a third of the cost of a regex substitution on ASCII text
    # and a seventh on other text (tests/detectors/scanners/test_refusal.py compares it with one).
    # Every
    # non-ASCII character ends up blank, and each byte of its UTF-8 encoding is >= 0x80, so the
    # table blanks it too. What the bytes cannot tell is done on the text before: lower()
    # (which gives "k" for the Kelvin sign, "i" and a blank for a dotted capital I) and the
    # deletion of typographic apostrophes.
    if text.isascii():
        data = text.encode("ascii")
    else:
        text = text.lower()
        for apostrophe in _APOSTROPHES:
            if apostrophe in text:
                text = text.replace(apostrophe, "")
        data = text.encode("utf-8", "surrogatepass")
    words = data.translate(_ASCII_NORMAL, b"'").split()
    return " " + b" ".join(words).decode("ascii") + " "


def is_empty_completion(text: str | None) -> bool:
    """Whether a completion is missing, empty, or only whitespace and invisible characters."""
    return text is None or not text.strip().strip(_INVISIBLE).strip()


@dataclass(frozen=True, slots=True)
class RefusalResult:
    """Whether a completion refuses, and the normalised phrase that says so (or ``""``)."""

    is_refusal: bool
    phrase: str


class RefusalDetector:
    """Detect refusal completions by phrase.

    Parameters
    ----------
    head_chars : int, optional
        How many leading characters of the completion are read (default 400).

    Examples
    --------
    >>> detector = RefusalDetector()
    >>> detector.detect("I’m sorry, but I can’t help with that.").is_refusal
    True
    >>> detector.is_refusal("Sorry for the confusion! Here is the corrected query.")
    False
    """

    def __init__(self, head_chars: int = 400) -> None:
        self.head_chars = check_int("head_chars", head_chars, minimum=1)
        self._reset()

    def _reset(self) -> None:
        self._pattern = _REFUSAL

    def detect(self, text: str | None) -> RefusalResult:
        """Refusal decision for one completion (``None`` and empty text are not refusals)."""
        if not text:
            return RefusalResult(False, "")
        head = normalize(text[: self.head_chars])
        m = self._pattern.search(head) if _GATE.search(head) else None
        return RefusalResult(m is not None, m.group().strip() if m else "")

    def is_refusal(self, text: str | None) -> bool:
        """Whether ``text`` is a refusal."""
        return self.detect(text).is_refusal
