"""Redaction policies: nothing labelled survives ``redact``, ``hash`` is stable and salted."""

from __future__ import annotations

import doctest
import pickle
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import detectors.scanners.redaction as redaction_module
from detectors.scanners.findings import select_non_overlapping
from detectors.scanners.pii import PII_TYPES
from detectors.scanners.pii_checks import luhn_valid
from detectors.scanners.redaction import RedactionPolicy, Redactor
from detectors.scanners.secrets import SECRET_TYPES, SecretScanner
from tests.detectors.fixtures.labelled import span_records

TEXT = (
    "Hi, I'm Ana (ana.silva@example.org, +44 20 7946 0958). Card 4111 1111 1111 1111. "
    "My key is sk-proj-4fGh81KdPq02LmZx7TbW9sVcN3rQ8yHj."
)


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor()


def labelled_values() -> list[tuple[dict, str, str]]:
    """(record, type, value) for every labelled value in the PII and secret sets."""
    return [
        (rec, span["type"], rec["text"][span["start"] : span["end"]])
        for rec in span_records()
        for span in rec["spans"]
    ]


@pytest.mark.parametrize("policy", ["redact", "hash"])
def test_no_labelled_value_survives(policy: str) -> None:
    redactor = Redactor(policy, salt="pepper")
    leaks = [
        (type_, value)
        for rec, type_, value in labelled_values()
        if value in redactor.apply(rec["text"]).text
    ]
    assert leaks == []


def test_counts_match_the_labels(redactor: Redactor) -> None:
    found: Counter[str] = Counter()
    for rec in span_records():
        found.update(redactor.apply(rec["text"]).counts_by_type)
    labelled = Counter(type_ for _, type_, _ in labelled_values())
    for type_ in (*PII_TYPES, *SECRET_TYPES):
        assert found[type_] == pytest.approx(labelled[type_], rel=0.05), type_


def test_redact_replaces_values_with_type_tags(redactor: Redactor) -> None:
    result = redactor.apply(TEXT)
    assert result.text == (
        "Hi, I'm Ana (<EMAIL>, <PHONE>). Card <CREDIT_CARD>. My key is <SECRET:API_KEY>."
    )
    assert result.counts_by_type == {
        **dict.fromkeys((*SECRET_TYPES, *PII_TYPES), 0),
        "email": 1, "phone": 1, "credit_card": 1, "api_key": 1,
    }  # fmt: skip
    assert result.total == 4
    assert redactor(TEXT) == result.text


def test_raw_leaves_text_untouched_but_counts() -> None:
    result = Redactor("raw").apply(TEXT)
    assert result.text == TEXT
    assert result.total == 4


def test_hash_is_stable_for_a_salt_and_differs_across_salts() -> None:
    first = Redactor("hash", salt="pepper").apply(TEXT).text
    again = Redactor(RedactionPolicy.HASH, salt=b"pepper").apply(TEXT).text
    other = Redactor("hash", salt="salt").apply(TEXT).text
    assert first == again
    assert first != other
    tags = re.findall(r"<([A-Z_]+):([0-9a-f]{8})>", first)
    assert [t for t, _ in tags] == ["EMAIL", "PHONE", "CREDIT_CARD"]
    assert "<SECRET:API_KEY>" in first  # secrets are removed, never hashed
    assert "sk-proj" not in first and "ana.silva" not in first


def test_hash_tag_ignores_formatting_of_the_same_value() -> None:
    redactor = Redactor("hash", salt="pepper")
    spaced = redactor("card 4111 1111 1111 1111")
    dashed = redactor("card 4111-1111-1111-1111")
    assert spaced == dashed
    assert redactor("mail Ana@Example.org") == redactor("mail ana@example.org")
    assert redactor("card 5555 5555 5555 4444") != spaced


def test_secret_wins_over_overlapping_pii(redactor: Redactor) -> None:
    # An address inside a key block must not leave half the block behind.
    text = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC admin@example.org\n"
    text += "-----END PRIVATE KEY-----"
    assert redactor(text) == "<SECRET:PRIVATE_KEY>"


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"policy": "mask"}, "policy"),
        ({"policy": "hash"}, "salt"),  # an unsalted hash of an address is reversible
        ({"policy": "hash", "salt": "s", "hash_chars": 2}, "hash_chars"),
        ({"policy": "hash", "salt": "s", "hash_chars": 65}, "hash_chars"),
    ],
)
def test_invalid_settings_name_the_argument(kwargs: dict, argument: str) -> None:
    with pytest.raises(ValueError, match=rf"^{argument}\b"):
        Redactor(**kwargs)


