"""Statements written once from the models' metadata, for the few hot reads where
compiling the ORM query costs more CPU than the database spends running it (the API's
token lookup, the heat map).

Table and column names come from model metadata and values are always parameters, so
nothing a user typed is ever joined into the SQL. Rows are converted as the ORM would
convert them (`Reader`), so a raw read hands back the same Python values on SQLite and
PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection
from django.db.models import Field, Model


def table(model: type[Model]) -> str:
    """The model's table, quoted."""
    return str(connection.ops.quote_name(model._meta.db_table))


def column(model: type[Model], name: str) -> str:
    """The column of the model's field `name` (a foreign key gives its `_id` column), quoted."""
    found = model._meta.get_field(name)
    if not isinstance(found, Field):  # a reverse relation has no column of this table
        raise TypeError(f"{model.__name__}.{name} is not a column")
    return str(connection.ops.quote_name(str(found.column)))


Converter = Callable[[Any, Any, Any], Any]


class Reader:
    """Turns raw rows into the values the ORM would give for the same fields.

    PostgreSQL hands back dates and decimals as they are; SQLite may give a decimal as a
    float and a date as text. The field's and the backend's own converters are found once
    and applied only to the columns that have any.
    """

    def __init__(self, fields: Sequence[tuple[type[Model], str] | None]) -> None:
        """`fields`: the model field behind each column, or None for one left as it is."""
        self.converting: list[tuple[int, Any, list[Converter]]] = []
        for index, spec in enumerate(fields):
            if spec is None:
                continue
            model, name = spec
            col = model._meta.get_field(name).get_col(model._meta.db_table)  # type: ignore[union-attr]
            found = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if found:
                self.converting.append((index, col, found))

    def rows(self, raw: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
        if not self.converting:
            return list(raw)
        out: list[Sequence[Any]] = []
        for row in raw:
            values = list(row)
            for index, col, converters in self.converting:
                value = values[index]
                for convert in converters:
                    value = convert(value, col, connection)
                values[index] = value
            out.append(values)
        return out


def fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run one statement and return all its rows."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
