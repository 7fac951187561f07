"""PII scanner: precision and recall per type on the labelled set, and the format checks."""

from __future__ import annotations

import doctest
import pickle
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import detectors.scanners.pii as pii_module
import detectors.scanners.pii_checks as pii_checks_module
from detectors.scanners.pii import (
    PII_TYPES,
    Finding,
    PIIScanner,
    canonical_value,
    find_pii,
)
from detectors.scanners.pii_checks import iban_valid, luhn_valid
from tests.detectors.fixtures import labelled_kit, make_labelled
from tests.detectors.fixtures.labelled import load, records_for, span_records, span_scores

FLOOR = 0.95


@pytest.fixture(scope="module")
def scanner() -> PIIScanner:
    return PIIScanner()


@pytest.mark.parametrize("type_", PII_TYPES)
def test_labelled_set_has_enough_positives_and_near_misses(type_: str) -> None:
    assert len(records_for(type_, "positive")) >= 50
    assert len(records_for(type_, "negative")) >= 50


def test_committed_sets_are_what_the_seeded_generator_writes() -> None:
    pii, secrets = make_labelled.build()
    assert tuple(pii) == load("pii") and tuple(secrets) == load("secrets")


def test_labelled_cards_and_ibans_pass_the_generator_oracles() -> None:
    # The generator's own Luhn and mod-97 code, independent of detectors.scanners.pii.
    for rec in span_records():
        for span in rec["spans"]:
            value = rec["text"][span["start"] : span["end"]]
            if span["type"] == "credit_card":
                assert labelled_kit.luhn_ok(value.replace(" ", "").replace("-", "")), value
            elif span["type"] == "iban":
                assert labelled_kit.iban_ok(value.replace(" ", "")), value


@pytest.mark.parametrize("type_", PII_TYPES)
def test_precision_and_recall_per_type(scanner: PIIScanner, type_: str) -> None:
    # Over every record, secrets included: a type must not fire on other types' text either.
    scores = span_scores(span_records(), scanner.scan, type_)
    assert scores.recall >= FLOOR, scores
    assert scores.precision >= FLOOR, scores


def test_findings_point_at_their_text(scanner: PIIScanner) -> None:
    text = "Write to ana@example.org, card 4111-1111-1111-1111, from 203.0.113.9"
    findings = scanner.scan(text)
    assert [f.type for f in findings] == ["email", "credit_card", "ip_address"]
    assert all(text[f.start : f.end] == f.text for f in findings)
    assert findings == find_pii(text)


def test_count_has_every_type(scanner: PIIScanner) -> None:
    counts = scanner.count("call +1 415 555 0132 or (415) 555-0199, mail a@example.com")
    assert counts == {**dict.fromkeys(PII_TYPES, 0), "phone": 2, "email": 1}


def luhn_number(payload: str) -> str:
    """``payload`` with its Luhn check digit appended (brute force: independent of the code)."""
    return next(payload + d for d in "0123456789" if luhn_valid(payload + d))


@settings(derandomize=True, max_examples=200, database=None)
@given(body=st.text("0123456789", min_size=14, max_size=14), pos=st.integers(0, 15))
def test_single_digit_typo_in_a_card_is_not_a_card(body: str, pos: int) -> None:
    number = luhn_number("4" + body)  # a 16-digit Visa-range number
    assert find_pii(f"card {number} ok")[0].text == number
    typo = number[:pos] + str((int(number[pos]) + 1) % 10) + number[pos + 1 :]
    assert "credit_card" not in {f.type for f in find_pii(f"card {typo} ok")}


@pytest.mark.parametrize(
    "iban",
    ["DE89 3704 0044 0532 0130 00", "GB82WEST12345698765432", "FR1420041010050500013M02606",
     "NL91ABNA0417164300", "NO9386011117947"],
)  # fmt: skip
def test_published_example_ibans_are_found_whole(iban: str) -> None:
    found = find_pii(f"Pay to {iban} today.")
    assert [(f.type, f.text) for f in found] == [("iban", iban)]
    assert iban_valid(iban.replace(" ", ""))


