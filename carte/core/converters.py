"""Path converters of Carte's pages.

`<id:name>` is an object's id in a path: digits, and no more than the largest id the
database can hold (a signed 64-bit integer). A longer number matches no page, so the
answer is a 404, as for any other id that names nothing, instead of an overflow in the
database driver. Registered here, once, when the module is first imported: `core.listing`
takes `MAX_ID` from it, and every page module imports `core.views` (and so `core.listing`)
before it declares its paths.
"""

from __future__ import annotations

from django.urls import register_converter

MAX_ID = 2**63 - 1  # the largest value of a BigAutoField (and of SQLite's INTEGER)


class IdConverter:
    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        number = int(value) if len(value) <= len(str(MAX_ID)) else MAX_ID + 1
        if number > MAX_ID:
            raise ValueError(f"{value[:30]} is beyond any id")  # no match: a 404
        return number

    def to_url(self, value: int | str) -> str:
        return str(value)


register_converter(IdConverter, "id")
