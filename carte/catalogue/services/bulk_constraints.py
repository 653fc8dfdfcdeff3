"""Database constraints checked for a batch of new rows at once, for `bulk`: each row's
violations as `Model.validate_constraints` finds them when the rows are saved one after
the other. Check constraints and conditions are evaluated in Python with SQL's
three-valued logic; unique constraints ask the database once per batch for the keys it
holds already; anything else is left to Django, row by row."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db.models import CheckConstraint, F, Q, UniqueConstraint
from django.db.models.functions import Lower, Upper

from carte.core.models import TenantModel


class _Unsupported(Exception):
    """A constraint this module cannot evaluate itself: Django checks it row by row."""


def constraint_errors(
    model: type[TenantModel], batch: Sequence[TenantModel], failed: Sequence[set[str]]
) -> Iterator[tuple[int, ValidationError]]:
    """Each row's constraint violations, as `Model.validate_constraints` finds them when the
    rows are saved one after the other (rows earlier in the batch count as saved)."""
    values = [_values(obj) for obj in batch] if model._meta.constraints else []
    for constraint in model._meta.constraints:
        try:
            if isinstance(constraint, CheckConstraint):
                verdicts = _check_verdicts(constraint, values, failed)
            elif isinstance(constraint, UniqueConstraint):
                verdicts = _unique_verdicts(model, constraint, values, failed)
            else:
                raise _Unsupported
        except _Unsupported:
            verdicts = _django_verdicts(model, constraint, batch, failed)
        for i in verdicts:
            yield (
                i,
                ValidationError(
                    constraint.get_violation_error_message(), code=constraint.violation_error_code
                ),
            )


def _django_verdicts(
    model: type[TenantModel],
    constraint: Any,
    batch: Sequence[TenantModel],
    failed: Sequence[set[str]],
) -> list[int]:
    """One query per row, by Django itself (rows earlier in the batch are not in the
    database yet: only used for constraints that do not look at other rows)."""
    if not isinstance(constraint, CheckConstraint):
        raise TypeError(f"Cannot check {constraint!r} for many rows at once.")
    bad = []
    for i, obj in enumerate(batch):
        try:
            constraint.validate(model, obj, exclude=failed[i] or None)
        except ValidationError:
            bad.append(i)
    return bad


def _values(obj: TenantModel) -> dict[str, Any]:
    """What a constraint's condition reads: each field by name, and `pk`."""
    values = {f.name: getattr(obj, f.attname) for f in obj._meta.local_concrete_fields}
    values["pk"] = obj.pk
    return values


def _skips(refs: set[str], failed: set[str]) -> bool:
    # Django leaves out a constraint over a field that failed its own validation.
    return bool(refs & failed)


def _check_verdicts(
    constraint: CheckConstraint,
    rows: Sequence[Mapping[str, Any]],
    failed: Sequence[set[str]],
) -> list[int]:
    """The rows (by `_values`) whose values break a check constraint."""
    refs = _refs(constraint.condition)
    condition = Q(constraint.condition)
    bad = []
    for i, values in enumerate(rows):
        if _skips(refs, failed[i]):
            continue
        # SQL: an unknown (NULL) condition passes, as in Q.check's COALESCE(..., true).
        if _truth(condition, values) is False:
            bad.append(i)
    return bad


def _unique_verdicts(
    model: type[TenantModel],
    constraint: UniqueConstraint,
    rows: Sequence[Mapping[str, Any]],
    failed: Sequence[set[str]],
) -> list[int]:
    """The rows (by `_values`) whose key is stored already, or held by an earlier row."""
    if (
        constraint.nulls_distinct is False
        or cast(Any, constraint).include
        or cast(Any, constraint).opclasses
    ):
        raise _Unsupported
    parts: list[Any] = (
        [F(name) for name in constraint.fields]
        if constraint.fields
        else list(constraint.expressions)
    )
    refs = set().union(*(_expression_refs(p) for p in parts))
    condition = Q(constraint.condition) if constraint.condition is not None else Q()
    refs |= _refs(condition)
    known = {f.name for f in model._meta.local_concrete_fields} | {"pk"}
    getters = [_key_part(p, known) for p in parts]
    keys: dict[int, tuple[Any, ...]] = {}
    for i, values in enumerate(rows):
        if _skips(refs, failed[i]):
            continue
        # A NULL in the key never collides (NULL = NULL is not true in SQL).
        key = tuple(get(values) for get in getters)
        if any(v is None for v in key):
            continue
        # Django checks (condition AND EXISTS(...)) with NULL read as true.
        if constraint.condition is not None and _truth(condition, values) is False:
            continue
        keys[i] = key
    stored = _stored_keys(model, constraint, parts, list(keys.values()))
    bad = []
    seen: set[tuple[Any, ...]] = set()
    for i, key in keys.items():
        if key in stored or key in seen:
            bad.append(i)
        seen.add(key)
    return bad