def test_iban_check_digits_and_length_are_checked() -> None:
    assert not find_pii("Pay to DE88 3704 0044 0532 0130 00 today.")  # check digits off by one
    assert not iban_valid("DE8937040044053201300")  # one digit short for Germany
    assert not iban_valid("XX89370400440532013000")  # no such country


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("SSN 078-05-1120", True),
        ("SSN 078 05 1120", True),
        ("SSN 000-12-3456", False),  # area 000 never issued
        ("SSN 666-12-3456", False),  # area 666 never issued
        ("SSN 912-12-3456", False),  # 9xx: ITINs, not SSNs
        ("SSN 123-00-4567", False),  # group 00
        ("SSN 123-45-0000", False),  # serial 0000
        ("SSN 123456789", False),  # bare 9 digits: documented as too ambiguous
        ("SSN 123-45 6789", False),  # mixed separators
    ],
)
def test_ssn_allocation_rules(text: str, found: bool) -> None:
    assert ("ssn" in {f.type for f in find_pii(text)}) is found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("connect to 192.168.1.20:8080", True),
        ("route 10.0.0.0/8 via the VPN", True),
        ("address 2001:db8:85a3::8a2e:370:7334 answered", True),
        ("upgrade to version 1.2.3.4", False),  # version marker: documented decision
        ("installed v10.0.1.2", False),
        ("see section 2.1.3.4", False),
        ("plain 1.2.3.4 without a marker", True),  # documented: treated as an address
        ("octets 256.1.1.1 out of range", False),
        ("OID 1.3.6.1.4.1.311", False),
        ("leading zeros 01.02.03.04", False),
        ("slice items[::2] and ::1", False),
        ("MAC 00:1A:2B:3C:4D:5E", False),
    ],
)
def test_ip_address_decisions(text: str, found: bool) -> None:
    assert ("ip_address" in {f.type for f in find_pii(text)}) is found


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("call +44 20 7946 0958", True),
        ("call +44 (0)20 7946 0958", True),
        ("call (415) 555-0132", True),
        ("call 1-800-555-0199", True),
        ("call 030 12345678", True),
        ("call 0044 20 7946 0958", True),
        ("order 4155550132 shipped", False),  # bare digits: documented as not a phone
        ("call 123-456-7890", False),  # NANP area codes never start with 1
        ("meeting 01.05.2024 13:45", False),  # date and time
        ("ISBN 978-3-16-148410-0", False),
        ("up +3.5% this quarter", False),
    ],
)
def test_phone_decisions(text: str, found: bool) -> None:
    assert ("phone" in {f.type for f in find_pii(text)}) is found


def test_asset_file_names_are_not_emails() -> None:
    assert not find_pii("use logo@2x.png and icon@3x.webp")
    assert [f.text for f in find_pii("mail logo@example.com")] == ["logo@example.com"]


def test_overlaps_resolve_by_priority() -> None:
    # The IBAN's digit groups also look like a phone number after the "00" prefix.
    found = find_pii("IBAN DE89 3704 0044 0532 0130 00")
    assert [f.type for f in found] == ["iban"]


def test_scanner_limited_to_some_types() -> None:
    only_email = PIIScanner(types=["email"])
    assert [f.type for f in only_email.scan("a@example.com 4111 1111 1111 1111")] == ["email"]


@pytest.mark.parametrize("types", [["email", "passport"], []])
def test_invalid_types_name_the_argument(types: list[str]) -> None:
    with pytest.raises(ValueError, match=r"^types\b"):
        PIIScanner(types=types)


def test_canonical_value_ignores_formatting() -> None:
    assert canonical_value("credit_card", "4111-1111-1111-1111") == "4111111111111111"
    assert canonical_value("email", "Jane@Example.org") == "jane@example.org"
    assert canonical_value("phone", "+44 (0)20 7946 0958") == "+442079460958"
    assert canonical_value("ip_address", "2001:0db8:0000:0000:0000:0000:0000:0001") == "2001:db8::1"


