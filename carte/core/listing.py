"""Filtering and ordering shared by list pages and API lists.

Each list has one `ListFilter` subclass: the page reads it from the query string, the API
declares it as query parameters, and both call `apply()`, so the two never disagree.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, Self, TypeVar

from django.core.paginator import Page, Paginator
from django.db.models import Count, Model, Q, QuerySet, Window
from ninja import FilterSchema
from pydantic import Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from carte.core.converters import MAX_ID
from carte.core.errors import DomainError, not_found
from carte.core.models import TenantModel
from carte.core.permissions import VIEW, ActorLike, Right, can, require
from carte.core.text import refusal

Q_T = TypeVar("Q_T", bound=QuerySet[Any])
R = TypeVar("R", bound=TenantModel)


class FromQuery:
    """Builds a filter schema from a page's query string: the fields it declares, empty
    values left out; a bad value is reported against its field and left out, not fatal.

    Every whole number a filter takes (an id, a level) is one the database can hold: a
    larger one is refused on its field, as any bad value is, rather than overflowing in
    the database driver (SQLite's integers are 64-bit). A text (a search) is one the
    text policy accepts (`core.text`): a NUL would fail in PostgreSQL."""

    model_fields: ClassVar[dict[str, Any]]

    @field_validator("*", mode="after")
    @classmethod
    def _within_bounds(cls, value: Any) -> Any:
        numbers = value if isinstance(value, list | tuple | set | frozenset) else (value,)
        for number in numbers:
            if isinstance(number, str):
                problem = refusal(number)
                if problem is not None:
                    raise PydanticCustomError("bad_text", problem)
            if isinstance(number, int) and not isinstance(number, bool):
                # Worded as the API words a number too large in a body or a path.
                if number > MAX_ID:
                    raise PydanticCustomError("too_big", "Must be at most {le}.", {"le": MAX_ID})
                if number < -MAX_ID - 1:
                    raise PydanticCustomError(
                        "too_small", "Must be at least {ge}.", {"ge": -MAX_ID - 1}
                    )
        return value

    @classmethod
    def from_query(cls, params: dict[str, str]) -> tuple[Self, dict[str, list[str]]]:
        known = {k: v for k, v in params.items() if k in cls.model_fields and v != ""}
        validate = cls.model_validate  # type: ignore[attr-defined]
        try:
            return validate(known), {}
        except ValidationError as exc:
            errors: dict[str, list[str]] = {}
            for err in exc.errors():
                name = str(err["loc"][0]) if err["loc"] else "__all__"
                errors.setdefault(name, []).append(err["msg"])
                known.pop(name, None)
            return validate(known), errors


class ListFilter(FromQuery, FilterSchema):
    """Common parameters: free-text `q`, `status` (active/archived/all) and `ordering`."""

    status: Literal["active", "archived", "all"] = Field(
        "active", description="Live rows (active), archived ones, or both."
    )
    ordering: str | None = Field(
        None, description="A column to sort by; prefix with '-' for descending."
    )

    # Public ordering key -> model field path. The first key is the default.
    ORDERING: ClassVar[dict[str, str]] = {"name": "name"}

    def filter_status(self, value: str) -> Q:
        if value == "archived":
            return Q(archived_at__isnull=False)
        if value == "all":
            return Q()
        return Q(archived_at__isnull=True)

    def filter_ordering(self, value: str | None) -> Q:
        return Q()  # ordering is applied by order_by(), not as a filter

    def order_by(self) -> list[str]:
        key = self.ordering or next(iter(self.ORDERING))
        descending = key.startswith("-")
        field = self.ORDERING.get(key.removeprefix("-"))
        if field is None:
            allowed = ", ".join(self.ORDERING)
            raise DomainError.field("ordering", f"Unknown ordering {key!r}; use one of: {allowed}.")
        sign = "-" if descending else ""
        # The id tie-break keeps pages stable when the sort column has duplicates.
        return [f"{sign}{field}", f"{sign}id"]

    def apply(self, queryset: Q_T) -> Q_T:
        return self.filter(queryset).order_by(*self.order_by())

    def active_filters(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in self.model_dump().items()
            if v not in (None, "")
            and k not in ("ordering",)
            and not (k == "status" and v == "active")
        }


def scoped(model: type[Model], organisation_id: int) -> QuerySet[Any]:
    """Every row of `model` that belongs to the organisation, archived or not."""
    return model._default_manager.filter(organisation_id=organisation_id)


def get_for(actor: ActorLike, queryset: QuerySet[R], pk: int | str, *, action: Right = VIEW) -> R:
    """Fetch one row of the actor's organisation: 404 if missing, another organisation's
    or hidden from the actor (who may not view it), so nobody learns that it exists; 403
    if it may be seen but the action is not allowed. The one scoped fetch of every app."""
    name = str(queryset.model._meta.verbose_name)
    try:
        obj = queryset.filter(organisation_id=actor.organisation.pk).get(pk=int(pk))
    except (queryset.model.DoesNotExist, ValueError, TypeError, OverflowError) as exc:
        raise not_found(name) from exc
    if not can(actor, VIEW, obj):
        raise not_found(name)
    if action != VIEW:
        require(actor, action, obj)
    return obj


MAX_PAGE = 1_000_000  # past this a page number is nonsense (and an OFFSET SQLite refuses)


def page_number(requested: str | int | None) -> int | str:
    """A page number as the paginator takes it: a number written in ASCII digits, however
    long, as a number (one past `MAX_PAGE` when longer, so it is past the end and the
    paginator gives the last page, as for any page past the end, rather than a number
    Python refuses to convert); anything else as it came (the paginator gives the first
    page for what is not a number)."""
    text = str(requested if requested is not None else "1").strip() or "1"
    if not (text.isascii() and text.isdigit()):
        return text
    digits = text.lstrip("0") or "0"
    return int(digits) if len(digits) <= len(str(MAX_PAGE)) else MAX_PAGE + 1


def paginate(rows: Any, size: int, requested: str | int | None) -> Page[Any]:
    """Django's `Paginator(rows, size).get_page()`, for any page number a query string
    may hold (see `page_number`)."""
    return Paginator(rows, size).get_page(page_number(requested))


def window_page(rows: QuerySet[Any, Any], requested: str | int | None, size: int) -> Page[Any]:
    """A page of `rows` (`.values()` rows) from one query: each row carries the number of
    matches (a window count), so a list runs once rather than once to count and again
    for the page. A page past the end (no row to carry the count) or a bad page number
    falls back on Django's paginator: a count, then its page."""
    paginator: Paginator[Any] = Paginator(rows, size)
    number = page_number(requested)
    if isinstance(number, int) and 1 <= number <= MAX_PAGE:
        start = (number - 1) * size
        found = list(rows.annotate(matches=Window(Count("id")))[start : start + size])
        if found:
            paginator.count = found[0]["matches"]
            return Page(found, number, paginator)
    return paginator.get_page(number)
