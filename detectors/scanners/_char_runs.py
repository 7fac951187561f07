"""Byte tables for text scans that would otherwise be regexes: whether a text holds a run of
characters of one ASCII class, and its non-ASCII characters.

Several pre-filters ask "is there a stretch of at least n characters from this set" (a token
long enough to be a secret, a base64 blob). A regex tries its pattern at every character and
``max(map(len, text.split()))`` builds a string per word: on a 250-character text either costs
3-4 µs. Here one byte translation marks the class's characters and one substring search looks
for ``n`` marks in a row, about a fifth of that.

The search runs on the UTF-8 bytes. Every byte of a non-ASCII character's encoding is 0x80 or
above and none is in an ASCII class, so a run of class bytes is exactly a run of class
characters, in any text (``tests/detectors/scanners/test_char_runs.py`` compares it with the regex).
"""

from __future__ import annotations

_MARK = ord("x")
_OTHER = ord(" ")
_ASCII = bytes(range(128))


def non_ascii_text(encoded: bytes) -> str:
    """The non-ASCII characters of UTF-8 text (``surrogatepass`` encoded), in order.

    Deleting every ASCII byte leaves the non-ASCII characters' whole encodings: one C-level
    pass, where a look at every character would be one in Python (most texts hold a few).

    >>> non_ascii_text("naïve café — ok".encode())
    'ïé—'
    """
    return encoded.translate(None, _ASCII).decode("utf-8", "surrogatepass")


class AsciiRun:
    """Tests texts for ``length`` or more characters of ``chars`` (ASCII only) in a row.

    >>> AsciiRun("0123456789", 3)("call 555-0199")
    True
    """

    def __init__(self, chars: str, length: int) -> None:
        if not chars.isascii():
            raise ValueError(f"chars must be ASCII, got {chars!r}")
        if length < 1:
            raise ValueError(f"length must be at least 1, got {length!r}")
        self.chars = chars
        self.length = length
        self._table = bytes(_MARK if chr(byte) in chars else _OTHER for byte in range(256))
        self._needle = bytes([_MARK]) * length

    def __call__(self, text: str) -> bool:
        # surrogatepass: a lone surrogate (valid in a JSON string) encodes to bytes >= 0x80
        # instead of raising; it is in no ASCII class either way.
        return self._needle in text.encode("utf-8", "surrogatepass").translate(self._table)
