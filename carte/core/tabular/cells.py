"""Text a spreadsheet would run as a formula, made harmless on the way out and restored on
the way in: the one rule of every export (the catalogue's, the registers') and import."""

from __future__ import annotations

# What a spreadsheet may run as a formula when a cell starts with it: the four signs, and
# a tab or a carriage return (a spreadsheet skips them and reads the formula after).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_QUOTED = (*_FORMULA_START, "'")


def neutralise(text: str) -> str:
    """Prefix a quote to text a spreadsheet would run as a formula.

    Text that already starts with a quote followed by such a character (or by a quote)
    gets one too, so `unneutralise` can always remove exactly one and the round trip is
    exact.
    """
    if text.startswith(_FORMULA_START) or (text.startswith("'") and text[1:2] in _QUOTED):
        return "'" + text
    return text


def unneutralise(text: str) -> str:
    """Remove the quote `neutralise` added, and nothing else."""
    if text.startswith("'") and text[1:2] in _QUOTED:
        return text[1:]
    return text
