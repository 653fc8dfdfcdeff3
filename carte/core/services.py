"""Write steps every domain service shares: validate, save, audit, in one transaction.

Domain functions (`pmo_create`, `person_update`, ...) check permission and their own
rules, then call these so that every write is validated and recorded the same way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import IntegrityError, models, router, transaction
from django.db.models import Model
from django.utils import timezone

from carte.core import audit, clock, text
from carte.core.errors import CONFLICT, NON_FIELD_ERRORS, DomainError, not_found, summarise
from carte.core.models import AuditAction, TenantModel
from carte.core.permissions import ActorLike

M = TypeVar("M", bound=TenantModel)


def validate(obj: TenantModel, *, exclude: list[str] | None = None) -> None:
    """Run model validation (fields, constraints) and raise a DomainError on failure.

    Constraints over expressions (such as a case-insensitive unique name) report to no
    field; the model's CONSTRAINT_FIELDS says which field such a message belongs to.
    """
    try:
        _full_clean(obj, list(exclude or []))
    except ValidationError as exc:
        raise domain_error(obj, exc) from exc


def domain_error(obj: TenantModel, exc: ValidationError) -> DomainError:
    """A validation failure of `obj` as a DomainError: a constraint's message goes to the
    field its CONSTRAINT_FIELDS names."""
    error = DomainError.from_validation_error(exc)
    general = error.errors.get(NON_FIELD_ERRORS, [])
    for constraint in obj._meta.constraints:
        field = obj.CONSTRAINT_FIELDS.get(constraint.name)
        message = str(constraint.violation_error_message)
        if field and message in general:
            general.remove(message)
            error.errors.setdefault(field, []).append(message)
    if not general:
        error.errors.pop(NON_FIELD_ERRORS, None)
    return DomainError(summarise(error.errors), errors=error.errors)


def _full_clean(obj: TenantModel, exclude: list[str]) -> None:
    """`Model.full_clean()`, without re-reading related rows the caller already holds.

    Django checks each foreign key with a query; a relation set to a loaded instance
    exists already (services check it is the organisation's own), so only its field check
    is skipped. Uniqueness and constraints are still validated over every field.
    """
    loaded = [
        f.name
        for f in obj._meta.concrete_fields
        if isinstance(f, models.ForeignKey)
        and f.is_cached(obj)
        and getattr(obj, f.name) is not None
    ]
    errors: dict[str, Any] = {}
    try:
        obj.clean_fields(exclude=[*exclude, *loaded])
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    try:
        obj.clean()
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    # As full_clean does: fields that failed are left out of the checks across fields.
    checked = [*exclude, *(name for name in errors if name != NON_FIELD_ERRORS)]
    try:
        obj.validate_unique(exclude=checked)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    try:
        obj.validate_constraints(exclude=checked)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


RACE_LOST = "This conflicts with a change made at the same moment; reload and try again."


@contextmanager
def race_lost(message: str = RACE_LOST) -> Iterator[None]:
    """A write that lost a race: the `IntegrityError` of a unique constraint that was
    checked before the write but satisfied first by another transaction, raised as a
    `DomainError` coded `conflict` (409) with `message`. Nothing more can be written in
    the transaction; the service's atomic block rolls it back, so nothing is written."""
    try:
        yield
    except IntegrityError as exc:
        raise DomainError(message, code=CONFLICT) from exc


def _save(obj: TenantModel, **kwargs: Any) -> None:
    # A race lost against a unique constraint that validation had just checked.
    with race_lost(), transaction.atomic():
        obj.save(**kwargs)


def clean_text(field: str, value: Any, *, required: bool = True, limit: int = 0) -> str:
    """A text a service takes as it is typed: stripped, refused on `field` when it is
    required and empty, longer than `limit`, or not text Carte accepts (`core.text`)."""
    typed = "" if value is None else str(value).strip()
    if required and not typed:
        raise DomainError.field(field, "This field is required.")
    if limit and len(typed) > limit:
        raise DomainError.field(field, f"At most {limit} characters.")
    try:
        return text.accept(typed)
    except text.BadText as exc:
        raise DomainError.field(field, str(exc)) from None


def check_same_org(actor: ActorLike, *, live: bool = False, **refs: Model | None) -> None:
    """Refuse a reference to another organisation's row (and, with `live`, to an archived
    one), naming the field it came in."""
    for field, obj in refs.items():
        if obj is None:
            continue
        if getattr(obj, "organisation_id", None) != actor.organisation.pk:
            raise DomainError.field(field, "No such record in this organisation.")
        if live and isinstance(obj, TenantModel) and obj.is_archived:
            raise DomainError.field(field, f"This {obj._meta.verbose_name} is archived.")


def create_object(actor: ActorLike, obj: M, *, extra: Mapping[str, Any] | None = None) -> M:
    """Validate, insert and audit a new object of the actor's organisation."""
    obj.organisation = actor.organisation
    validate(obj)
    _save(obj)
    if clock.loading_mark() is not None:
        # A made-up story (the demo) dates its rows as it dates its audit entries: a risk
        # raised two years ago in the story does not say it was raised today.
        obj.created_at = clock.now()
        type(obj)._base_manager.filter(pk=obj.pk).update(created_at=obj.created_at)
    record_created(actor, obj, extra)
    return obj


def created_changes(
    obj: TenantModel, extra: Mapping[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """What the audit entry of a new object says: every field that has a value, as
    "after" (and `extra` values that are not fields, such as a member's roles)."""
    after = audit.snapshot(obj, dict(extra or {}))
    return {k: {"before": None, "after": v} for k, v in after.items() if v not in (None, "")}


def record_created(
    actor: ActorLike, obj: TenantModel, extra: Mapping[str, Any] | None = None
) -> None:
    """The audit entry of a new object (see `created_changes`)."""
    audit.record(
        actor=actor, obj=obj, action=AuditAction.CREATE, changes=created_changes(obj, extra)
    )


def update_object(
    actor: ActorLike,
    obj: M,
    data: Mapping[str, Any],
    *,
    extra_before: Mapping[str, Any] | None = None,
    extra_after: Mapping[str, Any] | None = None,
) -> M:
    """Apply `data` to `obj`, validate, save only what changed and audit each change.

    The row is locked first and `obj` brought up to what is stored (`_lock_stored`), so
    "before" is what the database held when this change was made, even when someone
    else changed the row since `obj` was read: concurrent updates queue on the lock and
    each entry's "before" is the previous one's "after". The caller's transaction holds
    the lock to its end (a service is `@transaction.atomic`).

    On a refusal the object is put back as it was stored, so a caller that shows it again
    (the edit page) shows the stored values, not the rejected ones.
    """
    using = router.db_for_write(type(obj))
    if transaction.get_connection(using).in_atomic_block:  # no savepoint: no more queries
        return _update_locked(actor, obj, data, extra_before, extra_after)
    with transaction.atomic(using=using):
        return _update_locked(actor, obj, data, extra_before, extra_after)


def _lock_stored(obj: TenantModel, fields: list[models.Field[Any, Any]]) -> dict[str, Any]:
    """Lock `obj`'s row (SELECT ... FOR UPDATE; SQLite serialises writers anyway) and
    set on `obj` the values stored now of `fields`, which it returns by attname. One
    query, of the audited columns only; a relation whose id is unchanged keeps the row
    `obj` already holds for it."""
    attnames = [f.attname for f in fields]
    manager = type(obj)._default_manager
    try:
        stored: dict[str, Any] = (
            manager.select_for_update().filter(pk=obj.pk).values(*attnames).get()
        )
    except ObjectDoesNotExist as exc:  # deleted since it was read
        raise not_found(str(obj._meta.verbose_name)) from exc
    for attname, value in stored.items():
        if getattr(obj, attname) != value:
            setattr(obj, attname, value)  # a changed foreign key id drops its cached row
    return stored


def _update_locked(
    actor: ActorLike,
    obj: M,
    data: Mapping[str, Any],
    extra_before: Mapping[str, Any] | None,
    extra_after: Mapping[str, Any] | None,
) -> M:
    fields = audit.audited_fields(obj)
    stored = _lock_stored(obj, fields)
    before = audit.snapshot(obj, dict(extra_before or {}))
    for name, value in data.items():
        setattr(obj, name, value)
    try:
        validate(obj)
    except DomainError:
        for attname, value in stored.items():
            setattr(obj, attname, value)
        raise
    after = audit.snapshot(obj, dict(extra_after or {}))
    changes = audit.diff(before, after)
    for f in fields:
        # Two related rows can read alike (same name): a changed id is a change too.
        if f.name not in changes and getattr(obj, f.attname) != stored[f.attname]:
            changes[f.name] = {"before": before.get(f.name), "after": after.get(f.name)}
    if changes:
        model_fields = {f.name for f in obj._meta.concrete_fields}
        update_fields = [k for k in changes if k in model_fields]
        if update_fields:
            _save(obj, update_fields=[*update_fields, "updated_at"])
        audit.record(actor=actor, obj=obj, action=AuditAction.UPDATE, changes=changes)
    return obj


def archive_object(actor: ActorLike, obj: M) -> M:
    if obj.archived_at is None:
        obj.archived_at = timezone.now()
        obj.save(update_fields=["archived_at", "updated_at"])
        audit.record(
            actor=actor,
            obj=obj,
            action=AuditAction.ARCHIVE,
            changes={"archived": {"before": False, "after": True}},
        )
    return obj


def restore_object(actor: ActorLike, obj: M) -> M:
    if obj.archived_at is not None:
        archived_at, obj.archived_at = obj.archived_at, None
        try:
            validate(obj)  # a restored row must not break a uniqueness rule among live rows
        except DomainError:
            obj.archived_at = archived_at
            raise
        obj.save(update_fields=["archived_at", "updated_at"])
        audit.record(
            actor=actor,
            obj=obj,
            action=AuditAction.RESTORE,
            changes={"archived": {"before": True, "after": False}},
        )
    return obj
