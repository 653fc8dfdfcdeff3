"""Cells: text a spreadsheet would run as a formula made harmless and back, and the
canonical value of a cell read from any format (or `CellError`)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from carte.catalogue.transfer.shapes.tables import (
    BOOL,
    CHOICE,
    CHOICES,
    DATE,
    DECIMAL,
    INT,
    LEVEL_CODES,
    NAMES,
    TEXT,
    Column,
)

# Re-exported: the transfer's shapes name them.
from carte.core.tabular.cells import neutralise as neutralise
from carte.core.tabular.cells import unneutralise as unneutralise
from carte.core.text import LONG_TEXT, BadText, accept

# ---------------------------------------------------------------- cell conversion


class CellError(ValueError):
    """A cell whose value does not fit its column."""


_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}
LIST_SEP = "\n"  # list cells in a spreadsheet: one name per line (names may hold commas)


def money(value: Any) -> Decimal:
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise CellError(f"{value!r} is not a number.") from exc
    if not number.is_finite():
        raise CellError(f"{value!r} is not a number.")
    return number.quantize(Decimal("0.01"))


def convert(column: Column, value: Any) -> Any:
    """The canonical value of a cell read from any format, or CellError. Text is held to
    the text policy (`core.text`): refused characters are the cell's problem, and line
    breaks come out as the database keeps them, so an unchanged cell compares equal."""
    if isinstance(value, str) and value:
        try:
            value = accept(value, limit=LONG_TEXT)
        except BadText as exc:
            raise CellError(str(exc)) from None
        if column.kind == TEXT:
            return value  # the common case, first
    if isinstance(value, str) and column.kind not in (TEXT, CHOICE, CHOICES, NAMES):
        value = value.strip()
    empty = value is None or value == "" or value == []
    if empty and not column.blank:
        raise CellError("A value is required.")
    kind = column.kind
    if kind == TEXT:
        if empty:
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal | float):
            raise CellError(f"Expected text, got {value!r}.")
        return value if isinstance(value, str) else str(value)
    if kind == INT:
        if empty:
            return None
        if isinstance(value, bool):
            raise CellError(f"{value!r} is not a whole number.")
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        raise CellError(f"{value!r} is not a whole number.")
    if kind == DECIMAL:
        if empty:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise CellError(f"{value!r} is not a number.")
        return money(value)
    if kind == BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        text = "" if value is None else str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise CellError(f"{value!r} is not true or false.")
    if kind == DATE:
        if empty:
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError as exc:
            raise CellError(f"{value!r} is not a date (YYYY-MM-DD).") from exc
    if kind == CHOICE:
        if empty:
            return None if column.choices == LEVEL_CODES else ""
        code = str(value).strip()
        if isinstance(value, float) and value.is_integer():
            code = str(int(value))
        if code not in column.choices:
            raise CellError(f"{code!r} is not one of: {', '.join(column.choices)}.")
        return int(code) if column.choices == LEVEL_CODES else code
    # CHOICES and NAMES: a list, or text with one item per line (commas too for codes).
    items = _items(value, codes=kind == CHOICES)
    if kind == CHOICES:
        for code in items:
            if code not in column.choices:
                raise CellError(f"{code!r} is not one of: {', '.join(column.choices)}.")
    return sorted(set(items))


def _items(value: Any, *, codes: bool) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, list):
        if not all(isinstance(v, str) for v in value):
            raise CellError(f"Expected a list of names, got {value!r}.")
        return [v.strip() for v in value if v.strip()]
    if not isinstance(value, str):
        raise CellError(f"Expected a list of names, got {value!r}.")
    text = value.replace(",", LIST_SEP) if codes else value
    return [v.strip() for v in text.split(LIST_SEP) if v.strip()]
