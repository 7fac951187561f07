"""Toxicity scores in [0, 1] for batches of texts.

Two implementations of one protocol, :class:`ToxicityScorer`:

* :class:`ProfanityCheckScorer` (default): ``alt-profanity-check``, a linear model on
  character n-grams that ships its weights, so it needs no download and scores thousands of
  short texts per second on one core.
* :class:`HFToxicityScorer`: a local Hugging Face text-classification model directory (setting
  ``toxicity_model_dir``, environment ``SEISMO_TOXICITY_MODEL_DIR``), for deployments that want
  a transformer classifier. ``transformers`` is imported only when this scorer is built.

Both libraries load models when imported, so imports happen in the constructors: importing this
module stays cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import cache
from itertools import chain, repeat
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from detectors._validation import check_int
from detectors.scanners._char_runs import non_ascii_text

MODEL_DIR_SETTING = "toxicity_model_dir (SEISMO_TOXICITY_MODEL_DIR)"
DEFAULT_TOXIC_LABELS: tuple[str, ...] = ("toxic", "toxicity", "offensive", "abusive", "hate",
                                         "obscene", "insult", "label_1")  # fmt: skip


class ToxicityModelError(ValueError):
    """The configured toxicity model cannot be used; the message names the setting."""


@runtime_checkable
class ToxicityScorer(Protocol):
    """Anything that scores a batch of texts for toxicity."""

    def score_many(self, texts: Sequence[str]) -> np.ndarray:
        """One score in [0, 1] per text (higher is more toxic), as a float array."""
        ...


class ProfanityCheckScorer:
    """Toxicity from ``alt-profanity-check``'s ``predict_prob``.

    Examples
    --------
    >>> scores = ProfanityCheckScorer().score_many(["have a lovely day", "shut up, you idiot"])
    >>> bool(scores[0] < 0.5 < scores[1])
    True
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        pass  # stateless: the model is loaded once per process, on first use

    def score_many(self, texts: Sequence[str]) -> np.ndarray:
        """Probability that each text is profane or abusive."""
        batch = list(texts)
        if not batch:
            return np.zeros(0)
        vectorize, predict = _profanity_model()
        # What profanity_check.predict_prob computes, without its per-row apply_along_axis.
        probabilities = predict(vectorize(batch))
        return np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, 1.0)


# scikit-learn's default token pattern: runs of two or more word characters (\w).
_DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
# In ASCII text the word characters are [A-Za-z0-9_]: one byte translation lower-cases the
# text and blanks every other character, and split() gives the runs. Runs of one character
# come out too, but no vocabulary entry has one (the pattern needs two), so they are dropped
# with the unknown tokens: the pattern's columns, for a third of the cost of a regex. The bytes
# of non-ASCII characters (all >= 0x80) are kept for _words to sort out.
_WORD_BYTES = bytes(
    byte + 32 if 65 <= byte <= 90 else byte if chr(byte).isalnum() or byte == 95 else 32
    for byte in range(128)
) + bytes(range(128, 256))


def _words(text: str) -> list[bytes]:
    """The tokens of ``text``, UTF-8 encoded, for a vocabulary without one-character entries
    (see above). Bytes: splitting bytes and looking them up costs a sixth less than strings."""
    if text.isascii():
        return text.encode("ascii").translate(_WORD_BYTES).split()
    # The table blanks the ASCII non-word characters. A text has a few distinct non-ASCII ones
    # (typographic quotes, dashes, accented letters), and each that is not a word character
    # (for re's \w: alphanumeric) is blanked where it occurs: UTF-8 is self-synchronising, so
    # a character's bytes occur only where it does. A third of the cost of the Unicode pattern.
    data = text.lower().encode("utf-8", "surrogatepass").translate(_WORD_BYTES)
    for char in set(non_ascii_text(data)):
        if not char.isalnum():
            data = data.replace(char.encode("utf-8", "surrogatepass"), b" ")
    return data.split()


