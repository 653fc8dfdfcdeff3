"""The organisation's registers: every risk and issue of every service and level, and every
action on them, each filtered, ordered and paged, and downloadable as .xlsx or CSV (all the
rows the filters keep, not one page: `core.exports`).

Like the escalations list, the registers are the staff's: a customer is refused before
anything is read. Each page runs a bounded number of queries whatever the data size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from carte.core.clock import today
from carte.core.exports import export_format, table_download
from carte.core.listing import paginate
from carte.core.views import filtered, is_htmx, page_size
from carte.operations.choices import ItemKind, Level
from carte.operations.filters import ActionRegisterFilter, RiskRegisterFilter
from carte.operations.models import ItemAction, RiskIssue
from carte.operations.selectors import registers as selectors
from carte.organisations.access import org_view
from carte.organisations.actor import Actor

RISK_ORDERINGS = [
    ("-raised", "Newest raised first"),
    ("raised", "Oldest raised first"),
    ("due", "Next action due"),
    ("-level", "Highest level first"),
    ("service", "Service"),
    ("owner", "Owner"),
    ("title", "Title"),
]
ACTION_ORDERINGS = [
    ("-due", "Latest due first"),
    ("owner", "Owner"),
    ("service", "Service"),
    ("item", "Risk or issue"),
]


def _guard(actor: Actor) -> None:
    if not selectors.may_view(actor):
        raise PermissionDenied("Risks and issues are for the PMO's staff.")


def _query(request: HttpRequest) -> str:
    """The page's query string without the page and the file format: what the pager and
    the download links keep."""
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return query.urlencode()


def _raised(item: RiskIssue) -> dt.date:
    return timezone.localdate(item.created_at)


def _risk_rows(items: Iterable[RiskIssue]) -> Iterator[list[Any]]:
    for item in items:
        yield [
            item.title,
            item.get_kind_display(),
            f"{item.service.code} {item.service.name}",
            item.get_level_display(),
            item.get_status_display(),
            item.score,
            item.probability,
            item.impact,
            item.owner.name if item.owner else None,
            getattr(item, "next_due", None),  # annotated by the selector
            _raised(item),
        ]


RISK_COLUMNS = [
    "Title",
    "Kind",
    "Service",
    "Level",
    "Status",
    "Score",
    "Probability",
    "Impact",
    "Owner",
    "Next action due",
    "Raised",
]


@org_view
def risk_register(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Every risk and issue of the organisation's services, at every level, worst score
    first; filtered by kind, state, level, service, owner and words."""
    _guard(actor)
    filters, errors = RiskRegisterFilter.from_query(request.GET.dict())
    qs, filters = filtered(lambda f: selectors.risk_register(actor, f), filters, errors)
    fmt = export_format(request)
    if fmt:
        return table_download(
            fmt=fmt,
            filename="risks-and-issues",
            title="Risks and issues",
            columns=RISK_COLUMNS,
            rows=_risk_rows(qs),
        )
    page = paginate(qs, page_size(request), request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "filter_errors": errors,
        "query": _query(request),
        "kinds": ItemKind.choices,
        "levels": Level.choices,
        "services": selectors.service_options(actor),
        "owners": selectors.owner_options(actor, of="items"),
        "orderings": RISK_ORDERINGS,
        "today": today(),
    }
    if is_htmx(request):
        return render(request, "operations/register_risks_results.html", context)
    return render(request, "operations/register_risks.html", context)


def _action_rows(actions: Iterable[ItemAction], on: dt.date) -> Iterator[list[Any]]:
    for action in actions:
        item = action.item
        yield [
            action.description,
            action.get_purpose_display(),
            item.title,
            item.get_kind_display(),
            f"{item.service.code} {item.service.name}",
            action.owner.name,
            action.due_date,
            action.done_at is not None,
            timezone.localdate(action.done_at) if action.done_at else None,
            action.done_at is None and action.due_date < on,
        ]


ACTION_COLUMNS = [
    "Action",
    "Purpose",
    "Risk or issue",
    "Kind",
    "Service",
    "Owner",
    "Due",
    "Done",
    "Done on",
    "Overdue",
]


@org_view
def action_register(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Every action on the organisation's risks and issues, soonest due first, overdue
    ones flagged; filtered by owner (or mine), open or done, overdue, service and words."""
    _guard(actor)
    filters, errors = ActionRegisterFilter.from_query(request.GET.dict())
    qs, filters = filtered(lambda f: selectors.action_register(actor, f), filters, errors)
    on = today()
    fmt = export_format(request)
    if fmt:
        return table_download(
            fmt=fmt,
            filename="risk-and-issue-actions",
            title="Actions",
            columns=ACTION_COLUMNS,
            rows=_action_rows(qs, on),
        )
    page = paginate(qs, page_size(request), request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "filter_errors": errors,
        "query": _query(request),
        "services": selectors.service_options(actor),
        "owners": selectors.owner_options(actor, of="actions"),
        "orderings": ACTION_ORDERINGS,
        "today": on,
    }
    if is_htmx(request):
        return render(request, "operations/register_actions_results.html", context)
    return render(request, "operations/register_actions.html", context)


urlpatterns = [
    path("operations/risks/", risk_register, name="risk_register"),
    path("operations/actions/", action_register, name="action_register"),
]