def test_pickle_round_trip(scanner: PIIScanner) -> None:
    text = "ana@example.org, 078-05-1120"
    restored = pickle.loads(pickle.dumps(scanner))
    assert restored.scan(text) == scanner.scan(text)
    assert all(isinstance(f, Finding) for f in restored.scan(text))


@pytest.mark.parametrize("module", [pii_module, pii_checks_module], ids=lambda m: m.__name__)
def test_docstring_examples_run(module: object) -> None:
    results = doctest.testmod(module)
    assert results.attempted > 0 and results.failed == 0


_NUMBER_PIECES = ["+44 20 7946 0958", "4111 1111 1111 1111", "123-45-6789", "192.168.0.1",
                  "(212) 555-1234", "030 1234 5678", "0049 30 123456", "1-800-555-0199", "v1.2.3.4",
                  "version 10.0.0.1", "-", " ", "1", "12", "(", "+", ".", "/", "x", "٣٤٥"]


@settings(derandomize=True, max_examples=400, database=None)
@given(pieces=st.lists(st.sampled_from(_NUMBER_PIECES), min_size=1, max_size=8))
def test_searching_number_runs_only_finds_what_a_whole_text_search_finds(pieces: list[str]) -> None:
    # The digit-based finders search the windows of number runs, a speed-up only: the same
    # matches, in the same order, as their patterns over the whole text.
    text = "".join(pieces)
    whole = ((0, len(text)),)
    runs = pii_module._number_windows(text, pii_module.has_digit(text))
    for type_, find, in_runs in PIIScanner()._finders:
        if in_runs:
            assert list(find(text, runs)) == list(find(text, whole)), (type_, text)


@settings(derandomize=True, max_examples=400, database=None)
@given(pieces=st.lists(st.sampled_from([*_NUMBER_PIECES, "GB82 WEST 1234 5698 7654 32",
                                         "DE89370400440532013000", "AB12", "Z", "é"]),
                       min_size=1, max_size=8))
@example(pieces=["\u0663\u0664\u0665", " ", "\u0663\u0664\u0665"])  # digits only \d reads
def test_the_number_gate_passes_exactly_the_runs_and_iban_heads(pieces: list[str]) -> None:
    # The byte-table gate is a speed-up only: it passes every text with a number run clear of
    # words or an IBAN, and on ASCII text nothing else but two capitals before two digits.
    text = "".join(pieces)
    clear_run = re.search(r"(?<!\w)\d[\d .()/+-]{5,}\d(?!\w)", text)
    regexes = clear_run or pii_module._IBAN.search(text)
    passed = pii_module._may_hold_number(text)
    assert passed or not regexes, text
    if text.isascii():
        assert passed == bool(regexes or re.search("[A-Z]{2}[0-9]{2}", text)), text


# Every digit-based format, its near-misses, and what may touch it: word characters of every
# kind (ASCII letters, "_", digits, a non-ASCII letter and digit) and the run's separators.
_GLUED_PIECES = [*_NUMBER_PIECES, "4111111111111111", "2125551234", "+442079460958", "1.2.3.4",
                 "a", "Z", "_", "9", "é", "٣", ":", "#", "\n", "0"]


@settings(derandomize=True, max_examples=1500, database=None)
@given(pieces=st.lists(st.sampled_from(_GLUED_PIECES), min_size=1, max_size=8))
@example(pieces=["x", "4111 1111 1111 1111"])  # a run that touches a word passes no finder
@example(pieces=["x1 ", "192.168.0.1"])  # ... but a later start in it still may
def test_the_number_gate_never_skips_a_digit_based_finding(pieces: list[str]) -> None:
    # The gate asks for a run clear of words (the finders' look-arounds): where it says no, no
    # finder of any type reports anything.
    text = "".join(pieces)
    if not PIIScanner().may_find(text):
        assert list(PIIScanner().candidates(text)) == [], text
