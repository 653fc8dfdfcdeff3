"""Import a catalogue from .xlsx, a .zip of CSV files, JSON or YAML: all or nothing.

Three steps. Read: stream the file into canonical rows, refusing what is not a catalogue
(size, damaged or encrypted files, unknown tables or columns, formulas, wrong types).
Plan: check every row against the file and the organisation (duplicates, references,
the rules of services and roles) and work out what would be created, changed or removed.
Apply: only when nothing is wrong and it is not a dry run, carry the plan out in one
transaction: new rows a table at a time through `carte.catalogue.services.bulk` (tables in
dependency order: categories, services, artefacts, then parts, inputs last), changes and
removals (rare in a large import) one row at a time through `carte.catalogue.services`;
either way permissions, audit and every domain rule apply, and any refusal rolls
everything back and is reported with its table and row.

Services in the file are matched by code: new ones are created, existing ones updated,
and their live parts are made to match the file (parts not in the file are removed).
Categories and artefacts are created or updated, never removed. Stage and published
version belong to the lifecycle and to publishing: the `stage` column is ignored.

One module a step: `reading` (the file into raw rows), `planning` with `plan_services` and
`plan_parts` (the checks and the writes to make, table by table), `report` (what the
import tells); this module runs them and applies the plan.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import IO

from django.db import connection, models, transaction

from carte.catalogue import services as catalogue
from carte.catalogue.models import Service
from carte.catalogue.transfer.plan_parts import PartsPlan
from carte.catalogue.transfer.plan_services import ServicesPlan
from carte.catalogue.transfer.planning import WriteRefused
from carte.catalogue.transfer.reading import (
    MAX_BYTES,
    Refused,
    Sink,
    check_file,
    read,
    too_large_message,
)
from carte.catalogue.transfer.report import Problem, Report
from carte.catalogue.transfer.shapes import HEADERS
from carte.core.bulk import gc_paused
from carte.core.errors import DomainError
from carte.core.permissions import ADD, require
from carte.organisations.actor import Actor

Progress = Callable[[int, int], None]


class _Plan(ServicesPlan, PartsPlan):
    """The whole plan: categories, services and artefacts first, then their parts."""

    def build(self) -> None:
        file_categories = self._categories()
        file_services = self._services(file_categories)
        self._artefacts(file_services)
        self._parts(file_services)


# ---------------------------------------------------------------- the entry point


def _column_of(table: str, exc: DomainError) -> str | None:
    for name in exc.errors:
        if name in HEADERS.get(table, ()):
            return name
    aliases = {"person": "person_email", "symptom": "statement", "source_output": "source_output"}
    for name in exc.errors:
        if name in aliases:
            return aliases[name]
    return None


def import_catalogue(
    actor: Actor,
    source: IO[bytes] | str | Path,
    *,
    name: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    max_bytes: int = MAX_BYTES,
) -> Report:
    """Check the file and, when nothing is wrong and it is not a dry run, write it all.

    `source` is a path or a binary file opened for reading; `name` (the file's name)
    tells the format when `source` is a file object. `progress(done, total)` is called
    as rows are written (with total 0, every 500 rows, while the file is read).
    Raises DomainError (forbidden) when the actor may not add services.
    """
    if isinstance(source, str | Path):
        with open(source, "rb") as handle:
            return import_catalogue(
                actor,
                handle,
                name=name or str(source),
                dry_run=dry_run,
                progress=progress,
                max_bytes=max_bytes,
            )
    require(actor, ADD, Service)
    with gc_paused():
        return _import(actor, source, name, dry_run, progress, max_bytes)


def _import(
    actor: Actor,
    source: IO[bytes],
    name: str | None,
    dry_run: bool,
    progress: Progress | None,
    max_bytes: int,
) -> Report:
    plan = _Plan(actor)
    plan.report.dry_run = dry_run
    sink = Sink(plan.problems)
    try:
        for count, (table, number, raw) in enumerate(
            read(source, name or str(getattr(source, "name", "")), sink, max_bytes=max_bytes),
            start=1,
        ):
            plan.add(table, number, raw)
            if progress is not None and count % 500 == 0:
                progress(count, 0)
    except Refused as exc:
        plan.report.errors = [exc.problem]
        return plan.report
    sink.missing()
    if not plan.problems:
        plan.build()
    report = plan.report
    if plan.problems:
        report.errors = plan.problems
        return report
    if dry_run:
        return report
    total = sum(op.size for op in plan.ops)
    done = 0
    if progress is not None:
        progress(0, total)

    def advance(rows: int) -> None:
        nonlocal done
        done += rows
        if progress is not None:
            progress(done, total)

    try:
        with transaction.atomic():
            for op in plan.ops:
                op.apply(advance)
    except WriteRefused as exc:
        report.errors = [
            Problem(exc.table, exc.row, _column_of(exc.table, exc.error), exc.error.message)
        ]
        return report
    report.applied = True
    _refresh_statistics()
    return report


def _refresh_statistics() -> None:
    """After a large write, let PostgreSQL's planner see the new rows at once: until
    autovacuum gets round to it, searches over fresh tables run ten times slower."""
    if connection.vendor != "postgresql":
        return
    models_: list[type[models.Model]] = [Service, *catalogue.PARTS.values()]
    tables = {model._meta.db_table for model in models_}
    with connection.cursor() as cursor:
        for table in sorted(tables):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")  # names from metadata


__all__ = [
    "MAX_BYTES",
    "Problem",
    "Report",
    "check_file",
    "import_catalogue",
    "too_large_message",
]
