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
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from detectors._validation import check_int

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
        self._predict: Callable[[list[str]], np.ndarray] | None = None

    def score_many(self, texts: Sequence[str]) -> np.ndarray:
        """Probability that each text is profane or abusive."""
        batch = list(texts)
        if not batch:
            return np.zeros(0)
        if self._predict is None:
            from profanity_check import predict_prob  # loads the model: only when first used

            self._predict = predict_prob
        return np.clip(np.asarray(self._predict(batch), dtype=np.float64), 0.0, 1.0)


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
