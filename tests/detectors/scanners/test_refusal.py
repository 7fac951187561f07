"""Refusal detection on the labelled completions, typography variants, empty completions."""

from __future__ import annotations

import doctest
import pickle
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import detectors.scanners.refusal as refusal_module
from detectors.scanners.refusal import (
    RefusalDetector,
    RefusalResult,
    is_empty_completion,
    normalize,
)
from tests.detectors.fixtures.labelled import load

FLOOR = 0.9


@pytest.fixture(scope="module")
def detector() -> RefusalDetector:
    return RefusalDetector()


def test_labelled_set_has_enough_of_each_side() -> None:
    labels = [rec["label"] for rec in load("refusal")]
    assert labels.count(1) >= 40 and labels.count(0) >= 40


def test_precision_and_recall_on_the_labelled_set(detector: RefusalDetector) -> None:
    records = load("refusal")
    predicted = [detector.is_refusal(rec["text"]) for rec in records]
    truth = [bool(rec["label"]) for rec in records]
    tp = sum(p and t for p, t in zip(predicted, truth, strict=True))
    precision = tp / sum(predicted)
    recall = tp / sum(truth)
    assert precision >= FLOOR and recall >= FLOOR, (precision, recall)


@pytest.mark.parametrize(
    "text",
    [
        "I'm sorry, but I can't help with that.",
        "I\u2019m sorry, but I can\u2019t help with that.",  # curly apostrophes
        "i'M sOrRy BuT i CaN't HeLp WiTh ThAt",
        "Im sorry but I cant help with that",  # apostrophes dropped
        "I'm sorry -- but I can't... help with that!!",
        "\u201cI\u2019m sorry, but I cannot help with that.\u201d",  # curly double quotes
    ],
)
def test_case_punctuation_and_quotes_do_not_matter(detector: RefusalDetector, text: str) -> None:
    result = detector.detect(text)
    assert result.is_refusal
    assert result.phrase.startswith("im sorry but i")


def test_only_the_opening_is_read() -> None:
    story = "Once upon a time " * 40 + "the guard said: I'm sorry, but I can't let you in."
    assert not RefusalDetector().is_refusal(story)
    assert RefusalDetector(head_chars=len(story)).is_refusal(story)


def test_none_and_empty_are_not_refusals(detector: RefusalDetector) -> None:
    assert detector.detect(None) == RefusalResult(False, "")
    assert detector.detect("") == RefusalResult(False, "")


@pytest.mark.parametrize(
    ("text", "empty"),
    [(None, True), ("", True), ("  \n\t ", True), ("\u200b\u200b", True), (" \ufeff ", True),
     (".", False), ("ok", False)],
)  # fmt: skip
def test_is_empty_completion(text: str | None, empty: bool) -> None:
    assert is_empty_completion(text) is empty


def test_normalize_folds_typography() -> None:
    assert normalize("I\u2019m NOT able\u2014really!") == " im not able really "


def test_invalid_head_chars_names_the_argument() -> None:
    with pytest.raises(ValueError, match=r"^head_chars\b"):
        RefusalDetector(head_chars=0)


def test_pickle_round_trip(detector: RefusalDetector) -> None:
    restored = pickle.loads(pickle.dumps(detector))
    assert restored.detect("Sorry, I can't assist with that.") == detector.detect(
        "Sorry, I can't assist with that."
    )


def test_docstring_examples_run() -> None:
    results = doctest.testmod(refusal_module)
    assert results.attempted > 0 and results.failed == 0


# Words of the refusal phrases and their near-misses, so random sentences hit the patterns.
_PHRASE_WORDS = ("i im we were am sorry but cant cannot can not wont will be able to unable help "
                 "assist with that this request as an ai language model apologise afraid must "
                 "decline against my guidelines dont feel comfortable going something").split()


@settings(derandomize=True, max_examples=300, database=None)
@given(words=st.lists(st.sampled_from(_PHRASE_WORDS), max_size=14))
def test_space_anchored_phrases_match_as_the_plain_pattern(words: list[str]) -> None:
    # compile_phrases is a speed-up only: on normalised text it finds the same phrase.
    text = normalize(" ".join(words))
    plain = re.search(refusal_module.PHRASE_PATTERN, text)
    fast = refusal_module.compile_phrases(refusal_module.PHRASE_PATTERN).search(text)
    assert (fast is None) == (plain is None)
    if plain is not None:
        assert (fast.start() + 1, fast.group().strip()) == (plain.start(), plain.group().strip())


@settings(derandomize=True, max_examples=500, database=None)
@given(phrase=st.from_regex(refusal_module.PHRASE_PATTERN, fullmatch=True,
                            alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz ")))
def test_the_gate_lets_every_phrase_through(phrase: str) -> None:
    # The gate is a speed-up only: any text a phrase pattern matches (generated from
    # the patterns themselves), it passes.
    text = normalize(f"well, {phrase}.")
    assert re.search(refusal_module.PHRASE_PATTERN, text), text
    assert refusal_module._GATE.search(text), text


def test_the_gate_passes_every_labelled_refusal_and_stops_most_answers() -> None:
    records = load("refusal")
    heads = [normalize(rec["text"][:400]) for rec in records]
    matched = [h for h in heads if re.search(refusal_module.PHRASE_PATTERN, h)]
    assert matched and all(refusal_module._GATE.search(h) for h in matched)
    answers = [h for h in heads if not re.search(refusal_module.PHRASE_PATTERN, h)]
    assert sum(1 for h in answers if refusal_module._GATE.search(h)) < len(answers) / 2


def test_labelled_phrases_match_as_the_plain_pattern() -> None:
    for rec in load("refusal"):
        text = normalize(rec["text"][:400])
        plain = re.search(refusal_module.PHRASE_PATTERN, text)
        fast = refusal_module.compile_phrases(refusal_module.PHRASE_PATTERN).search(text)
        assert (fast and fast.group().strip()) == (plain and plain.group().strip()), text


def test_normalize_keeps_non_ascii_folding_and_ascii_apostrophes() -> None:
    assert normalize("Don't \u201cstop\u201d \u2014 caf\u00e9") == " dont stop caf "


# normalize as one regex substitution, for any text: the reference it is checked against.
_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201b": "'", "\u02bc": "'", "\u2032": "'",
                       "\uff07": "'", "\u201c": '"', "\u201d": '"'})  # fmt: skip


def normalize_plain(text: str) -> str:
    folded = text.translate(_FOLD).lower().replace("'", "")
    return " " + re.sub(r"[^0-9a-z]+", " ", folded).strip() + " "


@settings(derandomize=True, max_examples=500, database=None)
@given(text=st.text(alphabet=st.sampled_from(
    "aZ09 '\u2019\u02bc\uff07\t\n.,!?-_@#\u00e9\u201c\u0130\u212a\ud800\U0001f600"), max_size=40)
       | st.text(max_size=40))
def test_normalize_equals_the_plain_substitution(text: str) -> None:
    # The byte-table path is a speed-up only: the same normalised text, ASCII or not.
    assert normalize(text) == normalize_plain(text)
    assert normalize(text.encode("ascii", "replace").decode()) == normalize_plain(
        text.encode("ascii", "replace").decode()
    )
