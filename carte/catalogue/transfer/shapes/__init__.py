"""The tabular shape of an exported catalogue, shared by every format.

One table per part, one row per record, one column per field. Rows name each other by
natural keys (service code, category name, person e-mail, PMO name, customer group name,
supplier or output name within its service), never by database id, so an export can be
imported into another organisation. Values here are canonical Python values (str, int,
bool, Decimal, date, sorted lists); the writers and readers turn them into cells.

`tables` names the tables and their columns, `cells` reads and writes a cell, `records`
makes the row of a stored record from its model instance (what an import compares with)
and `dump` reads every live row of a table as plain values (what the export writes).
"""

from __future__ import annotations

from carte.catalogue.transfer.shapes.cells import (
    LIST_SEP,
    CellError,
    convert,
    money,
    neutralise,
    unneutralise,
)
from carte.catalogue.transfer.shapes.dump import table_rows
from carte.catalogue.transfer.shapes.records import (
    PART_KINDS,
    PART_MODELS,
    artefact_row,
    part_queryset,
    part_row,
    service_row,
)
from carte.catalogue.transfer.shapes.tables import (
    BOOL,
    CHOICE,
    CHOICES,
    DATE,
    DECIMAL,
    FORMAT,
    HEADERS,
    INT,
    NAMES,
    REFS,
    SERVICE,
    TABLES,
    TEXT,
    VERSION,
    Column,
    Row,
)

__all__ = [
    "BOOL",
    "CHOICE",
    "CHOICES",
    "DATE",
    "DECIMAL",
    "FORMAT",
    "HEADERS",
    "INT",
    "LIST_SEP",
    "NAMES",
    "PART_KINDS",
    "PART_MODELS",
    "REFS",
    "SERVICE",
    "TABLES",
    "TEXT",
    "VERSION",
    "CellError",
    "Column",
    "Row",
    "artefact_row",
    "convert",
    "money",
    "neutralise",
    "part_queryset",
    "part_row",
    "service_row",
    "table_rows",
    "unneutralise",
]
