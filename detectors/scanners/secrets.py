"""Credentials in free text: private keys, JWTs, AWS keys, provider API keys, random tokens.

Structured formats are found by their prefixes and shapes; the random part of every key must
also *look* random, which is how placeholders (``sk-xxxxxxxx…``, ``AKIAXXXXXXXXXXXXXXXX``,
``sk-your-key-here``) are told from real keys.

"Looks random" is one test used throughout, at a configured level ``alpha``: a token of length
``L`` is random-looking when the Shannon entropy of its characters is at least the
``alpha``-quantile of the entropy of uniformly random tokens of length ``L`` over the same
alphabet (by seeded Monte Carlo; the tests are in :mod:`detectors.scanners.randomness`). So a
share ``alpha`` of real random keys is missed by each such test (about ``3 * alpha`` in all
with the word tests below), and the threshold grows with length as it must: 20 random base62
characters average about 4.0 bits, 64 about 5.2.

Generic high-entropy tokens (``high_entropy``) are runs of base64/base64url characters of at
least ``min_entropy_length`` characters, containing a letter and a digit, that pass that test
and do not decode as base64 to readable text (encoded JSON or prose is not a credential).
Why 32 characters: below it the ``alpha = 0.001`` threshold for base62 falls under
``log2(16) = 4`` bits, so hex digests could pass it; from 32 on the threshold (4.08 bits at
32, 4.2 at 36) is above the largest entropy any hex string (4 bits) or UUID (``log2(17)`` =
4.09 bits) can have, so hashes, git SHAs and UUIDs are excluded by arithmetic, not by luck.
Identifiers made of English words can still reach random-level entropy, so
:func:`looks_random` also bounds the share of characters in lower-case runs and in camel-case
words (same ``alpha``). Measured on the labelled negatives in
``tests/detectors/fixtures`` (words, identifiers, URLs, paths, hashes and UUIDs in prose,
encoded JSON): 72 tokens reach the test; 21 of them have random-level entropy, of which 2 are
identifiers stopped by the word bounds and 19 are base64-encoded JSON or prose stopped by the
decoding check; none is reported.
Certificates, public-key PEM blocks and ``ssh-…`` public keys are skipped: public material.
"""

from __future__ import annotations

import json
import math
import re
import string
from collections.abc import Iterable, Iterator

from detectors._validation import check_alpha, check_int
from detectors.scanners._char_runs import AsciiRun
from detectors.scanners.findings import Finding, count_by_type, select_non_overlapping
from detectors.scanners.pii import has_digit
from detectors.scanners.randomness import (
    BASE62,
    decode_base64_text,
    entropy_threshold,
    looks_random,
)

SECRET_TYPES: tuple[str, ...] = ("private_key", "jwt", "aws_access_key", "api_key", "high_entropy")
"""Every secret type, in the priority used when two findings overlap (first wins)."""

_MASK = "_public"  # internal type of public material that hides tokens from later finders
_BASE32 = 32  # symbols of an AWS key id's random part

# ---------------------------------------------------------------------------------------------
# Patterns

_PRIVATE_BEGIN = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----")
_PRIVATE_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
# Body of a key whose END line is missing (a truncated completion): base64 lines or PEM headers
# after line breaks (real or JSON-escaped), or long base64 chunks after spaces (newlines lost).
_PRIVATE_TAIL = re.compile(
    r"(?:(?:\r?\n|(?:\\r)?\\n)[ \t]*(?:[A-Za-z0-9+/=]+|[A-Za-z-]+:[^\r\n\\]*)"
    r"|[ \t]+[A-Za-z0-9+/=]{16,})*"
)
_KEY_MATERIAL = re.compile(r"[A-Za-z0-9+/=]{16,}")
_PUBLIC_PEM = re.compile(
    r"-----BEGIN (?!(?:[A-Z0-9]+ )*PRIVATE KEY)([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----"
)
_SSH_PUBLIC = re.compile(
    r"\b(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp\d{3}|sk-ssh-ed25519@openssh\.com)"
    r" AAAA[A-Za-z0-9+/]+=*"
)

_JWT = re.compile(r"(?<![\w-])eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*(?![\w-])")

_AWS_KEY_ID = re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)([A-Z0-9]{16})(?![A-Za-z0-9])")
_AWS_ID_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA")
_AWS_SECRET = re.compile(
    r"(?i:\b(?:aws|amazon)[\w .-]{0,24}?secret[\w .-]{0,16}?|\bsecret_?access_?key)"
    r"[\"'\s]*(?:[:=]|=>|(?i:is))?[\"'\s]*"
    r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"
)

