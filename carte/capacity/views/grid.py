"""Capacity pages: the grid of demand against supply (competences x months), a cell's
detail, and "can we take this on?".

The numbers are everyone's to read (`permissions.GRID`); people are named only to whom may
see their records, services only to the PMO's side (`selectors.grid`)."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.safestring import SafeString, mark_safe

from carte.capacity import permissions as perms
from carte.capacity.forms.grid import FitForm
from carte.capacity.months import label
from carte.capacity.selectors import grid as selectors
from carte.core.errors import DomainError
from carte.organisations.access import org_view
from carte.organisations.actor import Actor


def amount(value: float) -> str:
    """An FTE as people write it: 1, 0.5, 1.25."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _require_grid(actor: Actor) -> None:
    """The grid's numbers are for every member (`permissions.GRID`)."""
    if not (actor.system or actor.roles & perms.GRID):
        raise Http404("No such page.")


# Each state's look: the cell's class, and words for it (never colour alone).
LOOK = {
    "short": ("bg-red-lt", "Short"),
    "tight": ("bg-yellow-lt", "Tight"),
    "ok": ("bg-green-lt", "Covered"),
    "none": ("", "Nothing needed"),
}


def grid_html(result: selectors.Grid, cell_url: str, extra: str) -> SafeString:
    """The grid's rows as HTML: 30 competences x 12 months is 360 cells, built here
    rather than through the template engine, as the heat map's (issue 5). Every text from
    the database goes through `html.escape`."""
    html = []
    for row in result.rows:
        name = escape(row.name)
        cells = []
        for c in row.cells:
            look, words = LOOK[c.state]
            month = f"{c.month:%Y-%m}"
            href = escape(f"{cell_url}?competence={row.competence_id}&month={month}{extra}")
            gap = (
                f"short {amount(c.shortfall)}"
                if c.shortfall > 0
                else (f"+{amount(c.gap)}" if c.gap > 0 else "0")
            )
            admitted = ""
            if c.admitted_extra > 0:
                then = (
                    f"short {amount(c.admitted_shortfall)}" if c.admitted_shortfall > 0 else "fits"
                )
                admitted = f'<small class="d-block text-secondary">if admitted: {then}</small>'

            cells.append(
                f'<td class="{look}" data-state="{c.state}" data-month="{month}">'
                f'<a class="d-block text-reset text-decoration-none" href="{href}" '
                f'title="{name}, {label(c.month)}: {words.lower()}">'
                f'<strong class="d-block">{gap}</strong>'
                f'<small class="d-block">{amount(c.demand)} / {amount(c.supply)}</small>'
                f"{admitted}"
                f'<span class="visually-hidden">{words}: needed {amount(c.demand)} FTE, '
                f"able {amount(c.supply)} FTE, covered {amount(c.covered)} FTE</span></a></td>"
            )
        group = f'<div class="small text-secondary">{escape(row.group)}</div>' if row.group else ""
        html.append(
            f'<tr data-competence="{row.competence_id}"><th scope="row" class="fw-normal">'
            f"{name}{group}</th>{''.join(cells)}</tr>"
        )
    return mark_safe("".join(html))  # noqa: S308 - every value escaped above


def shortfalls_html(result: selectors.Grid) -> SafeString:
    """The short cells as rows of a plain table (the grid's text alternative), built as
    the grid is (there may be hundreds)."""
    html = []
    for row in result.rows:
        name = escape(row.name)
        for c in row.cells:
            if c.shortfall > 0:
                html.append(
                    f"<tr><td>{name}</td><td>{label(c.month)}</td>"
                    f'<td class="text-end">{amount(c.demand)}</td>'
                    f'<td class="text-end">{amount(c.supply)}</td>'
                    f'<td class="text-end">{amount(c.covered)}</td>'
                    f'<td class="text-end">{amount(c.shortfall)}</td></tr>'
                )
    return mark_safe("".join(html))  # noqa: S308 - every value escaped above


def _grid_query(
    actor: Actor, params: dict[str, str]
) -> tuple[selectors.GridQuery, dict[str, list[str]]]:
    """The grid's question from a page's query string: a value in error is reported and
    left out, not fatal (as every list's filters)."""
    given = {
        "start": params.get("from") or None,
        "end": params.get("to") or None,
        "pmo": params.get("pmo") or None,
        "competence": params.get("competence") or None,
    }
    try:
        return selectors.grid_query(actor, **given), {}
    except DomainError as exc:
        errors = exc.errors
    if "from" in errors or "to" in errors:
        given["start"] = given["end"] = None
    for name in ("pmo", "competence"):
        if name in errors:
            given[name] = None
    return selectors.grid_query(actor, **given), errors


