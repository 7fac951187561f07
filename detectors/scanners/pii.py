"""Personal data in free text: e-mail, phone, credit card, IBAN, US SSN and IP addresses.

Every type is a precompiled regular expression followed, where the format has one, by the
format's own check (Luhn for cards and ISO 7064 mod-97 for IBANs, in
:mod:`detectors.scanners.pii_checks`; SSA allocation rules for SSNs, octet ranges for IPv4,
:mod:`ipaddress` for IPv6). Cheap membership tests (``"@" in text``, a
stretch of digits) skip whole families, so a text without numbers costs two regex searches.

Decisions a reader needs to know (the labelled set in ``tests/detectors/fixtures`` follows them):

* Phone numbers need visible structure: a leading ``+`` (international, 8-15 digits as E.164
  allows), the North American 3-3-4 grouping with NANP rules (area code and exchange start with
  2-9), or a national number with trunk prefix ``0`` and at least one separator (10-12 digits,
  as in most EU plans). A bare run of digits without ``+`` is an order number, not a phone.
* SSNs need the dashed or spaced 3-2-4 grouping; a bare 9-digit run is too ambiguous.
* A dotted quad with octets 0-255 is an IP address unless a version or section marker
  (``version``, ``release``, ``build``, ``section`` ...) directly precedes it; octets with
  leading zeros and 5-part dotted numbers are not addresses. Over-redacting a version string is
  the cheaper mistake than leaking an address.
* IPv6 literals need at least two non-empty groups, so ``::1`` or slice syntax ``[::2]`` in code
  are not reported.
* File names with an asset extension (``logo@2x.png``) are not e-mail addresses.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator, Sequence

from detectors.scanners._char_runs import non_ascii_text
from detectors.scanners.findings import Finding, count_by_type, select_non_overlapping
from detectors.scanners.pii_checks import IBAN_LENGTHS, card_valid, iban_valid

PII_TYPES: tuple[str, ...] = ("email", "iban", "credit_card", "ssn", "ip_address", "phone")
"""Every PII type, in the priority used when two findings overlap (first wins)."""


# ---------------------------------------------------------------------------------------------
# Patterns. Each starts with a look-behind that forbids starting inside a longer token, which
# also keeps the scan linear: a failed start is not retried at every character of a long word.

_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.([A-Za-z]{2,24})"
    r"(?![A-Za-z0-9-])"
)
_ASSET_SUFFIXES = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "avif"})

# The look-behind comes after the first capital (same condition): a pattern that starts with a
# character class lets re skip to candidate characters instead of testing every position.
_IBAN = re.compile(r"[A-Z](?<![A-Za-z0-9][A-Z])[A-Z]\d{2}(?: ?[A-Z0-9]){10,30}")

_CARD = re.compile(r"(?<![\w+.-])(?<!\d[ .-])\d(?:[ -]?\d){12,18}(?![\w]|[.-]\d)")

_SSN = re.compile(
    r"(?<![\w+.-])(?<!\d[ .-])(?!000|666|9)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\w]|[.-]\d)"
)

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w]|\.\d)")
_VERSION_MARKER = re.compile(
    r"(?:\b(?:version|ver|v|release|rel|build|rev|revision|firmware|section|sec|chapter|clause"
    r"|step|rule|item|table|figure|fig|oid)\.?\s*[:#]?\s*|§\s*)$",
    re.IGNORECASE,
)
_MARKER_LOOKBACK = 24  # chars: longest marker ("revision") plus punctuation and spacing
_IPV6 = re.compile(r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:]|\.\d)")
_IPV6_GROUP = re.compile(r"[0-9A-Fa-f]{1,4}")

_PHONE_INTL = re.compile(
    r"(?<![\w+])\+[1-9]\d{0,3}(?:[ .-]?\(\d{1,4}\)[ .-]?\d{1,8})?(?:[ .-]\d{1,8}){1,6}"
    r"(?![\w]|[.-]\d)"
    r"|(?<![\w+])\+[1-9]\d{7,14}(?!\w)"
)
_PHONE_NANP = re.compile(
    r"(?<![\w+.-])(?<!\d[ .-])(?:1[ .-]?)?(?:\([2-9]\d{2}\)[ .-]?|[2-9]\d{2}[ .-])"
    r"[2-9]\d{2}[ .-]\d{4}"
    r"(?![\w]|[.-]\d)"
)
_PHONE_NATIONAL = re.compile(
    r"(?<![\w+.\-/])(?<!\d[ ./-])0\d{1,4}(?:[ ./-]\d{2,8}){1,5}(?![\w]|[./:-]\d)"
)
# E.164 caps a number at 15 digits; plans in use have at least 8 with the country code.
_E164_DIGITS = range(8, 16)
# National numbers with trunk 0 in EU plans: 10-12 digits; 9 or fewer reads as a date or code.
_NATIONAL_DIGITS = range(10, 13)
_TRUNK_ZERO = re.compile(r"\(0\)")
_NON_DIGIT = re.compile(r"\D")
# Every digit-based format (card, SSN, IPv4, phone) is made of the characters of a number run
# below, and what it reports holds a stretch of 7+ of them that starts and ends with a digit.
# A number run (as finditer finds them) spans from the first to the last digit of a maximal
# stretch of those characters, so every reported value lies in a run, widened by one character
# before it (a "+" or "(") and seen with what follows it (look-aheads read 2 characters):
# these finders search those windows only, not the whole text, and a text without a run skips
# them all. (A match outside every run is too short to report, and cannot shift a match inside
# one: matches never cross a character outside the set.)
_NUMBER_RUN = re.compile(r"\d[\d .()/+-]{5,}\d")
_RUN_BEFORE = 1
_RUN_AFTER = 2


def _digits(text: str) -> str:
    return _NON_DIGIT.sub("", text)


_DIGIT = re.compile(r"\d")

# The digit gates of text whose digits are ASCII (\d is [0-9] there) on one byte translation:
# digits to "d", the other characters of a number run to "s", capitals to "L", the other ASCII
# word characters (a-z, "_") to "w", the rest to ".". A number run is then the same pattern on
# bytes, which re tries from each "d" only (it starts with a literal), and an IBAN needs
# "LLdd". Together 1.2 instead of 2.8 µs per text of generated traffic.
# The run must also stand clear of words: every digit-based finder's match begins with a digit,
# "+" or "(" that no word character precedes (each pattern's look-behind) and ends with a digit
# that no word character follows (each look-ahead), and from its first to its last digit it is
# a stretch of run characters of 7 or more. So a digit run inside an identifier
# (``conv_58d7a1234567b6``, a hex span id) passes no finder and need not open the scan. ASCII
# word characters are "d", "L" and "w"; any other byte (non-ASCII included, which \w may count
# as a letter) is taken as a boundary, which only lets more texts through.
_GATE_CLASSES = bytes(
    ord("d") if "0" <= chr(byte) <= "9" else ord("s") if chr(byte) in " .()/+-"
    else ord("L") if "A" <= chr(byte) <= "Z"
    else ord("w") if "a" <= chr(byte) <= "z" or chr(byte) == "_" else ord(".")
    for byte in range(256)
)
# The look-behind comes after the first "d" (the same condition) so that re still skips to the
# "d"s (see _IBAN).
_NUMBER_RUN_CLASSES = re.compile(rb"d(?<![dLw]d)[ds]{5,}d(?![dLw])")


def _may_hold_number(text: str) -> bool:
    """False only if ``text`` holds no number run clear of words and no IBAN (see
    :data:`_NUMBER_RUN` and :data:`_GATE_CLASSES`), so no digit-based finding."""
    if text.isascii():
        encoded = text.encode("ascii")
    else:
        # In UTF-8 the bytes of non-ASCII characters become "." (not part of a run, as the
        # characters are not), which holds unless one of them is a digit for \d.
        encoded = text.encode("utf-8", "surrogatepass")
        if _DIGIT.search(non_ascii_text(encoded)):
            return _NUMBER_RUN.search(text) is not None or _IBAN.search(text) is not None
    classes = encoded.translate(_GATE_CLASSES)
    return b"d" in classes and (
        b"LLdd" in classes or _NUMBER_RUN_CLASSES.search(classes) is not None
    )


def has_digit(text: str) -> bool:
    """Whether ``text`` holds a decimal digit (any script, as ``\\d``); a cheap pre-filter.

    Half the texts of typical traffic have none. For ASCII text ten substring tests are about
    eight times faster than a regex scan of every character (in a plain loop: ``any()`` over a
    generator cost as much as the tests).
    """
    if text.isascii():
        for digit in _ASCII_DIGITS:  # noqa: SIM110 - see above
            if digit in text:
                return True
        return False
    return _DIGIT.search(text) is not None


_ASCII_DIGITS = "0123456789"
_Spans = Sequence[tuple[int, int]]  # (pos, endpos) pairs of a text that a finder searches


def _matches(pattern: re.Pattern[str], text: str, spans: _Spans) -> Iterator[re.Match[str]]:
    for pos, endpos in spans:
        yield from pattern.finditer(text, pos, endpos)


def _number_windows(text: str, digits: bool) -> list[tuple[int, int]]:
    """(pos, endpos) of every number run, widened as the digit-based finders need."""
    if not digits:
        return []
    return [(max(m.start() - _RUN_BEFORE, 0), min(m.end() + _RUN_AFTER, len(text)))
            for m in _NUMBER_RUN.finditer(text)]


def _find_email(text: str, spans: _Spans) -> Iterator[tuple[int, int]]:
    if "@" not in text:
        return
    for m in _matches(_EMAIL, text, spans):
        if m.group(1).lower() not in _ASSET_SUFFIXES:
            yield m.span()


def _find_iban(text: str, spans: _Spans) -> Iterator[tuple[int, int]]:
    for pos, endpos in spans:
        yield from _find_iban_in(text, pos, endpos)


def _find_iban_in(text: str, pos: int, endpos: int) -> Iterator[tuple[int, int]]:
    while (m := _IBAN.search(text, pos, endpos)) is not None:
        start = m.start()
        pos = start + 1
        length = IBAN_LENGTHS.get(m.group()[:2])
        compact = m.group().replace(" ", "")
        if length is None or len(compact) < length:
            continue
        # The greedy match may run into the next word; cut it at the country's length.
        end, seen = start, 0
        while seen < length:
            if text[end] != " ":
                seen += 1
            end += 1
        if end < len(text) and text[end].isalnum():
            continue
        if iban_valid(compact[:length]):
            yield start, end
            pos = end


def _find_card(text: str, spans: _Spans) -> Iterator[tuple[int, int]]:
    for m in _matches(_CARD, text, spans):
        if card_valid(_digits(m.group())):
            yield m.span()


def _find_ssn(text: str, spans: _Spans) -> Iterator[tuple[int, int]]:
    for m in _matches(_SSN, text, spans):
        yield m.span()


def _find_ipv4(text: str, spans: _Spans) -> Iterator[tuple[int, int]]:
    for m in _matches(_IPV4, text, spans):
        before = text[max(0, m.start() - _MARKER_LOOKBACK) : m.start()]
        if not _VERSION_MARKER.search(before):
            yield m.span()


def _may_hold_ipv6(text: str) -> bool:
    """False only if ``text`` holds no IPv6 literal: it needs a "::" or all 8 groups."""
    return "::" in text or text.count(":") >= 7


def _find_ipv6(text: str, spans: _Spans) -> Iterator[tuple[int, int]]:
    if _may_hold_ipv6(text):
        for m in _matches(_IPV6, text, spans):
            if len(_IPV6_GROUP.findall(m.group())) < 2:
                continue
            try:
                ipaddress.IPv6Address(m.group())
            except ValueError:
                continue
            yield m.span()


def _find_phone(text: str, spans: _Spans) -> Iterator[tuple[int, int]]:
    if "+" in text:
        for m in _matches(_PHONE_INTL, text, spans):
            if len(_digits(_TRUNK_ZERO.sub("", m.group()))) in _E164_DIGITS:
                yield m.span()
    for m in _matches(_PHONE_NANP, text, spans):
        yield m.span()
    for m in _matches(_PHONE_NATIONAL, text, spans):
        digits = _digits(m.group())
        if digits.startswith("00"):
            # The international call prefix: an E.164 number follows, its country code not 0.
            if digits[2] != "0" and len(digits) - 2 in _E164_DIGITS:
                yield m.span()
        elif len(digits) in _NATIONAL_DIGITS:
            yield m.span()


_Finder = Callable[[str, _Spans], Iterator[tuple[int, int]]]
# type -> [(finder, whether it searches number runs only)], in priority order within the type.
_FINDERS: dict[str, list[tuple[_Finder, bool]]] = {
    "email": [(_find_email, False)],
    "iban": [(_find_iban, False)],
    "credit_card": [(_find_card, True)],
    "ssn": [(_find_ssn, True)],
    "ip_address": [(_find_ipv4, True), (_find_ipv6, False)],
    "phone": [(_find_phone, True)],
}


# ---------------------------------------------------------------------------------------------


def canonical_value(type_: str, value: str) -> str:
    """The formatting-free form of a value, so one person's data hashes to one tag.

    E-mail is lower-cased, number-like types keep their digits (and letters, for IBANs), IP
    addresses take :mod:`ipaddress`'s compressed form; any other type is returned as is.
    """
    if type_ == "email":
        return value.lower()
    if type_ in ("credit_card", "ssn"):
        return _digits(value)
    if type_ == "phone":
        return ("+" if value.startswith("+") else "") + _digits(_TRUNK_ZERO.sub("", value))
    if type_ == "iban":
        return value.replace(" ", "").upper()
    if type_ == "ip_address":
        try:
            return ipaddress.ip_address(value).compressed
        except ValueError:
            return value
    return value


class PIIScanner:
    """Find personal data in a text.

    Parameters
    ----------
    types : iterable of str, optional
        The PII types to look for, any of :data:`PII_TYPES` (default: all). Overlaps are resolved
        in the order of :data:`PII_TYPES`, whatever order is given here.

    Examples
    --------
    >>> scanner = PIIScanner()
    >>> found = scanner.scan("Mail jane.doe@example.org or call +44 20 7946 0958")
    >>> [(f.type, f.text) for f in found]
    [('email', 'jane.doe@example.org'), ('phone', '+44 20 7946 0958')]
    >>> scanner.count("card 4111 1111 1111 1111, not 4111 1111 1111 1112")["credit_card"]
    1
    """

    def __init__(self, types: Iterable[str] = PII_TYPES) -> None:
        requested = tuple(types)
        unknown = sorted(set(requested) - set(PII_TYPES))
        if unknown:
            raise ValueError(f"types must be PII types from {PII_TYPES}, got unknown {unknown}")
        if not requested:
            raise ValueError("types must name at least one PII type")
        self.types = tuple(t for t in PII_TYPES if t in requested)
        self._reset()

    def _reset(self) -> None:
        self._finders = [(t, *finder) for t in self.types for finder in _FINDERS[t]]

    def scan(self, text: str) -> list[Finding]:
        """All non-overlapping findings in ``text``, sorted by offset."""
        return select_non_overlapping(self.candidates(text))

    def candidates(self, text: str) -> Iterator[Finding]:
        """Every validated match, overlaps included, in priority order (see :func:`scan`)."""
        digits = has_digit(text)
        whole = ((0, len(text)),)
        runs: list[tuple[int, int]] | None = None  # found when a digit-based type is reached
        for type_, find, in_runs in self._finders:
            if in_runs and runs is None:
                runs = _number_windows(text, digits)
            # An IBAN has two check digits: a text without a digit cannot hold one.
            spans = runs if in_runs else whole if digits or type_ != "iban" else ()
            for start, end in find(text, spans):
                yield Finding(type_, start, end, text[start:end])

    def count(self, text: str) -> dict[str, int]:
        """Findings per type in ``text``, zero for every configured type without one."""
        return count_by_type(self.scan(text), self.types)

    def may_find(self, text: str) -> bool:
        """False only if :meth:`candidates` finds nothing in ``text``: a cheap pre-filter.

        Each test is the gate of finders in :meth:`candidates`: e-mail needs an "@", IPv6
        :func:`_may_hold_ipv6`, an IBAN a match of its pattern (two capitals, two digits), and
        every other type a number run. It holds for any ``types`` (it tests them all); most
        texts pass none of the tests.
        """
        return "@" in text or _may_hold_ipv6(text) or _may_hold_number(text)


_DEFAULT_SCANNER = PIIScanner()


def find_pii(text: str) -> list[Finding]:
    """All PII findings in ``text`` with the default :class:`PIIScanner`."""
    return _DEFAULT_SCANNER.scan(text)
