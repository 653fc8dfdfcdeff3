"""Batched writes to the catalogue, for imports of thousands of rows.

Each function takes many rows and treats every one exactly as the single-row function of
`carte.catalogue.services` does: the same permission check, the same rules across objects
(the very helpers of `services`), the same field and constraint validation, the same
defaults and the same audit entry. What changes is how often the database is asked:
constraints are checked for a whole batch with one query each (their conditions read in
Python, with SQL's NULL logic: `bulk_constraints`), rows are inserted a batch at a time and
get their ids back (`bulk_create`; on PostgreSQL ids from the sequence and a COPY, see
`core.bulk.insert_many`), and their audit entries go in together (`audit.record_many`).
All or nothing: a refusal raises `RowError` naming the first refused row (where the
single-row functions, called in order, would have stopped), and the transaction undoes
what earlier batches wrote.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar, cast

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, connections, models, router, transaction
from django.db.models import Max

from carte.catalogue.models import Artefact, Category, Service, ServiceRole, Symptom
from carte.catalogue.services.artefacts import _check_artefact
from carte.catalogue.services.bulk_constraints import constraint_errors
from carte.catalogue.services.parts import ORDERED_PARTS, PARTS, _check_part, _part_extra
from carte.catalogue.services.services import (
    LINK_FIELDS,
    SERVICE_FIELDS,
    _check_service,
    _pmo_names,
)
from carte.core import audit, clock
from carte.core.bulk import copy_rows, insert_many
from carte.core.errors import CONFLICT, DomainError
from carte.core.models import AuditAction, TenantModel
from carte.core.permissions import ADD, CHANGE, require
from carte.core.services import created_changes, domain_error
from carte.organisations.actor import Actor
from carte.organisations.models import PMO

M = TypeVar("M", bound=TenantModel)

BATCH = 1000  # rows validated and inserted together (and the most values in one IN list)


class RowError(DomainError):
    """The refusal of one row of a batch; `index` is its position among the rows given."""

    def __init__(self, index: int, error: DomainError) -> None:
        super().__init__(error.message, code=error.code, errors=error.errors)
        self.index = index


# ---------------------------------------------------------------- the entry points


@transaction.atomic
def categories_create_many(*, actor: Actor, rows: Iterable[Mapping[str, Any]]) -> list[Category]:
    """`category_create` for each row ({name, description?, position?}), in order."""
    require(actor, ADD, Category)
    # `category_create` puts a category without a position after the highest one, read
    # afresh for each row: the stored ones (archived too) and the rows before it.
    top: int | None = None
    objs: list[Category] = []
    for row in rows:
        position = row.get("position")
        if position is None:
            if top is None:
                found = Category.objects.filter(organisation=actor.organisation).aggregate(
                    m=Max("position")
                )
                earlier = [o.position for o in objs if isinstance(o.position, int)]
                top = max([found["m"] or 0, *earlier])
            position = top + 10
        if top is not None and isinstance(position, int):
            top = max(top, position)
        objs.append(
            Category(name=row["name"], description=row.get("description", ""), position=position)
        )
    return _create_many(actor, objs, errors={})


@transaction.atomic
def services_create_many(*, actor: Actor, rows: Iterable[Mapping[str, Any]]) -> list[Service]:
    """`service_create` for each row (its keyword arguments, `delivering_pmos` included)."""
    require(actor, ADD, Service)
    objs: list[Service] = []
    extras: list[dict[str, Any]] = []
    pmo_lists: list[list[PMO]] = []
    errors: dict[int, DomainError] = {}
    now = clock.now()
    for index, row in enumerate(rows):
        fields = dict(row)
        pmos = list(fields.pop("delivering_pmos", ()))
        service = Service(
            **{k: v for k, v in fields.items() if k in SERVICE_FIELDS or k in LINK_FIELDS}
        )
        try:
            _check_service(actor, service, {**fields, "delivering_pmos": pmos})
        except DomainError as exc:
            errors[index] = exc
        service.stage_changed_at = now
        objs.append(service)
        extras.append({"delivering_pmos": _pmo_names(pmos)})
        pmo_lists.append(pmos)
    created = _create_many(actor, objs, errors=errors, extras=extras)
    _link_many(Service, "delivering_pmos", zip(created, pmo_lists, strict=True))
    return created


@transaction.atomic
def symptoms_create_many(*, actor: Actor, statements: Iterable[str]) -> list[Symptom]:
    """`symptom_create` for each statement."""
    require(actor, ADD, Symptom)
    objs = [Symptom(statement=s.strip(), description="") for s in statements]
    return _create_many(actor, objs, errors={})


@transaction.atomic
def artefacts_create_many(*, actor: Actor, rows: Iterable[Mapping[str, Any]]) -> list[Artefact]:
    """`artefact_create` for each row (its keyword arguments)."""
    require(actor, ADD, Artefact)
    objs: list[Artefact] = []
    errors: dict[int, DomainError] = {}
    for index, row in enumerate(rows):
        owner_service, owner_pmo = row.get("owner_service"), row.get("owner_pmo")
        try:
            _check_artefact(actor, owner_service, owner_pmo)
        except DomainError as exc:
            errors[index] = exc
        objs.append(
            Artefact(
                name=row["name"],
                kind=row["kind"],
                owner_service=owner_service,
                owner_pmo=owner_pmo,
                description=row.get("description", ""),
                url=row.get("url", ""),
            )
        )
    return _create_many(actor, objs, errors=errors)


@transaction.atomic
def parts_create_many(
    *, actor: Actor, kind: str, rows: Iterable[tuple[Service, Mapping[str, Any]]]
) -> list[TenantModel]:
    """`part_create(service=..., kind=kind, data=...)` for each (service, data) row."""
    model = PARTS.get(kind)
    if model is None:
        raise DomainError.field("kind", f"Unknown part {kind!r}.")
    rows = list(rows)
    positions = _next_positions(model, [s for s, data in rows if "position" not in data])
    # A manager's PMO must deliver the service: read for all the rows' services at once.
    delivering = _delivering([s for s, _ in rows]) if model is ServiceRole else {}
    objs: list[TenantModel] = []
    extras: list[dict[str, Any]] = []
    customer_lists: list[list[Any] | None] = []
    errors: dict[int, DomainError] = {}
    for index, (service, row) in enumerate(rows):
        data = dict(row)
        customers = data.pop("customers", None)
        try:
            require(actor, CHANGE, service)
            _check_part(
                actor,
                service,
                model,
                {**data, "customers": customers},
                delivering.get(service.pk, set()) if model is ServiceRole else None,
            )
        except DomainError as exc:
            errors[index] = exc
        part: TenantModel = cast(Any, model)(service=service, **data)
        if model in ORDERED_PARTS:
            if "position" in data:
                positions.seen(service.pk, data["position"])
            else:
                part.position = positions.next(service.pk)  # type: ignore[attr-defined]
        objs.append(part)
        extras.append(_part_extra({"customers": customers}))
        customer_lists.append(None if customers is None else list(customers))
    created = _create_many(actor, objs, errors=errors, extras=extras)
    _link_many(
        model,
        "customers",
        ((p, c) for p, c in zip(created, customer_lists, strict=True) if c is not None),
    )
    return created


# ---------------------------------------------------------------- defaults


class _Positions:
    """Per service, the last position of a kind of part, as `part_create` reads it (archived
    parts included) and as earlier rows of the same call move it."""

    def __init__(self, last: dict[int, int]) -> None:
        self.last = last

    def seen(self, service_id: int, position: Any) -> None:
        if isinstance(position, int) and service_id in self.last:
            self.last[service_id] = max(self.last[service_id], position)

    def next(self, service_id: int) -> int:
        self.last[service_id] = self.last.get(service_id, 0) + 1
        return self.last[service_id]


def _delivering(services: Sequence[Service]) -> dict[int, set[int]]:
    """Service id -> the ids of the PMOs that deliver it (as stored now)."""
    found: dict[int, set[int]] = {}
    through = Service.delivering_pmos.through
    for chunk in _chunks(sorted({s.pk for s in services}), BATCH):
        for service_id, pmo_id in through.objects.filter(service_id__in=chunk).values_list(
            "service_id", "pmo_id"
        ):
            found.setdefault(service_id, set()).add(pmo_id)
    return found


def _next_positions(model: type[TenantModel], services: Sequence[Service]) -> _Positions:
    ids = sorted({s.pk for s in services})
    last: dict[int, int] = dict.fromkeys(ids, 0)
    if model in ORDERED_PARTS:
        for chunk in _chunks(ids, BATCH):
            found = (
                model._default_manager.filter(service_id__in=chunk)
                .values("service_id")
                .annotate(m=Max("position"))
                .values_list("service_id", "m")
            )
            last.update({sid: m or 0 for sid, m in found})
    return _Positions(last)


# ---------------------------------------------------------------- validate, insert, audit


def _create_many(
    actor: Actor,
    objs: Sequence[M],
    *,
    errors: Mapping[int, DomainError],
    extras: Sequence[Mapping[str, Any]] | None = None,
) -> list[M]:
    """`core.services.create_object` for many objects: validate each one, refuse at the
    first refused row (a rule of the caller or a validation error), insert, audit."""
    if not objs:
        return []
    model = type(objs[0])
    for start in range(0, len(objs), BATCH):
        batch = objs[start : start + BATCH]
        own = {i - start: e for i, e in errors.items() if start <= i < start + len(batch)}
        problems: dict[int, ValidationError] = {}
        failed: list[set[str]] = []
        for i, obj in enumerate(batch):
            obj.organisation = actor.organisation
            error, names = _field_errors(obj)
            failed.append(names)
            if error is not None:
                problems[i] = error
        for i, error in constraint_errors(model, batch, failed):
            problems[i] = ValidationError(error.update_error_dict(_dict(problems.get(i))))
        if own or problems:
            # A rule of the caller is checked before validation, as in the single path.
            i = min({*own, *problems})
            raise RowError(start + i, own[i] if i in own else domain_error(batch[i], problems[i]))
        try:
            with transaction.atomic():
                insert_many(model, batch)
        except IntegrityError as exc:
            # A race lost against a constraint just checked (as `core.services._save`).
            raise RowError(
                start,
                DomainError(
                    "This conflicts with a change made at the same moment; reload and try again.",
                    code=CONFLICT,
                ),
            ) from exc
        audit.record_many(
            actor=actor,
            action=AuditAction.CREATE,
            entries=(
                (obj, created_changes(obj, extras[start + i] if extras else None))
                for i, obj in enumerate(batch)
            ),
        )
    return list(objs)


def _dict(error: ValidationError | None) -> dict[str, Any]:
    return {} if error is None else error.update_error_dict({})


def _field_errors(obj: TenantModel) -> tuple[ValidationError | None, set[str]]:
    """The checks of `core.services._full_clean` that need no query: fields (relations set
    to a loaded row are not read again), `clean()` and `validate_unique()`. Returns the
    errors and the fields that failed."""
    loaded = [
        f.name
        for f in _foreign_keys(type(obj))
        if f.is_cached(obj) and getattr(obj, f.name) is not None
    ]
    errors: dict[str, Any] = {}
    try:
        obj.clean_fields(exclude=loaded)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    try:
        obj.clean()
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    failed = {name for name in errors if name != NON_FIELD_ERRORS}
    if _checks_unique(type(obj)):
        try:
            obj.validate_unique(exclude=list(failed))
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
    return (ValidationError(errors) if errors else None), failed


@functools.cache
def _foreign_keys(model: type[models.Model]) -> list[models.ForeignKey[Any, Any]]:
    return [f for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey)]


@functools.cache
def _checks_unique(model: type[models.Model]) -> bool:
    """Whether `validate_unique` can refuse a new row of `model`: only with a unique field
    besides the id (a new row has none yet), `unique_together` or `unique_for_date`."""
    opts = model._meta
    dated = ("unique_for_date", "unique_for_month", "unique_for_year")
    return bool(opts.unique_together) or any(
        (f.unique and not f.primary_key) or any(getattr(f, name, None) for name in dated)
        for f in opts.fields
    )


# ---------------------------------------------------------------- many-to-many


def _link_many(
    model: type[TenantModel], name: str, links: Iterable[tuple[TenantModel, Sequence[Any]]]
) -> None:
    """`obj.<name>.set(others)` for new objects: one insert for all their links."""
    links = list(links)
    if not links:
        return
    field = model._meta.get_field(name)
    if not isinstance(field, models.ManyToManyField):
        raise TypeError(f"{model.__name__}.{name} is not a many-to-many field.")
    through = cast(type[models.Model], field.remote_field.through)
    source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
    pairs = [(obj.pk, pk) for obj, others in links for pk in dict.fromkeys(o.pk for o in others)]
    db = connections[router.db_for_write(through)]
    if db.vendor == "postgresql":  # two ids a row: no model instances needed
        opts = through._meta
        columns = [str(opts.get_field(name).column) for name in (source, target)]  # type: ignore[union-attr]
        copy_rows(db, opts.db_table, columns, pairs)
    else:
        through._default_manager.bulk_create(
            [through(**{f"{source}_id": a, f"{target}_id": b}) for a, b in pairs],
            batch_size=BATCH,
        )


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


__all__ = [
    "BATCH",
    "RowError",
    "artefacts_create_many",
    "categories_create_many",
    "parts_create_many",
    "services_create_many",
    "symptoms_create_many",
]