def test_pseudonyms_are_stable_keyed_and_irreversible_without_the_salt() -> None:
    user = "ana.silva@example.org"
    salted = Redactor("redact", salt="pepper")
    assert salted.pseudonym(user) == Redactor("hash", salt="pepper").pseudonym(user)
    assert re.fullmatch(r"u_[0-9a-f]{16}", salted.pseudonym(user))
    assert salted.pseudonym(user) != Redactor("redact", salt="salt").pseudonym(user)
    assert salted.pseudonym(user) != salted.pseudonym(user.upper())  # ids are exact
    assert salted.pseudonym("") == "" and Redactor("raw").pseudonym(user) == user
    # No salt: a random key of that redactor, never an unkeyed hash anyone could recompute.
    unsalted = Redactor()
    assert unsalted.pseudonym(user) == unsalted.pseudonym(user) != Redactor().pseudonym(user)


def test_pickle_round_trip() -> None:
    redactor = Redactor("hash", salt="pepper")
    assert pickle.loads(pickle.dumps(redactor)).apply(TEXT) == redactor.apply(TEXT)


def test_docstring_examples_run() -> None:
    results = doctest.testmod(redaction_module)
    assert results.attempted > 0 and results.failed == 0


# Pieces of every format the scanners look for, their near-misses and separators: random
# concatenations hit every gate of the pre-filters, alone and together.
_PIECES = [
    "ana.silva@example.org", "logo@2x.png", "@", "+44 20 7946 0958", "4111 1111 1111 1111",
    "123-45-6789", "192.168.0.1", "fe80::1", "dead:beef:cafe:0:1:2:3:4", "::", "(212) 555-1234",
    "GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "sk-proj-4fGh81KdPq02LmZx7TbW9sVc",
    "AKIA2E0A8F3B244C9986", "aws secret = wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
    "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "xoxb-1234-5678-a1B2c3D4e5F6g7H8i9J0",
    "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", "hf_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJB",
    "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZmdo", "q8Xz3Lm9Tb2Vc7Nk4Hs6Pf1Rw5Yd0Ga8Je3Ku7Mi",
    "4ec89e9776d6b52c743029ba4e1d3ab2", "01b54254-0e57-4883-92bd-bf1453c177b3",
    " ", "\n", "-", "_", "7", "x", "order #332754", "$253.67", "PRIVATE KEY", "ecret",
]


@settings(derandomize=True, max_examples=500, database=None)
@given(pieces=st.lists(st.sampled_from(_PIECES), max_size=6))
def test_prefilters_never_skip_a_finding(pieces: list[str]) -> None:
    # may_find is a speed-up only: where it says no, the finders find nothing, and the redactor
    # finds what it finds without the pre-filter.
    text = "".join(pieces)
    redactor = Redactor()
    plain = select_non_overlapping(
        (*redactor.secrets.scan(text), *redactor.pii.candidates(text))
    )
    assert redactor.scan(text) == plain
    if not redactor.pii.may_find(text):
        assert list(redactor.pii.candidates(text)) == [], text
    if not redactor.secrets.may_find(text):
        assert list(redactor.secrets.candidates(text)) == [], text


def test_prefilters_pass_every_labelled_text_with_a_finding() -> None:
    redactor = Redactor()
    for rec in span_records():
        if rec["spans"]:
            assert redactor.secrets.may_find(rec["text"]) or redactor.pii.may_find(rec["text"])
        assert redactor.scan(rec["text"]) == select_non_overlapping(
            (*redactor.secrets.scan(rec["text"]), *redactor.pii.candidates(rec["text"]))
        )


# -- identifiers told clean by their shape --------------------------------------------------


def _full_scan(redactor: Redactor, text: str) -> list:
    """What the finders report, with no pre-filter or fast path before them."""
    return select_non_overlapping((*redactor.secrets.scan(text), *redactor.pii.candidates(text)))


def _with_luhn_digit(body: str) -> str:
    """``body`` and the check digit that makes it Luhn-valid."""
    return next(body + d for d in "0123456789" if luhn_valid(body + d))


_HEX_ALPHABETS = ["0123456789abcdef", "0123456789a", "0123456789", "abcdef", "4"]
_CARD_HEADS = ["4", "51", "2221", "34", "6011", "9", "1"]  # issuers in use, and two that are not
_hex_texts = st.one_of(
    # Random hex of every length around the thresholds, digit-heavy ones included.
    st.sampled_from(_HEX_ALPHABETS).flatmap(lambda a: st.text(a, min_size=1, max_size=70)),
    # Hex of the highest entropy its length allows (every symbol as often as the next), the
    # likeliest to pass the generic finder's threshold where it is near 4 bits.
    st.integers(16, 40).flatmap(
        lambda n: st.permutations(("0123456789abcdef" * 3)[:n]).map("".join)
    ),
    # All-digit ids of card lengths, Luhn-valid, with and without an issuer prefix.
    st.tuples(st.sampled_from(_CARD_HEADS), st.integers(12, 18), st.randoms()).map(
        lambda t: _with_luhn_digit(
            t[0] + "".join(t[2].choice("0123456789") for _ in range(t[1] - len(t[0])))
        )
    ),
)


