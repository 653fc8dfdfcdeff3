"""What text Carte accepts, decided once.

Text is what people type or import: names, descriptions, comments, searches. Carte takes
any printable text in any script, with tabs and line breaks, and refuses three kinds of
character that no person types and that break what comes after:

- NUL (U+0000), which PostgreSQL cannot store;
- the other control characters spreadsheets cannot hold (U+0001-U+0008, U+000B, U+000C,
  U+000E-U+001F): accepted once, each would make every later .xlsx export fail;
- lone surrogates (U+D800-U+DFFF), which are half a character and cannot be encoded.

Line breaks are kept as "\\n" ("\\r\\n" from a browser's text area and a lone "\\r" from an
old file alike), so what is stored is what an export gives back and a later import of it
finds unchanged. Long text has a ceiling (`LONG_TEXT`): the page of a service is read,
not a place for a manuscript.

The policy is applied where text comes in: model validation (`TextPolicy`, every write
goes through it), the API's parameters and bodies (`core.api`), the lists' filters
(`core.listing.FromQuery`) and the cells of imported files (each importer's cell
conversion). Each refusal names the field it is about.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

# The characters refused, as one class: NUL and the C0 controls but tab, line feed and
# carriage return (openpyxl's ILLEGAL_CHARACTERS_RE is the same set), and surrogates.
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_BREAKS = re.compile("\r\n?")

LONG_TEXT = 20_000  # characters in a long text (a TextField): about eight pages


def refusal(value: str) -> str | None:
    """Why `value` cannot be accepted as text, or None when it can."""
    found = _REFUSED.search(value)
    if found is None:
        return None
    code = ord(found.group())
    if code == 0:
        return "This text contains a NUL character (U+0000), which cannot be stored: remove it."
    if 0xD800 <= code <= 0xDFFF:
        return f"This text contains half a character (U+{code:04X}), which cannot be stored."
    return (
        f"This text contains an invisible control character (U+{code:04X}), which cannot be "
        "stored: remove it, or type the text again."
    )


def too_long(value: str, limit: int) -> str | None:
    if len(value) > limit:
        return f"At most {limit:,} characters (this text has {len(value):,})."
    return None


def normalise(value: str) -> str:
    """`value` with every line break as "\\n"."""
    return _BREAKS.sub("\n", value) if "\r" in value else value


class BadText(ValueError):
    """Text refused by the policy; the message says why, for the person who typed it."""


def accept(value: str, *, limit: int | None = None) -> str:
    """`value` as Carte stores it (line breaks normalised), or `BadText` saying why not."""
    problem = refusal(value)
    if problem is None and limit is not None:
        problem = too_long(value, limit)
    if problem is not None:
        raise BadText(problem)
    return normalise(value)


def limit_of(field: models.Field[Any, Any]) -> int | None:
    """The length the policy checks for a model field: a long text's ceiling; a short text
    (CharField) has its own `max_length`, checked by Django."""
    return LONG_TEXT if isinstance(field, models.TextField) else None


def is_text(field: models.Field[Any, Any]) -> bool:
    """Whether the policy governs `field`: text that people type (not a choice's code, nor
    what Carte writes itself, such as a published version's search text)."""
    return (
        isinstance(field, models.CharField | models.TextField)
        and not field.choices
        and field.editable
    )


class TextPolicy(models.Model):
    """Model validation applies the text policy to every text field: line breaks are
    normalised on the instance, and refused text is reported on its field with the
    field's own errors."""

    class Meta:
        abstract = True

    def clean_fields(self, exclude: Any = None) -> None:
        errors: dict[str, Any] = {}
        skipped = set(exclude or ())
        for field in self._meta.concrete_fields:
            if field.name in skipped or not is_text(field):
                continue
            value = getattr(self, field.attname)
            if not isinstance(value, str) or not value:
                continue
            try:
                setattr(self, field.attname, accept(value, limit=limit_of(field)))
            except BadText as exc:
                errors[field.name] = [str(exc)]
        try:
            super().clean_fields(exclude=[*skipped, *errors])
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)
