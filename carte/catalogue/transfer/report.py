"""What an import tells: the problems found, each with its table, row and column, and
what was (or would be) created, changed and removed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from carte.catalogue.transfer.shapes import HEADERS


@dataclass(frozen=True)
class Problem:
    """What is wrong, and where: table (sheet), row number, column."""

    table: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.table]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


@dataclass
class Report:
    """The outcome of an import or a dry run: what was (or would be) done, or what is wrong."""

    dry_run: bool = False
    applied: bool = False
    created: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    changed: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    removed: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    errors: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, dict[str, int]]:
        """Per table: how many rows are created, changed and removed (only non-zero ones)."""
        out: dict[str, dict[str, int]] = {}
        for table in HEADERS:
            numbers = {
                "created": len(self.created.get(table, [])),
                "changed": len(self.changed.get(table, [])),
                "removed": len(self.removed.get(table, [])),
            }
            if any(numbers.values()):
                out[table] = numbers
        return out

    def data(self) -> dict[str, Any]:
        """The report as JSON, as the API answers it and an import's job keeps it."""
        counts = self.counts()
        return {
            "dry_run": self.dry_run,
            "applied": self.applied,
            "tables": counts,
            "total": {
                key: sum(n[key] for n in counts.values())
                for key in ("created", "changed", "removed")
            },
            "created": {t: list(self.created[t]) for t in counts if self.created.get(t)},
            "changed": {t: list(self.changed[t]) for t in counts if self.changed.get(t)},
            "removed": {t: list(self.removed[t]) for t in counts if self.removed.get(t)},
            "problems": [
                {"table": p.table, "row": p.row, "column": p.column, "message": p.message}
                for p in self.errors
            ],
        }