@cache
def _profanity_model() -> tuple[WordTfidf, Callable[[Any], np.ndarray]]:
    """alt-profanity-check's fitted vectoriser (as :class:`WordTfidf`), and its classifier's
    probability of the profane class (as :class:`SigmoidCalibratedLinear` where it can)."""
    from profanity_check import profanity_check  # loads the model: only when first used

    model = profanity_check.model
    predict = SigmoidCalibratedLinear.of(model) or (lambda x: model.predict_proba(x)[:, 1])
    return WordTfidf(profanity_check.vectorizer), predict


class SigmoidCalibratedLinear:
    """A binary ``CalibratedClassifierCV(method="sigmoid")`` over linear models: its
    ``predict_proba(X)[:, 1]``, the same numbers, as one sparse product for all its models.

    scikit-learn evaluates the calibrated models one at a time, each through its input checks
    and response dispatch, which for a batch of short texts costs 25 times the arithmetic. Here
    the models' weights are one matrix: the decision values of every model come from one
    product, then each model's sigmoid ``expit(-(a * d + b))``, summed in the models' order and
    divided by their number, as scikit-learn does (equal to the last bit, see
    ``tests/detectors/scanners/test_toxicity.py``).
    """

    def __init__(self, weights: np.ndarray, intercepts: np.ndarray, a: np.ndarray,
                 b: np.ndarray) -> None:
        self.weights, self.intercepts, self.a, self.b = weights, intercepts, a, b

    @classmethod
    def of(cls, model: Any) -> SigmoidCalibratedLinear | None:
        """The fast form of ``model``, or None if it is not one this class reproduces."""
        try:
            parts = model.calibrated_classifiers_
            if model.method != "sigmoid" or len(model.classes_) != 2:
                return None
            if any(p.estimator.coef_.shape[0] != 1 or len(p.calibrators) != 1 for p in parts):
                return None
            return cls(
                np.stack([p.estimator.coef_[0] for p in parts], axis=1),
                np.array([p.estimator.intercept_[0] for p in parts]),
                np.array([p.calibrators[0].a_ for p in parts]),
                np.array([p.calibrators[0].b_ for p in parts]),
            )
        except (AttributeError, IndexError, TypeError):
            return None

    def __call__(self, x: Any) -> np.ndarray:
        from scipy.special import expit

        decisions = np.asarray(x @ self.weights) + self.intercepts
        total = np.zeros(decisions.shape[0])
        for k in range(decisions.shape[1]):
            total += expit(-(self.a[k] * decisions[:, k] + self.b[k]))
        return total / decisions.shape[1]


class WordTfidf:
    """A fitted word-unigram ``TfidfVectorizer``'s ``transform``, the same matrix, faster.

    scikit-learn's analyser calls several Python functions per text and filters stop words token
    by token; here the batch's tokens are mapped to columns in one pass, and the counts matrix
    is assembled with numpy. Stop words are never in a fitted vocabulary, so dropping unknown
    tokens drops them too. Counts are weighted and normalised as scikit-learn does it, on the
    same sorted-index matrix, so scores are equal to the last bit (about 4x less CPU per text).
    A vectoriser with any other settings falls back to its own ``transform``.
    """

    def __init__(self, vectorizer: Any) -> None:
        self.vectorizer = vectorizer
        self._vocabulary: dict[str, int] = vectorizer.vocabulary_
        self._columns = {word.encode("utf-8", "surrogatepass"): column
                         for word, column in self._vocabulary.items()}
        self.exact = (
            vectorizer.input == "content" and vectorizer.analyzer == "word"
            and vectorizer.preprocessor is None and vectorizer.strip_accents is None
            and vectorizer.lowercase and vectorizer.tokenizer is None
            and vectorizer.token_pattern == _DEFAULT_TOKEN_PATTERN
            and vectorizer.ngram_range == (1, 1) and not vectorizer.binary
            and vectorizer.use_idf and not vectorizer.sublinear_tf
            and self._vocabulary.keys().isdisjoint(vectorizer.get_stop_words() or ())
            and min(map(len, self._vocabulary), default=2) >= 2  # what _words relies on
        )

    def __call__(self, texts: list[str]) -> Any:
        if not self.exact:
            return self.vectorizer.transform(texts)
        from scipy import sparse
        from sklearn.preprocessing import normalize

        tokens = [_words(text) for text in texts]
        flat = list(chain.from_iterable(tokens))
        columns = np.fromiter(map(self._columns.get, flat, repeat(-1)), np.intp, len(flat))
        rows = np.repeat(np.arange(len(texts)), [len(t) for t in tokens])
        known = columns >= 0
        counts = sparse.csr_matrix(
            (np.ones(int(known.sum())), (rows[known], columns[known])),
            shape=(len(texts), len(self._vocabulary)),
        )
        counts.sum_duplicates()  # also sorts each row's indices, as scikit-learn's matrix is
        counts.data *= self.vectorizer.idf_[counts.indices]
        if self.vectorizer.norm is not None:
            counts = normalize(counts, norm=self.vectorizer.norm, copy=False)
        return counts


