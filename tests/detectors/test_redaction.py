"""Redaction policies: nothing labelled survives ``redact``, ``hash`` is stable and salted."""

from __future__ import annotations

import copy
import doctest
import pickle
import re
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import detectors.redaction as redaction_module
from detectors.pii import PII_TYPES, select_non_overlapping
from detectors.redaction import RedactionPolicy, Redactor
from detectors.secrets import SECRET_TYPES
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


def test_apply_messages_redacts_every_content_and_sums_counts(redactor: Redactor) -> None:
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Mail me at ana.silva@example.org"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "and call +44 20 7946 0958"},
                {"type": "image_url", "image_url": {"url": "https://example.org/a.png"}},
            ],
        },
    ]
    original = copy.deepcopy(messages)
    result = redactor.apply_messages(messages)
    assert messages == original  # the input is not modified
    assert result.messages[1]["content"] == "Mail me at <EMAIL>"
    assert result.messages[2]["content"][0]["text"] == "and call <PHONE>"
    assert result.messages[2]["content"][1] == original[2]["content"][1]
    assert result.messages[0] == original[0]
    assert (result.counts_by_type["email"], result.counts_by_type["phone"]) == (1, 1)


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
