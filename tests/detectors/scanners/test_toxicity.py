"""Toxicity scorers: the default separates clean from abusive text; the HF one fails clearly."""

from __future__ import annotations

import doctest
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import detectors.scanners.toxicity as toxicity_module
from detectors.scanners.toxicity import (
    HFToxicityScorer,
    ProfanityCheckScorer,
    ToxicityModelError,
    ToxicityScorer,
    make_toxicity_scorer,
)

CLEAN = [
    "Thanks so much for your help today!",
    "The meeting is moved to 3pm on Thursday.",
    "Could you explain how photosynthesis works?",
    "I love this recipe, my kids enjoyed it.",
    "Please review the attached pull request when you have time.",
    "What a beautiful sunset over the lake.",
    "The package arrived on time and in good condition.",
    "Let me know if you need anything else.",
    "This bug is killing me, the test keeps failing.",  # violent words, harmless meaning
    "That concert was sick, the encore blew my mind.",
    "The shooting star was visible from the hill.",
    "Kill the process with SIGTERM before restarting the service.",
]
ABUSIVE = [
    "You are a fucking idiot.",
    "Shut up, you stupid bitch.",
    "Go to hell, you worthless piece of shit.",
    "You dumb ass, nobody wants you here.",
    "What a fucking moron.",
    "Fuck off, loser.",
    "You are a pathetic asshole.",
    "Screw you, you bastard.",
    "This is bullshit, you dickhead.",
    "Nobody asked you, dumbass.",
]


@pytest.fixture(scope="module")
def scorer() -> ProfanityCheckScorer:
    return ProfanityCheckScorer()


def test_default_scorer_separates_clean_from_abusive(scorer: ProfanityCheckScorer) -> None:
    clean, abusive = scorer.score_many(CLEAN), scorer.score_many(ABUSIVE)
    assert clean.shape == (len(CLEAN),) and abusive.shape == (len(ABUSIVE),)
    assert clean.max() < 0.5 < abusive.min(), (clean.round(3), abusive.round(3))
    assert np.median(abusive) - np.median(clean) > 0.8


def test_scores_are_probabilities_and_empty_batches_work(scorer: ProfanityCheckScorer) -> None:
    scores = scorer.score_many(CLEAN + ABUSIVE)
    assert scores.dtype == np.float64 and ((scores >= 0) & (scores <= 1)).all()
    assert scorer.score_many([]).shape == (0,)


def test_fast_vectoriser_gives_the_librarys_scores_to_the_last_bit(
    scorer: ProfanityCheckScorer,
) -> None:
    from profanity_check import predict_prob

    texts = CLEAN + ABUSIVE + [
        "", "a", "I I the the and", "Ünïcödé straße ﬁne ĲSSEL", "snake_case_name x_y __",
        "日本語のテキスト", "zero\u200bwidth nbsp\u00a0here", "SHOUTING FUCK " * 50,
    ]
    np.testing.assert_array_equal(scorer.score_many(texts), predict_prob(texts))


def test_scorers_follow_the_protocol(scorer: ProfanityCheckScorer) -> None:
    assert isinstance(scorer, ToxicityScorer)
    assert isinstance(make_toxicity_scorer(None), ProfanityCheckScorer)
    assert isinstance(make_toxicity_scorer(""), ProfanityCheckScorer)


def test_pickle_round_trip(scorer: ProfanityCheckScorer) -> None:
    restored = pickle.loads(pickle.dumps(scorer))
    np.testing.assert_array_equal(restored.score_many(ABUSIVE), scorer.score_many(ABUSIVE))


def test_missing_model_dir_names_the_setting(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ToxicityModelError, match=r"^toxicity_model_dir \(SEISMO_TOXICITY"):
        make_toxicity_scorer(missing)
    with pytest.raises(ToxicityModelError, match=str(missing)):
        HFToxicityScorer(missing)


def test_directory_without_a_model_names_the_setting(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("not a model")
    with pytest.raises(ToxicityModelError, match=r"^toxicity_model_dir\b.*config\.json"):
        HFToxicityScorer(tmp_path)


def test_docstring_examples_run() -> None:
    results = doctest.testmod(toxicity_module)
    assert results.attempted > 0 and results.failed == 0


# Vocabulary entries with and without non-ASCII letters, and the characters around them.
_VOCABULARY_PIECES = ["pokémon", "josé", "連絡", "μελ", "idiot", "shit", " ", "’", "—", "É"]


@settings(derandomize=True, max_examples=200, database=None)
@given(texts=st.lists(st.text(alphabet=st.characters(max_codepoint=127)) | st.text()
                      | st.lists(st.sampled_from(_VOCABULARY_PIECES)).map("".join),
                      min_size=1, max_size=5))
def test_fast_vectoriser_gives_the_librarys_matrix(texts: list[str]) -> None:
    # Tokens of ASCII texts come from a byte table, of others from the regex: either way the
    # tf-idf matrix is scikit-learn's, entry for entry.
    vectorize, _ = toxicity_module._profanity_model()
    assert vectorize.exact
    fast, plain = vectorize(texts), vectorize.vectorizer.transform(texts)
    assert fast.shape == plain.shape and (fast != plain).nnz == 0


def test_the_calibrated_models_in_one_product_give_the_librarys_probabilities() -> None:
    # Prompts, completions and abuse of every length: the fast path is used, and every
    # probability equals scikit-learn's predict_proba to the last bit.
    texts = ["have a lovely day", "shut up, you idiot", "", "what the hell is this crap",
             "Please summarise the attached quarterly report in three bullet points.",
             "you are a worthless piece of garbage and everyone hates you " * 5]
    texts += [" ".join(f"word{i} damn" if i % 7 == 0 else f"word{i}" for i in range(n))
              for n in range(1, 60, 3)]
    vectorize, predict = toxicity_module._profanity_model()
    assert isinstance(predict, toxicity_module.SigmoidCalibratedLinear)
    from profanity_check import profanity_check

    matrix = vectorize(texts)
    expected = profanity_check.model.predict_proba(matrix)[:, 1]
    assert np.array_equal(predict(matrix), expected)
    assert expected.max() > 0.9 and expected.min() < 0.1  # both kinds of text are in it


@settings(derandomize=True, max_examples=300, database=None)
@given(pieces=st.lists(st.sampled_from(
    ["idiot", "Shit", "ok", "a", " ", "\n", "_", "-", "'", "caf\u00e9", "\u2014", "\u2019",
     "\u0130", "\u212a", "\u00e9", "\ud800", "\u0663", "\U0001f600", "\u4e2d\u6587", "x2"]),
    max_size=12))
def test_tokens_of_any_text_are_the_patterns_tokens(pieces: list[str]) -> None:
    # The byte-table tokeniser is a speed-up only: in order, the runs the pattern finds in the
    # lower-cased text, encoded (plus one-character and empty runs, which no vocabulary entry
    # matches).
    text = "".join(pieces)
    words = [w.decode("utf-8", "surrogatepass") for w in toxicity_module._words(text)]
    assert [w for w in words if len(w) >= 2] == re.findall(r"(?u)\b\w\w+\b", text.lower())