ERROR_NAMES = {"from": "From", "to": "To", "pmo": "PMO", "competence": "Competence"}


@org_view
def home(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The capacity grid: each competence, month by month, what is needed, who is able,
    and the gap; the proposed services' needs shown apart, as "if admitted"."""
    _require_grid(actor)
    query, errors = _grid_query(actor, request.GET.dict())
    result = selectors.grid(actor, query)
    extra = f"&pmo={query.pmo}" if query.pmo else ""
    cell_url = reverse("capacity:cell", args=[actor.organisation.slug])
    short = sum(1 for row in result.rows for c in row.cells if c.shortfall > 0)
    context = {
        "grid": result,
        "rows": grid_html(result, cell_url, extra),
        "months": [label(m) for m in result.months],
        "short": short,
        "shortfalls": shortfalls_html(result),
        "options": selectors.filter_options(actor),
        "selected": {
            "from": f"{query.first:%Y-%m}",
            "to": f"{query.last:%Y-%m}",
            "pmo": str(query.pmo or ""),
            "competence": str(query.competence or ""),
        },
        "filter_errors": {ERROR_NAMES.get(k, k): v for k, v in errors.items()},
        "fit_url": reverse("capacity:fit", args=[actor.organisation.slug]),
    }
    return render(request, "capacity/home.html", context)


@org_view
def cell(request: HttpRequest, actor: Actor) -> HttpResponse:
    """A cell of the grid: the services needing the competence that month (the proposed
    ones apart), and the people who could cover it."""
    _require_grid(actor)
    try:
        query = selectors.grid_query(
            actor,
            start=request.GET.get("month") or "",
            end=request.GET.get("month") or "",
            pmo=request.GET.get("pmo") or None,
            competence=request.GET.get("competence") or "",
        )
    except DomainError as exc:
        raise Http404("No such cell.") from exc
    if query.competence is None or not request.GET.get("month"):
        raise Http404("No such cell.")
    detail = selectors.cell(actor, competence=query.competence, month=query.first, pmo=query.pmo)
    back = {"from": f"{query.first:%Y-%m}"}
    if query.pmo:
        back["pmo"] = str(query.pmo)
    context = {
        "detail": detail,
        "c": detail.cell,
        "month": label(query.first),
        "back": reverse("capacity:home", args=[actor.organisation.slug]) + "?" + urlencode(back),
        "amount": amount,
    }
    return render(request, "capacity/cell.html", context)


# ---------------------------------------------------------------- can we take this on?


@org_view
def fit(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Can we take this on? A proposed service, or needs typed on the page: whether it
    fits month by month beside what runs now, which competences are short by how much,
    and who has time left with the competence."""
    _require_grid(actor)
    asked = bool(request.GET)
    form = FitForm(request.GET if asked else None, actor=actor)
    result = None
    status = 200
    if asked and form.is_valid():
        data = form.cleaned_data
        try:
            query = selectors.grid_query(
                actor,
                start=data.get("from") or None,
                end=data.get("to") or None,
                pmo=data.get("pmo"),
            )
            service = None
            if data.get("service"):
                service, needs = selectors.service_needs(actor, data["service"])
            else:
                needs = form.needs()
                if not form.errors:
                    needs = selectors.check_needs(actor, needs)
            if not form.errors:
                result = selectors.fit(actor, needs, query, service=service)
        except DomainError as exc:
            if exc.code != "invalid":
                raise
            errors = {}
            for name, messages in exc.errors.items():
                if name.startswith("needs."):
                    _, index, field = name.split(".")
                    name = f"{field}_{index}"
                errors[name] = messages
            form.show(DomainError(exc.message, errors=errors or {"__all__": [exc.message]}))
    if form.errors:
        status = 422
    context = {
        "form": form,
        "rows": form.rows(),
        "fit": result,
        "amount": amount,
        "grid_url": reverse("capacity:home", args=[actor.organisation.slug]),
    }
    return render(request, "capacity/fit.html", context, status=status)


urlpatterns: list[Any] = [
    path("capacity/", home, name="home"),
    path("capacity/cell/", cell, name="cell"),
    path("capacity/fit/", fit, name="fit"),
]
