"""Keywords that tell clusters of texts apart: class-based TF-IDF (c-TF-IDF).

Each cluster's texts are treated as one document. A term scores high for a cluster when it
is frequent there (term frequency within the cluster) and rare over all texts, the weighting
of Grootendorst's original c-TF-IDF (2020, the precursor of BERTopic):

``w(t, c) = tf(t, c) * max(0, log(m / f(t)))``

where ``tf(t, c)`` is the count of ``t`` in cluster ``c`` divided by the number of words
in ``c``, ``f(t)`` the count of ``t`` over all texts and ``m`` the number of texts. A word
that every text carries once (an app's system prompt, a brand name) gets weight 0; a word
that one cluster in ten uses gets ``log 10``. BERTopic's later smoothing
``log(1 + A / f(t))`` (``A`` the mean words per cluster) was tried and rejected here: with
it, a brand name added to every generated prompt ranked third in every cluster, ahead of the
words that name the topic.

The tokenizer is deliberately simple (lower-cased alphabetic words, English stop words
removed, words with digits dropped because ids, amounts and dates are unique per text and
say nothing about the topic), so no NLP package is needed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from detectors._validation import check_int

__all__ = ["STOP_WORDS", "class_tfidf", "drop_boilerplate", "tokenize"]

# Common English function words plus the chat filler that fills LLM prompts ("please",
# "thanks"); small enough to read, large enough that keywords are content words.
_STOP_WORDS_TEXT = """
    a about above after again against all also am an and any anymore are aren't as at be
    because been before being below between both but by can can't cannot could couldn't did
    didn't do does doesn't doing don't done down during each either else even ever every
    few for from further get gets getting got had hadn't has hasn't have haven't having he
    her here hers herself him himself his how however i i'd i'll i'm i've if in into is
    isn't it it's its itself just let let's like ll may me might more most much must my
    myself need needs neither no nor not now of off often on once one only or other our
    ours ourselves out over own per please re really same shall she should shouldn't since
    so some still such than thank thanks that that's the their theirs them themselves then
    there there's these they they'd they'll they're they've this those though through to
    too under until up upon us use used using ve very via was wasn't we we'd we'll we're
    we've were weren't what what's when where which while who whom whose why will with
    within without won't would wouldn't yes yet you you'd you'll you're you've your yours
    yourself yourselves hi hello hey ok okay sure
"""
STOP_WORDS: frozenset[str] = frozenset(_STOP_WORDS_TEXT.split())

# Letters with inner apostrophes or hyphens ("don't", "e-mail"); digits end a word, and
# tokens containing them are dropped below.
_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")


def tokenize(text: str, *, min_length: int = 2) -> list[str]:
    """Lower-cased content words of ``text``: no stop words, nothing with a digit.

    Examples
    --------
    >>> tokenize("Hi! Is my Bitcoin swap on 2024-05-01 taxable? Order ORD-1234.")
    ['bitcoin', 'swap', 'taxable', 'order']
    """
    words = (w.replace("’", "'") for w in _WORD.findall(text.lower()))
    return [
        w for w in words
        if len(w) >= min_length and w not in STOP_WORDS and not any(ch.isdigit() for ch in w)
    ]


def drop_boilerplate(texts: Sequence[str], *, min_share: float = 0.05) -> list[str]:
    r"""The texts without lines that many multi-line texts repeat verbatim.

    A chat prompt stored as one text carries its system message ("You are a friendly
    support assistant ...") on a line of its own, the same in thousands of prompts. Such a
    line says nothing about the topic of one prompt but fills every example and leaks its
    words into keywords. A line counts as boilerplate when at least ``min_share`` of all
    texts (and at least two) contain it inside a multi-line text; single-line texts are left
    whole, as is a text that would be left empty.

    Examples
    --------
    >>> system = "You are a helpful assistant."
    >>> drop_boilerplate([f"{system}\nWhere is my order?", f"{system}\nReset my password", "Hi"])
    ['Where is my order?', 'Reset my password', 'Hi']
    """
    if not 0.0 < min_share <= 1.0:
        raise ValueError(f"min_share must be in (0, 1], got {min_share!r}")
    split = [[line.strip() for line in t.split("\n")] for t in texts]
    counts = Counter(line for lines in split if len(lines) > 1 for line in set(lines) if line)
    threshold = max(2.0, min_share * len(texts))
    boilerplate = {line for line, n in counts.items() if n >= threshold}
    out = []
    for text, lines in zip(texts, split, strict=True):
        kept = [line for line in lines if line and line not in boilerplate]
        out.append("\n".join(kept) if len(lines) > 1 and kept else text)
    return out


def class_tfidf(
    texts: Sequence[str],
    labels: ArrayLike,
    n_classes: int,
    *,
    top_n: int = 8,
    min_df: int = 2,
) -> list[list[tuple[str, float]]]:
    """The ``top_n`` c-TF-IDF keywords of each class, best first.

    Parameters
    ----------
    texts : sequence of str
        The texts.
    labels : array_like of int, shape (len(texts),)
        Class of each text, in ``0 .. n_classes - 1``.
    n_classes : int
        Number of classes; a class without texts gets an empty list.
    top_n : int, default 8
        Keywords per class.
    min_df : int, default 2
        A word must occur in at least this many texts to be a keyword: a word seen once is
        a name or a typo, not a topic.

    Returns
    -------
    list of list of (word, weight)
        One list per class, sorted by weight (ties by word, so the result is deterministic).

    Examples
    --------
    >>> texts = ["refund my order", "refund the order please", "reset my password",
    ...          "password reset link", "my order is late"]
    >>> [[w for w, _ in k] for k in class_tfidf(texts, [0, 0, 1, 1, 0], 2, top_n=2)]
    [['refund', 'order'], ['password', 'reset']]
    """
    n_classes = check_int("n_classes", n_classes, minimum=1)
    top_n = check_int("top_n", top_n, minimum=1)
    min_df = check_int("min_df", min_df, minimum=1)
    labels = np.asarray(labels)
    if labels.shape != (len(texts),):
        raise ValueError(f"labels must have shape ({len(texts)},), got {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in 0 .. {n_classes - 1}")

    tokens = [tokenize(t) for t in texts]
    document_frequency = Counter(w for words in tokens for w in set(words))
    vocabulary = sorted(w for w, df in document_frequency.items() if df >= min_df)
    if not vocabulary:
        return [[] for _ in range(n_classes)]
    index = {w: i for i, w in enumerate(vocabulary)}
    pairs = [(int(label), index[w])
             for label, words in zip(labels, tokens, strict=True) for w in words if w in index]
    counts = np.zeros((n_classes, len(vocabulary)))
    rows, columns = np.array(pairs, dtype=np.intp).reshape(-1, 2).T
    np.add.at(counts, (rows, columns), 1.0)

    tf = counts / np.maximum(counts.sum(axis=1), 1.0)[:, None]
    # Every vocabulary word occurs, so f(t) > 0; a word more frequent than one per text is
    # no keyword of anything (weight 0, not negative).
    idf = np.maximum(np.log(len(texts) / counts.sum(axis=0)), 0.0)
    weights = tf * idf

    out: list[list[tuple[str, float]]] = []
    for row in weights:
        order = sorted(np.flatnonzero(row > 0), key=lambda i: (-row[i], vocabulary[i]))
        out.append([(vocabulary[i], float(row[i])) for i in order[:top_n]])
    return out