class HFToxicityScorer:
    """Toxicity from a local Hugging Face text-classification model.

    Parameters
    ----------
    model_dir : str or Path
        Directory holding the model and tokenizer (``config.json``, weights, tokenizer files).
    toxic_labels : iterable of str, optional
        Labels whose probabilities add up to the toxicity score (compared case-insensitively);
        default :data:`DEFAULT_TOXIC_LABELS`.
    batch_size : int, optional
        Texts per forward pass (default 32).
    device : int or str, optional
        ``transformers`` device: -1 or "cpu" for CPU (default), 0 / "cuda:0" for a GPU.

    Raises
    ------
    ToxicityModelError
        If ``model_dir`` is not a model directory or ``transformers`` is not installed; the
        message names the ``toxicity_model_dir`` setting.
    """

    def __init__(
        self,
        model_dir: str | Path,
        *,
        toxic_labels: Iterable[str] = DEFAULT_TOXIC_LABELS,
        batch_size: int = 32,
        device: int | str = -1,
    ) -> None:
        self.model_dir = Path(model_dir).expanduser()
        if not self.model_dir.is_dir():
            raise ToxicityModelError(
                f"{MODEL_DIR_SETTING}: no model directory at '{self.model_dir}'; point it at a "
                "local Hugging Face text-classification model, or leave it unset to use "
                "alt-profanity-check"
            )
        if not (self.model_dir / "config.json").is_file():
            raise ToxicityModelError(
                f"{MODEL_DIR_SETTING}: '{self.model_dir}' has no config.json, so it is not a "
                "Hugging Face model directory"
            )
        self.toxic_labels = frozenset(label.lower() for label in toxic_labels)
        if not self.toxic_labels:
            raise ValueError("toxic_labels must name at least one label")
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.device = device
        self._reset()

    def _reset(self) -> None:
        try:
            from transformers import pipeline
        except ImportError as exc:
            raise ToxicityModelError(
                f"{MODEL_DIR_SETTING} is set, but the 'transformers' package is not installed "
                "(install seismo with the 'embed' extra)"
            ) from exc
        self._pipe = pipeline(
            "text-classification",
            model=str(self.model_dir),
            tokenizer=str(self.model_dir),
            top_k=None,
            device=self.device,
        )

    def score_many(self, texts: Sequence[str]) -> np.ndarray:
        """Summed probability of the toxic labels for each text."""
        batch = list(texts)
        if not batch:
            return np.zeros(0)
        outputs = self._pipe(batch, batch_size=self.batch_size, truncation=True)
        return np.array(
            [
                min(1.0, sum(o["score"] for o in out if o["label"].lower() in self.toxic_labels))
                for out in outputs
            ],
            dtype=np.float64,
        )


def make_toxicity_scorer(model_dir: str | Path | None = None) -> ToxicityScorer:
    """The configured scorer: the HF model in ``model_dir`` if given, else the default."""
    if model_dir is None or str(model_dir) == "":
        return ProfanityCheckScorer()
    return HFToxicityScorer(model_dir)
