"""Does a token look random? The tests the secret scanner puts every key candidate to.

A token of length ``L`` looks random at level ``alpha`` when the Shannon entropy of its
characters reaches the ``alpha``-quantile of the entropy of uniformly random tokens of length
``L`` over its alphabet (:func:`entropy_threshold`, seeded Monte Carlo) and, for base62 and
base64 tokens, when its characters sit no more in lower-case runs and camel-case words than
those of random tokens do (:func:`word_share_thresholds`). A token that decodes as base64 to
readable text (:func:`decode_base64_text`) is encoded content, not key material; the
injection scorer uses that decoding too, to scan what a blob hides.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from functools import cache

import numpy as np

# Monte Carlo draws per (length, alphabet) reference distribution; 8192 leaves about eight
# draws under the 0.001 quantile, enough for a stable threshold.
_ENTROPY_SAMPLES = 8192
# Tokens longer than this use this length's threshold; the threshold increases with length,
# so the cap can only make the test easier to pass (it never loses recall).
_MAX_REFERENCE_LENGTH = 256
BASE62 = 62  # symbols of base62 (letters and digits); base64 adds two
_CASE_SYMBOLS = 26  # upper-case, and lower-case, letters among the 62 base62 symbols
_LOWER_RUN_MIN = 3  # a run of 3+ lower-case letters reads as (part of) a word
_CAMEL_RUN_MIN = 2  # "Is", "Id", "get": camel-case words can be short
_LOWER_RUN = re.compile(r"[a-z]{3,}")
_CAMEL_WORD = re.compile(r"[A-Z]?[a-z]{2,}")


def shannon_entropy(token: str) -> float:
    """Shannon entropy in bits per character of the character distribution of ``token``."""
    n = len(token)
    if n == 0:
        return 0.0
    return -sum(c / n * math.log2(c / n) for c in Counter(token).values())


@cache
def entropy_threshold(length: int, alphabet_size: int, alpha: float) -> float:
    """The ``alpha``-quantile of the entropy of uniformly random tokens.

    Parameters
    ----------
    length : int
        Token length; capped at an internal maximum (see module notes).
    alphabet_size : int
        Number of equally likely characters (62 for base62, 32 for base32 ...).
    alpha : float
        Share of random tokens allowed to fall below the threshold.

    Examples
    --------
    >>> round(entropy_threshold(40, 16, 0.001), 2) < 4.0  # random hex stays below log2(16)
    True
    """
    length = min(length, _MAX_REFERENCE_LENGTH)
    rng = np.random.default_rng([length, alphabet_size])  # deterministic per reference
    draws = rng.integers(0, alphabet_size, size=(_ENTROPY_SAMPLES, length), dtype=np.int64)
    # Count characters of every draw at once: offset each row's symbols into its own bins.
    rows = np.arange(_ENTROPY_SAMPLES, dtype=np.int64)[:, None] * alphabet_size
    counts = np.bincount((draws + rows).ravel(), minlength=_ENTROPY_SAMPLES * alphabet_size)
    p = counts.reshape(_ENTROPY_SAMPLES, alphabet_size) / length
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(p > 0, p * np.log2(p), 0.0).sum(axis=1)
    return float(np.quantile(entropy, alpha))


def word_shares(token: str) -> tuple[float, float]:
    """Shares of ``token``'s characters in lower-case runs (3+) and in camel-case words.

    A camel-case word is a run of 2+ lower-case letters with the capital before it, if any
    (``get``, ``User``, ``Profile`` in ``getUserProfile``).
    """
    if not token:
        return 0.0, 0.0
    n = len(token)
    return (
        sum(len(run) for run in _LOWER_RUN.findall(token)) / n,
        sum(len(word) for word in _CAMEL_WORD.findall(token)) / n,
    )


@cache
def word_share_thresholds(length: int, alpha: float) -> tuple[float, float]:
    """The ``(1 - alpha)``-quantiles of :func:`word_shares` of uniformly random base62 tokens.

    Identifiers built from English words (``getUserProfileSettings42``) can reach the entropy of
    random tokens; most of their characters sit in words, which random base62 tokens (26 of 62
    symbols lower-case, 26 upper-case) rarely form.
    """
    length = min(length, _MAX_REFERENCE_LENGTH)
    rng = np.random.default_rng([length, BASE62, 1])
    symbols = rng.integers(0, BASE62, size=(_ENTROPY_SAMPLES, length))
    upper = symbols < _CASE_SYMBOLS
    lower = (symbols >= _CASE_SYMBOLS) & (symbols < 2 * _CASE_SYMBOLS)
    # Length of the lower-case run through each position = forward + backward run - 1.
    forward = np.zeros(lower.shape, dtype=np.int32)
    backward = np.zeros(lower.shape, dtype=np.int32)
    forward[:, 0] = lower[:, 0]
    backward[:, -1] = lower[:, -1]
    for i in range(1, length):
        forward[:, i] = (forward[:, i - 1] + 1) * lower[:, i]
        j = length - 1 - i
        backward[:, j] = (backward[:, j + 1] + 1) * lower[:, j]
    run = np.where(lower, forward + backward - 1, 0)
    in_lower_run = run >= _LOWER_RUN_MIN
    # A capital counts when a lower-case run of 2+ follows it.
    capital = np.zeros(lower.shape, dtype=bool)
    capital[:, :-1] = upper[:, :-1] & (run[:, 1:] >= _CAMEL_RUN_MIN)
    in_camel_word = (run >= _CAMEL_RUN_MIN) | capital
    return (
        float(np.quantile(in_lower_run.mean(axis=1), 1.0 - alpha)),
        float(np.quantile(in_camel_word.mean(axis=1), 1.0 - alpha)),
    )


def looks_random(token: str, alphabet_size: int, alpha: float) -> bool:
    """Whether ``token`` passes the randomness tests at level ``alpha``.

    Its entropy must reach the ``alpha``-quantile of random tokens over ``alphabet_size``
    symbols; for base62/base64 tokens (``alphabet_size >= 62``) each of its :func:`word_shares`
    must also stay within the ``(1 - alpha)``-quantile of random tokens.
    """
    length = len(token)
    threshold = entropy_threshold(length, alphabet_size, alpha)
    # Entropy is at most log2 of the number of distinct characters: a token of few symbols
    # (a hex trace id or digest, 16 of them) fails without counting them, at a tenth the cost.
    if math.log2(len(set(token)) or 1) < threshold or shannon_entropy(token) < threshold:
        return False
    if alphabet_size < BASE62:
        return True
    lower_share, camel_share = word_shares(token)
    lower_max, camel_max = word_share_thresholds(length, alpha)
    return lower_share <= lower_max and camel_share <= camel_max


def decode_base64_text(token: str) -> str | None:
    """The text ``token`` encodes in base64 or base64url, or ``None`` if it encodes no text.

    Random key material decodes to arbitrary bytes, so a token that decodes to printable UTF-8
    is encoded content (JSON, prose, an instruction), not a credential.
    """
    body = token.rstrip("=")
    if len(body) % 4 == 1:
        return None
    padded = body + "=" * (-len(body) % 4)
    try:
        if "-" in padded or "_" in padded:
            raw = base64.urlsafe_b64decode(padded)
        else:
            raw = base64.b64decode(padded, validate=True)
        text = raw.decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    if not text or not text.replace("\n", "").replace("\t", "").replace("\r", "").isprintable():
        return None
    return text


