"""The pages that gather every app's rows for one person: My work and the search in the
header (`core.work`, `core.find`), each behind `scoped` (the actor in `/o/<org>/`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path, reverse

from carte.core.find import MIN_QUERY, find_everywhere, finders
from carte.core.permissions import ActorLike
from carte.core.text import BadText, accept
from carte.core.views import Scoped
from carte.core.work import my_work

# Items shown per section: on the My work page, and under each kind of search result.
WORK_LIMIT = 25
FOUND_LIMIT = 10
KIND_LIMIT = 100  # the matches of one kind, shown alone
MAX_QUERY = 200  # characters of a search read; a longer one is cut there


def my_work_page(request: HttpRequest, actor: ActorLike) -> HttpResponse:
    """Everything waiting for the person, section by section, most urgent first."""
    sections = my_work(actor, limit=WORK_LIMIT)
    return render(
        request,
        "core/my_work.html",
        {"sections": sections, "total": sum(s.count for s in sections)},
    )


def search_page(request: HttpRequest, actor: ActorLike) -> HttpResponse:
    """The header's search: each kind's best matches for the words typed, or every match
    of one kind (`kind`, up to `KIND_LIMIT`) where the kind has no list of its own to
    search. Text the text policy refuses (a NUL) is a 422 with the reason, not a search."""
    q = " ".join(request.GET.get("q", "").split())[:MAX_QUERY]
    error = ""
    try:
        accept(q)
    except BadText as exc:
        error, q = str(exc), ""
    kinds = {finder.key: finder for finder in finders()}
    kind = kinds.get(request.GET.get("kind", ""))
    limit = KIND_LIMIT if kind else FOUND_LIMIT
    found = find_everywhere(actor, q, limit=limit, kind=kind.key if kind else None) if q else []
    # A kind without a list of its own to search shows its other matches here, alone.
    sections = [
        section
        if section.more or kind
        else replace(section, more=_kind_url(actor, q, section.finder.key))
        for section in found
    ]
    context: dict[str, Any] = {
        "q": q,
        "error": error,
        "too_short": bool(q) and len(q) < MIN_QUERY,
        "empty": not q and not error,
        "sections": sections,
        "total": sum(s.count for s in sections),
        "kind": kind,
        "everywhere": _kind_url(actor, q, None) if kind else "",
    }
    return render(request, "core/search.html", context, status=422 if error else 200)


def _kind_url(actor: ActorLike, q: str, kind: str | None) -> str:
    query = {"q": q, "kind": kind} if kind else {"q": q}
    return reverse("search", args=[actor.organisation.slug]) + "?" + urlencode(query)


def workspace_urls(scoped: Scoped) -> list[Any]:
    return [
        path("my-work/", scoped(my_work_page), name="my_work"),
        path("search/", scoped(search_page), name="search"),
    ]