def _uuid(groups: tuple[str, str, str, str, str]) -> str:
    return "-".join(groups)


_uuid_texts = st.one_of(
    st.tuples(*(st.text("0123456789abcdef", min_size=n, max_size=n) for n in (8, 4, 4, 4, 12))),
    # The first three groups all digits (a card's 16, Luhn-valid or not), the fourth starting
    # with a letter or a digit.
    st.tuples(st.sampled_from(_CARD_HEADS), st.randoms(), st.booleans(),
              st.sampled_from("0123456789abcdef"),
              st.text("0123456789abcdef", min_size=15, max_size=15)).map(
        lambda t: (lambda digits, rest: (digits[:8], digits[8:12], digits[12:16], rest[:4],
                                         rest[4:]))(
            (_with_luhn_digit if t[2] else str)(
                t[0] + "".join(t[1].choice("0123456789") for _ in range(15 - len(t[0])))
            ).ljust(16, "0")[:16],
            t[3] + t[4],
        )
    ),
).map(_uuid)
_ULID_CHARS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ulid_texts = st.tuples(st.sampled_from("01234567"),
                        st.text(_ULID_CHARS, min_size=25, max_size=25)).map("".join)
# ULIDs holding what the finders look for ("SECRET ACCESS KEY", an AWS key id's prefix, an
# IBAN, a card number) at the start or after a digit; "AKIA" and "ASIA" are no ULID ("I").
_ULID_ADVERSARIAL = [f"{head}{'0' * 26}"[:26] for head in (
    "0SECRETACCESSKEY", "7AWSSECRET", "0ACCA2E0A8F3B244C9986", "0ABCA2E0A8F3B244C9986",
    "0DE89370400440532013000", "04111111111111111", "4111111111111111", "0",
)]


@settings(derandomize=True, max_examples=600, database=None)
@given(text=st.one_of(_hex_texts, _uuid_texts, _ulid_texts, st.sampled_from(_ULID_ADVERSARIAL)))
def test_an_identifier_is_plain_exactly_when_the_scan_finds_nothing(text: str) -> None:
    # The fast path answers for hex, UUIDs and ULIDs: at the default settings its answer is the
    # full scan's, both ways (all-digit card numbers, and UUIDs that start with one, are not
    # plain; every other id of these shapes is).
    redactor = Redactor()
    assert redactor.plain_identifier(text) == (_full_scan(redactor, text) == []), text


# Thresholds of 30-32-character tokens near log2(16) = 4 bits, over and under it (1e-9: about
# 3.91 at 30, 3.89 at 32; 0.001: 3.99 at 30, 4.06 at 32), and far from it.
_SETTINGS = [{"min_entropy_length": 16}, {"min_entropy_length": 24}, {"alpha": 1e-9},
             {"min_entropy_length": 24, "alpha": 1e-9}, {"alpha": 0.3},
             {"min_entropy_length": 16, "alpha": 0.2}]


@pytest.mark.parametrize("kwargs", _SETTINGS, ids=str)
@settings(derandomize=True, max_examples=300, database=None)
@given(text=st.one_of(_hex_texts, _uuid_texts, _ulid_texts, st.sampled_from(_ULID_ADVERSARIAL),
                      st.permutations("0123456789abcdef").map("".join),
                      st.text("0123456789abcdefABCDEF-_xyz:@. +", max_size=40)))
def test_a_plain_identifier_holds_nothing_at_any_settings(kwargs: dict, text: str) -> None:
    # Other settings lower the generic token's threshold (shorter tokens, other alpha): the
    # fast path may then say no where the scan finds nothing, never yes where it finds one.
    redactor = Redactor(secrets=SecretScanner(**kwargs))
    if redactor.plain_identifier(text):
        assert _full_scan(redactor, text) == [], text


def test_hex_the_generic_finder_can_report_is_not_plain() -> None:
    # At 16-character tokens, a span id of 16 distinct hex symbols can look random: the fast
    # path must leave it to the scan, which reports it.
    redactor = Redactor(secrets=SecretScanner(min_entropy_length=16))
    span_id = "0a1b2c3d4e5f6789"[::-1]
    assert [f.type for f in _full_scan(redactor, span_id)] == ["high_entropy"]
    assert not redactor.plain_identifier(span_id)
    assert Redactor().plain_identifier(span_id)  # the default's 32 rules it out


def test_ids_of_other_shapes_are_never_plain() -> None:
    redactor = Redactor()
    for text in ["", "4BF92F3577B34DA6A3CE929D0E0E4736", "conv_587aa750b6d7", "4bf92f35 77b3",
                 "01b54254-0e57-4883-92bd-bf1453c177b", "01ARZ3NDEKTSV4RRFFQ69G5FA",
                 "01arz3ndektsv4rrffq69g5fav", "8ARZ3NDEKTSV4RRFFQ69G5FAV0"]:
        assert not redactor.plain_identifier(text), text