def _stored_keys(
    model: type[TenantModel],
    constraint: UniqueConstraint,
    parts: Sequence[Any],
    keys: Sequence[tuple[Any, ...]],
) -> set[tuple[Any, ...]]:
    """The keys among `keys` that rows in the database already hold under the constraint's
    condition, computed by the database (so LOWER() is the database's own)."""
    if not keys:
        return set()
    names = [f"_k{n}" for n in range(len(parts))]
    qs = model._default_manager.all()
    if constraint.condition is not None:
        qs = qs.filter(constraint.condition)
    qs = qs.annotate(**dict(zip(names, parts, strict=True)))
    for name, column in zip(names, zip(*keys, strict=True), strict=True):
        qs = qs.filter(**{f"{name}__in": set(column)})
    return {tuple(row) for row in qs.values_list(*names)} & set(keys)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "exact": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def _truth(q: Q, values: Mapping[str, Any]) -> bool | None:
    """A condition evaluated on one row with SQL's three-valued logic (None: unknown).
    Knows the lookups constraints here use; anything else is _Unsupported."""
    results: list[bool | None] = []
    for child in q.children:
        if isinstance(child, Q):
            results.append(_truth(child, values))
            continue
        if not isinstance(child, tuple):
            raise _Unsupported  # an expression as a condition
        lookup, rhs = child
        name, _, op = str(lookup).partition("__")
        op = op or "exact"
        if name not in values:
            raise _Unsupported
        lhs = values[name]
        if op == "isnull":
            results.append((lhs is None) == bool(rhs))
            continue
        if op == "exact" and rhs is None:
            results.append(lhs is None)  # Django turns `= None` into IS NULL
            continue
        if isinstance(rhs, F):
            if _fname(rhs) not in values:
                raise _Unsupported
            rhs = values[_fname(rhs)]
        elif hasattr(rhs, "resolve_expression"):
            raise _Unsupported
        if op == "in":
            results.append(None if lhs is None else lhs in rhs)
        elif op in _COMPARE:
            results.append(None if lhs is None or rhs is None else _COMPARE[op](lhs, rhs))
        else:
            raise _Unsupported
    if q.connector == Q.AND:
        result: bool | None = False if False in results else (None if None in results else True)
    elif q.connector == Q.OR:
        result = True if True in results else (None if None in results else False)
    else:
        raise _Unsupported
    if q.negated and result is not None:
        result = not result
    return result


def _key_part(expression: Any, known: set[str]) -> Callable[[Mapping[str, Any]], Any]:
    """How to read a unique constraint's key part from a row's values: a field, or
    LOWER/UPPER of one (as text; None stays None)."""
    if isinstance(expression, F):
        name = _fname(expression)
        if name not in known:
            raise _Unsupported
        return operator.itemgetter(name)
    if isinstance(expression, Lower | Upper):
        (inner,) = expression.get_source_expressions()
        read = _key_part(inner, known)
        case = str.lower if isinstance(expression, Lower) else str.upper

        def cased(values: Mapping[str, Any]) -> Any:
            value = read(values)
            if value is None:
                return None
            if not isinstance(value, str):
                raise _Unsupported
            return case(value)

        return cased
    raise _Unsupported


def _expression_refs(expression: Any) -> set[str]:
    if isinstance(expression, F):
        return {_fname(expression)}
    return set().union(*(_expression_refs(e) for e in expression.get_source_expressions()))


def _refs(q: Any) -> set[str]:
    names: set[str] = set()
    for child in q.children:
        if isinstance(child, Q):
            names |= _refs(child)
        elif isinstance(child, tuple):
            names.add(str(child[0]).split("__")[0])
            if isinstance(child[1], F):
                names.add(_fname(child[1]))
    return names


def _fname(f: F) -> str:
    name: str = cast(Any, f).name
    return name
