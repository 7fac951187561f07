"""Apply the redaction policy to free text: one scan gives the stored text and the counts.

Policies (setting ``redaction_policy``):

``raw``
    The text is stored as it came; findings are still counted.
``redact`` (default)
    Secrets become ``<SECRET:API_KEY>``-style tags, PII becomes ``<EMAIL>``-style tags.
``hash``
    PII becomes a stable tag ``<EMAIL:1a2b3c4d>``: the first hex digits of an HMAC-SHA256,
    keyed by the salt, of the value's canonical form (so one card number typed with or without
    spaces gives one tag, and traffic about one customer can be grouped without storing them).
    Secrets are removed as under ``redact``: a secret never survives unless the policy is
    ``raw``. The salt is required, since an unsalted hash of an e-mail address is reversed by
    hashing a list of addresses.

Where a secret and a PII value overlap, the secret wins (its tag covers both).

Identifiers of people (``user_id``) are not scanned but replaced whole under ``redact`` and
``hash`` by :meth:`Redactor.pseudonym`, a keyed hash: traffic of one user stays groupable, and
``seismo forget --user-id`` finds their rows by computing the same pseudonym. The worker keys it
with the deployment's salt (``streams.store.salt``), so every worker and every restart agrees.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from detectors._validation import check_int
from detectors.scanners.findings import Finding, count_by_type, select_non_overlapping
from detectors.scanners.pii import PIIScanner, canonical_value
from detectors.scanners.pii_checks import card_valid
from detectors.scanners.secrets import SECRET_TYPES, SecretScanner

# Identifier shapes in which the finders can report (almost) nothing, whose scan
# Redactor.plain_identifier decides without running it: W3C trace and span ids and other hex
# (lower-case), UUIDs in their canonical form (lower-case), ULIDs (Crockford base32).
_HEX = re.compile(r"[0-9a-f]+")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_UUID_LENGTH = 36
_UUID_SYMBOLS = 17  # hex digits and "-"
_HEX_SYMBOLS = 16
_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")
_ULID_LENGTH = 26


class RedactionPolicy(StrEnum):
    """What happens to PII and secrets before text is stored or forwarded."""

    RAW = "raw"
    REDACT = "redact"
    HASH = "hash"


@dataclass(frozen=True, slots=True)
class RedactionResult:
    """The text to store and what was found in it.

    Attributes
    ----------
    text : str
        The text after the policy (unchanged under ``raw``).
    counts_by_type : dict of str to int
        Findings per PII and secret type, zero for every type the scanners look for.
    """

    text: str
    counts_by_type: dict[str, int]

    @property
    def total(self) -> int:
        """Number of findings of every type."""
        return sum(self.counts_by_type.values())


class Redactor:
    """Scan text for secrets and PII once, and apply the redaction policy.

    Parameters
    ----------
    policy : {"raw", "redact", "hash"} or RedactionPolicy, optional
        Default ``"redact"``.
    salt : str or bytes, optional
        HMAC key of the ``hash`` policy's tags and of :meth:`pseudonym`; required (non-empty)
        for ``hash``. Under ``redact`` without one, pseudonyms are keyed by a random key of this
        redactor alone (irreversible, but no other redactor computes the same ones).
    pii : PIIScanner, optional
        Scanner for personal data (default: every PII type).
    secrets : SecretScanner, optional
        Scanner for credentials (default: every secret type, default settings).
    hash_chars : int, optional
        Hex digits kept in a ``hash`` tag (default 8: 32 bits, so two distinct values share a
        tag with probability about ``n**2 / 2**33`` among ``n`` values).

    Examples
    --------
    >>> Redactor().apply("mail jane@example.org, key sk-proj-4fGh81KdPq02LmZx7TbW9sVc").text
    'mail <EMAIL>, key <SECRET:API_KEY>'
    >>> Redactor("hash", salt="s3").apply("jane@example.org").text == \\
    ...     Redactor("hash", salt="s3").apply("JANE@example.org").text
    True
    """

    def __init__(
        self,
        policy: str | RedactionPolicy = RedactionPolicy.REDACT,
        salt: str | bytes = b"",
        *,
        pii: PIIScanner | None = None,
        secrets: SecretScanner | None = None,
        hash_chars: int = 8,
    ) -> None:
        try:
            self.policy = RedactionPolicy(policy)
        except ValueError:
            choices = ", ".join(p.value for p in RedactionPolicy)
            raise ValueError(f"policy must be one of {choices}, got {policy!r}") from None
        self.salt = salt.encode() if isinstance(salt, str) else bytes(salt)
        if self.policy is RedactionPolicy.HASH and not self.salt:
            raise ValueError("salt must be non-empty for the hash policy")
        # Never an unkeyed hash: a list of user ids or e-mail addresses would reverse it.
        self._pseudonym_key = self.salt or os.urandom(32)
        # 64 hex digits is the whole SHA-256; fewer than 4 would make tags collide in bulk.
        if check_int("hash_chars", hash_chars, minimum=4) > 64:
            raise ValueError(f"hash_chars must be at most 64, got {hash_chars!r}")
        self.pii = pii if pii is not None else PIIScanner()
        self.secrets = secrets if secrets is not None else SecretScanner()
        self.hash_chars = hash_chars
        self._reset()

    def _reset(self) -> None:
        self._types = self.secrets.types + self.pii.types
        self._secret_types = frozenset(SECRET_TYPES)

    # -- scanning ---------------------------------------------------------------------------

    def scan(self, text: str) -> list[Finding]:
        """Secrets and PII in ``text``, non-overlapping (secrets first), sorted by offset."""
        # Most texts hold nothing either scanner could report: the pre-filters decide that for
        # a fraction of the cost of running the finders
        # (tests/detectors/scanners/test_redaction.py).
        # Each scanner runs only where its own pre-filter passes: identifiers (trace ids,
        # UUIDs) pass the secrets' long-token test but rarely the PII one, and vice versa.
        secrets = self.secrets.may_find(text)
        pii = self.pii.may_find(text)
        if not (secrets or pii):
            return []
        candidates: Iterable[Finding] = (*(self.secrets.scan(text) if secrets else ()),
                                         *(self.pii.candidates(text) if pii else ()))
        return select_non_overlapping(candidates)

    def plain_identifier(self, text: str) -> bool:
        """True only if ``text`` is an identifier in which :meth:`scan` finds nothing, decided
        from its shape in a fraction of a microsecond (a trace id's scan costs about 10).

        It answers for the shapes below and is False for any other text; within them it is
        exact at the default settings (``tests/detectors/scanners/test_redaction.py`` compares it
        with
        the scan). Why, from the finders' patterns:

        * Lower-case hex (trace, span and parent span ids, digests): every character is a word
          character, and every digit-based PII pattern is bounded by look-arounds that exclude
          word characters, so it can only match the whole text: all digits, with no separator,
          which only the card pattern allows (13-19 digits, then :func:`card_valid`). E-mail,
          IBAN and IPv6 need "@", capitals, ":". Every secret format needs an upper-case or a
          non-hex letter ("sk-", "ghp_", "AKIA", "eyJ", "secret" ...) but the generic token,
          which is the whole text here, of at most 16 symbols
          (:meth:`SecretScanner.random_token_possible`).
        * UUID (8-4-4-4-12 hex): "-" is no word character, but every digit-based pattern's
          look-behind excludes it too, so a match starts at the text's start: only a card of
          the first three groups' 16 digits fits (12 are too few, 20 too many, and a match
          ending inside a group is followed by a word character), and only if the fourth group
          starts with a letter ("-" and a digit may not follow a card). The whole UUID is one
          token of at most 17 symbols.
        * ULID (26 Crockford base32 characters, the first 0-7): all word characters, so no
          digit-based match (a letter, or 26 digits: no card is that long); an IBAN or AWS key
          id would have to start at the first character, a digit; the other secret formats
          need lower-case letters, or 40 random characters after "secret"; and it is one token
          shorter than ``min_entropy_length`` (else the answer is False).
        """
        if _HEX.fullmatch(text):
            if text.isdigit():
                return not card_valid(text)
            return not self.secrets.random_token_possible(len(text), _HEX_SYMBOLS)
        n = len(text)
        if n == _UUID_LENGTH and _UUID.fullmatch(text):
            card = text[:8] + text[9:13] + text[14:18]
            if card.isdigit() and not text[19].isdigit() and card_valid(card):
                return False
            return not self.secrets.random_token_possible(n, _UUID_SYMBOLS)
        return (n == _ULID_LENGTH and n < self.secrets.min_entropy_length
                and _ULID.fullmatch(text) is not None)

    def apply(self, text: str) -> RedactionResult:
        """The text under the policy, with the counts of what was found in it."""
        return self.apply_findings(text, self.scan(text))

    def apply_findings(self, text: str, findings: Sequence[Finding]) -> RedactionResult:
        """:meth:`apply` given what :meth:`scan` found in ``text`` (a caller that scans first
        can skip the result of a text without findings, which is most of them)."""
        counts = count_by_type(findings, self._types)
        if not findings or self.policy is RedactionPolicy.RAW:
            return RedactionResult(text, counts)
        pieces: list[str] = []
        last = 0
        for f in findings:
            pieces.append(text[last : f.start])
            pieces.append(self.tag(f))
            last = f.end
        pieces.append(text[last:])
        return RedactionResult("".join(pieces), counts)

    def __call__(self, text: str) -> str:
        """The text under the policy (for callers that want only the text)."""
        return self.apply(text).text

    def pseudonym(self, value: str) -> str:
        """The stored form of an identifier of a person (``user_id``) under the policy.

        ``raw`` keeps it; ``redact`` and ``hash`` give ``u_`` and the first 16 hex digits of
        HMAC-SHA256(salt, ``"user_id:" + value``): the same user always gets the same
        pseudonym (64 bits: no two of a billion users share one, but for a chance of about
        3 %), and without the salt it cannot be reversed by hashing candidate ids. Empty stays
        empty.

        >>> Redactor("redact", salt="s3").pseudonym("jane@example.org")
        'u_2d639d70c5b40aed'
        >>> Redactor("raw").pseudonym("jane@example.org")
        'jane@example.org'
        """
        if not value or self.policy is RedactionPolicy.RAW:
            return value
        message = b"user_id:" + value.encode("utf-8", "surrogatepass")
        return "u_" + hmac.new(self._pseudonym_key, message, hashlib.sha256).hexdigest()[:16]

    # -- tags -------------------------------------------------------------------------------

    def tag(self, finding: Finding) -> str:
        """The replacement of one finding under the policy (the value itself under ``raw``)."""
        if self.policy is RedactionPolicy.RAW:
            return finding.text
        name = finding.type.upper()
        if finding.type in self._secret_types:
            return f"<SECRET:{name}>"
        if self.policy is RedactionPolicy.HASH:
            return f"<{name}:{self.digest(finding.type, finding.text)}>"
        return f"<{name}>"

    def digest(self, type_: str, value: str) -> str:
        """Salted, format-independent hash of a PII value (hex, ``hash_chars`` long)."""
        message = f"{type_}:{canonical_value(type_, value)}".encode()
        return hmac.new(self.salt, message, hashlib.sha256).hexdigest()[: self.hash_chars]
