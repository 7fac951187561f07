"""The check digits and number ranges of the PII formats that have them.

Each check takes the compact value (digits, or capitals and digits for an IBAN) that the
finders in :mod:`detectors.scanners.pii` extracted; the redactor asks :func:`card_valid` too,
to tell whether an all-digit identifier could hold a card number.

>>> luhn_valid("4111111111111111"), card_valid("4111111111111112")
(True, False)
>>> iban_valid("GB82WEST12345698765432")
True
"""

from __future__ import annotations

import re


def luhn_valid(digits: str) -> bool:
    """Whether a string of decimal digits passes the Luhn (mod 10) check."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_valid(iban: str) -> bool:
    """Whether a compact upper-case IBAN has its country's length and passes ISO 7064 mod-97."""
    if IBAN_LENGTHS.get(iban[:2]) != len(iban):
        return False
    # Move country code and check digits to the end; letters become 10..35.
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


# ISO 13616 registry: country code -> IBAN length.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20,
    "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18,
    "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30,
    "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27,
    "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24,
    "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29,
    "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip

# Issuer prefixes of the networks in use (Visa, Mastercard, Amex, Diners, JCB, Discover,
# UnionPay, Maestro): a Luhn-valid number outside them is a tracking or order number.
_CARD_PREFIX = re.compile(r"4|5[0-5]|2(?:2[2-9]|[3-6]\d|7[01]|720)|3[045-9]|6")


def card_valid(digits: str) -> bool:
    """Whether a string of decimal digits is a card number: 13-19 digits, an issuer prefix in
    use and the Luhn check (what the ``credit_card`` finder requires of the digits it found)."""
    return 13 <= len(digits) <= 19 and bool(_CARD_PREFIX.match(digits)) and luhn_valid(digits)