# Provider key formats; group 1 of each pattern is the key's random part. Substring tests decide
# whether the patterns run at all: every prefix below is "AIza" or holds "-" or "_" and one of
# the strings filed under it (a regex alternation of the prefixes scanned every character and
# cost ten times more; single-character tests are the cheapest).
_API_KEY_GATES: dict[str, tuple[str, ...]] = {
    "-": ("sk-", "xox"),  # sk-, sk-ant-, sk-proj-, xox[abeprs]-
    "_": ("k_live_", "k_test_", "gh", "github_pat_", "hf_"),  # also [rs]k_, gh[pousr]_
}
_API_KEYS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?<![\w-])sk-ant-(?:[a-z]+\d\d-)?([A-Za-z0-9_-]{20,})(?![\w-])"),  # Anthropic
    re.compile(r"(?<![\w-])sk-(?:proj-|svcacct-|admin-)?([A-Za-z0-9_-]{20,})(?![\w-])"),  # OpenAI
    re.compile(r"(?<![\w-])[rs]k_(?:live|test)_([A-Za-z0-9]{20,})\b"),  # Stripe
    re.compile(r"(?<![\w-])gh[pousr]_([A-Za-z0-9]{36,255})\b"),  # GitHub
    re.compile(r"(?<![\w-])github_pat_([A-Za-z0-9_]{40,255})\b"),  # GitHub fine-grained
    re.compile(r"(?<![\w-])xox[abeprs]-(?:\d+-){1,3}([A-Za-z0-9]{20,})(?![\w-])"),  # Slack
    re.compile(r"(?<![\w-])AIza([0-9A-Za-z_-]{35})(?![\w-])"),  # Google
    re.compile(r"(?<![\w-])hf_([A-Za-z0-9]{30,})\b"),  # Hugging Face
)

# The characters of a generic token (SecretScanner._token's class, [A-Za-z0-9+/_-]). Every
# provider key above, an AWS key id (prefix and 16) and an AWS secret (40) is a run of at least
# _SHORTEST_KEY of them (a Stripe or Slack key's 20 random characters).
_TOKEN_CHARS = string.ascii_letters + string.digits + "+/_-"
_SHORTEST_KEY = 20
_HAS_DIGIT = re.compile(r"\d")
_HAS_LETTER = re.compile(r"[A-Za-z]")


