"""Inserting many rows at once, fast on PostgreSQL (COPY) and plain elsewhere."""

from __future__ import annotations

import gc
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from django.db import connections, models, router
from django.db.models import QuerySet
from django.utils import timezone

# Fields whose value psycopg takes as it is: for these `get_db_prep_save` leaves a value
# of the field's Python type unchanged (the precondition of `insert_many`), and the
# conversion chain cost more per row than everything else of a large insert. Exact
# classes: a subclass may convert (e.g. MultiChoiceField, JSONField, FileField go the
# long way).
_PLAIN = frozenset(
    {
        models.AutoField,
        models.BigAutoField,
        models.BigIntegerField,
        models.BooleanField,
        models.DateField,
        models.DateTimeField,
        models.DecimalField,
        models.ForeignKey,
        models.IntegerField,
        models.PositiveIntegerField,
        models.PositiveSmallIntegerField,
        models.SmallIntegerField,
        models.TextField,
        models.CharField,
        models.EmailField,
        models.URLField,
        models.SlugField,
    }
)


def _auto_now(field: models.Field[Any, Any]) -> bool:
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


def _reader(field: models.Field[Any, Any], db: Any, moment: Any) -> Callable[[models.Model], Any]:
    """How to read one field's value for COPY from a new object: a plain field's as it is
    (see `insert_many`), any other as `bulk_create` prepares it; `auto_now` fields all
    get `moment`, the time of the insert."""
    if _auto_now(field):
        attname = field.attname

        def stamp(obj: models.Model) -> Any:
            setattr(obj, attname, moment)
            return moment

        return stamp
    if type(field) not in _PLAIN:
        return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), db)
    return operator.attrgetter(field.attname)  # as it is, as the all-plain path sends it


def insert_many(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert new rows and set their ids: `bulk_create`, or on PostgreSQL, for a model
    whose queryset does not guard `bulk_create` itself (Service guards the stage), ids
    taken from the table's sequence and the rows streamed with COPY, several times
    faster, which for 55,000 rows is much of an import's time.

    On the COPY path, fields of the plain types (`_PLAIN`) are sent as they are, without
    `bulk_create`'s `get_db_prep_save` (which for them only converts a value that is not
    of the field's type yet); the other fields go through `pre_save` and
    `get_db_prep_save` as in `bulk_create`, and `auto_now` fields get the time of the
    insert. So the precondition: every plain field's value is already of its Python type
    (`str` for text, `int` for integers and ids, `Decimal`, `date`, an aware `datetime`,
    `bool`), as `full_clean()` leaves it; a value of another type (an integer in a text
    field, a string date, a naive datetime) is not converted and may be refused or
    stored differently than `bulk_create` would store it."""
    db = connections[router.db_for_write(model)]  # the wrapper itself, not the proxy
    if (
        db.vendor != "postgresql"
        or type(model._default_manager.get_queryset()).bulk_create is not QuerySet.bulk_create
        or any(obj.pk is not None for obj in objs)
    ):
        model._default_manager.bulk_create(objs)
        return
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not f.generated]
    for obj in objs:  # as bulk_create: related rows must be saved; their ids are copied
        cast(Any, obj)._prepare_related_fields_for_save(operation_name="bulk_create")
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [db.ops.quote_name(opts.db_table), opts.pk.column, len(objs)],
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            setattr(obj, opts.pk.attname, pk)
    moment = timezone.now()
    rows: Iterable[Sequence[Any]]
    if all(type(f) in _PLAIN for f in fields):
        # Every value as it is: one C-level getter per row (after stamping auto_now).
        stamped = [f.attname for f in fields if _auto_now(f)]
        for obj in objs:
            for name in stamped:
                setattr(obj, name, moment)
        rows = map(operator.attrgetter(*(f.attname for f in fields)), objs)
    else:
        readers = [_reader(f, db, moment) for f in fields]
        rows = ([read(obj) for read in readers] for obj in objs)
    copy_rows(db, opts.db_table, [str(f.column) for f in fields], rows)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = db.alias


def copy_rows(db: Any, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Stream rows of values ready for the database into `table` with COPY."""
    quote = db.ops.quote_name
    sql = f"COPY {quote(table)} ({', '.join(quote(c) for c in columns)}) FROM STDIN"
    with db.cursor() as cursor, db.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cycle collector through one bulk read or write.

    Tens of thousands of rows make hundreds of thousands of objects (parsed rows, model
    instances, values), none in cycles that outlive the operation. The collector ran a
    pass every 700 new objects and a full one, over every object of the process, a few
    times a batch: a sixth of a 100,000-row import's time and a third of a 10,000-row
    push's. Reference counting still frees everything as before; a cycle made inside the
    block waits for the first pass after it. Nested blocks leave the collector as the
    outermost found it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