class SecretScanner:
    """Find credentials in a text.

    Parameters
    ----------
    types : iterable of str, optional
        Secret types to look for, any of :data:`SECRET_TYPES` (default: all).
    alpha : float, optional
        Share of truly random keys the randomness test may miss (default 0.001); smaller
        values accept lower-entropy tokens, so more placeholders and identifiers.
    min_entropy_length : int, optional
        Shortest token considered by the generic ``high_entropy`` finder (default 32; see the
        module notes for why shorter tokens cannot be told from hex digests by entropy).

    Examples
    --------
    >>> scanner = SecretScanner()
    >>> [f.type for f in scanner.scan("key=AKIA2E0A8F3B244C9986 and sk-xxxxxxxxxxxxxxxxxxxxxxxx")]
    ['aws_access_key']
    """

    def __init__(
        self,
        types: Iterable[str] = SECRET_TYPES,
        *,
        alpha: float = 0.001,
        min_entropy_length: int = 32,
    ) -> None:
        requested = tuple(types)
        unknown = sorted(set(requested) - set(SECRET_TYPES))
        if unknown:
            raise ValueError(
                f"types must be secret types from {SECRET_TYPES}, got unknown {unknown}"
            )
        if not requested:
            raise ValueError("types must name at least one secret type")
        # Above 0.5 the "random" acceptance region would exclude most random tokens.
        if check_alpha(alpha) >= 0.5:
            raise ValueError(f"alpha must be a number in (0, 0.5), got {alpha!r}")
        self.types = tuple(t for t in SECRET_TYPES if t in requested)
        self.alpha = float(alpha)
        self.min_entropy_length = check_int("min_entropy_length", min_entropy_length, minimum=16)
        self._reset()

    def _reset(self) -> None:
        self._token = re.compile(
            rf"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{{{self.min_entropy_length},}}={{0,2}}"
            r"(?![A-Za-z0-9+/_=-])"
        )
        self._long_token = AsciiRun(_TOKEN_CHARS, min(_SHORTEST_KEY, self.min_entropy_length))
        finders = {
            "private_key": self._private_keys,
            "jwt": self._jwts,
            "aws_access_key": self._aws_keys,
            "api_key": self._api_keys,
            "high_entropy": self._high_entropy,
        }
        self._finders = [(t, finders[t]) for t in self.types]

    # -- public API -------------------------------------------------------------------------

    def scan(self, text: str) -> list[Finding]:
        """All non-overlapping secret findings in ``text``, sorted by offset."""
        return [f for f in select_non_overlapping(self.candidates(text)) if f.type != _MASK]

    def candidates(self, text: str) -> Iterator[Finding]:
        """Every validated match, overlaps included, in priority order.

        Spans of public material (certificates, public keys) come out with an internal type
        ahead of the generic finder so that :func:`select_non_overlapping` suppresses tokens
        inside them; :meth:`scan` drops them.
        """
        masked = False
        for type_, find in self._finders:
            if type_ == "high_entropy" and not masked:
                yield from self._public_material(text)
                masked = True
            for start, end in find(text):
                yield Finding(type_, start, end, text[start:end])

    def count(self, text: str) -> dict[str, int]:
        """Findings per type in ``text``, zero for every configured type without one."""
        return count_by_type(self.scan(text), self.types)

    def may_find(self, text: str) -> bool:
        """False only if :meth:`scan` finds nothing in ``text``: a cheap pre-filter.

        A private key needs its header and a JWT its "eyJ"; every other finder needs a run of
        :data:`_SHORTEST_KEY` token characters (a provider key, an AWS key id or secret) or of
        ``min_entropy_length`` (a generic token), whichever is shorter. The run is one byte
        table and one substring search (:mod:`detectors.scanners._char_runs`), cheaper than the
        finders' own gates together; it also passes long identifiers (about 2 % of
        generated prompts), which the finders then reject. Public material only hides tokens,
        so it needs no test.
        """
        return "PRIVATE KEY" in text or "eyJ" in text or self._long_token(text)

    def random_token_possible(self, length: int, symbols: int) -> bool:
        """Whether the ``high_entropy`` finder could report a token of ``length`` characters
        drawn from at most ``symbols`` distinct ones (False for a hex id of 32 or more, 16
        symbols, at the default ``alpha``: :func:`looks_random` rejects every token with
        ``log2`` of its distinct characters under the threshold, before counting them)."""
        return length >= self.min_entropy_length and math.log2(symbols) >= entropy_threshold(
            length, BASE62, self.alpha
        )

    # -- finders ----------------------------------------------------------------------------

    def _private_keys(self, text: str) -> Iterator[tuple[int, int]]:
        if "PRIVATE KEY" not in text:
            return
        pos = 0
        while (begin := _PRIVATE_BEGIN.search(text, pos)) is not None:
            end = _PRIVATE_END.search(text, begin.end())
            stop = end.end() if end else _PRIVATE_TAIL.match(text, begin.end()).end()
            pos = max(stop, begin.end())
            # A header with no key material after it is text *about* keys, not a key.
            if _KEY_MATERIAL.search(text, begin.end(), stop):
                yield begin.start(), stop

    def _public_material(self, text: str) -> Iterator[Finding]:
        if "-----BEGIN " in text:
            for m in _PUBLIC_PEM.finditer(text):
                yield Finding(_MASK, m.start(), m.end(), m.group())
        if "AAAA" in text:
            for m in _SSH_PUBLIC.finditer(text):
                yield Finding(_MASK, m.start(), m.end(), m.group())

    def _jwts(self, text: str) -> Iterator[tuple[int, int]]:
        if "eyJ" not in text:
            return
        for m in _JWT.finditer(text):
            header = decode_base64_text(m.group().split(".", 1)[0])
            try:
                parsed = json.loads(header) if header else None
            except ValueError:
                continue
            if isinstance(parsed, dict) and "alg" in parsed:
                yield m.span()

    def _aws_keys(self, text: str) -> Iterator[tuple[int, int]]:
        if _may_hold_aws_key_id(text):
            for m in _AWS_KEY_ID.finditer(text):
                if looks_random(m.group(1), _BASE32, self.alpha):
                    yield m.span()
        if _may_hold_aws_secret(text):
            for m in _AWS_SECRET.finditer(text):
                if looks_random(m.group(1), BASE62, self.alpha):
                    yield m.span(1)

    def _api_keys(self, text: str) -> Iterator[tuple[int, int]]:
        if not _may_hold_api_key(text):
            return
        for pattern in _API_KEYS:
            for m in pattern.finditer(text):
                if looks_random(m.group(1), BASE62, self.alpha):
                    yield m.span()

    def _high_entropy(self, text: str) -> Iterator[tuple[int, int]]:
        if not has_digit(text):  # every token reported holds a digit
            return
        for m in self._token.finditer(text):
            token = m.group()
            if not (_HAS_DIGIT.search(token) and _HAS_LETTER.search(token)):
                continue
            if looks_random(token.rstrip("="), BASE62, self.alpha) and (
                decode_base64_text(token) is None
            ):
                yield m.span()


def _contains_any(text: str, needles: Iterable[str]) -> bool:
    for needle in needles:  # noqa: SIM110 - a generator in any() costs more than the tests
        if needle in text:
            return True
    return False


def _may_hold_aws_key_id(text: str) -> bool:
    return ("IA" in text or "ACCA" in text) and _contains_any(text, _AWS_ID_PREFIXES)


def _may_hold_aws_secret(text: str) -> bool:
    return "ecret" in text or "ECRET" in text


def _may_hold_api_key(text: str) -> bool:
    """False only if no provider prefix is in ``text`` (a pre-filter for the key patterns)."""
    if "AIza" in text:
        return True
    for mark, needles in _API_KEY_GATES.items():  # a loop: any() over a generator costs more
        if mark in text and _contains_any(text, needles):
            return True
    return False


_DEFAULT_SCANNER = SecretScanner()


def find_secrets(text: str) -> list[Finding]:
    """All secret findings in ``text`` with the default :class:`SecretScanner`."""
    return _DEFAULT_SCANNER.scan(text)
