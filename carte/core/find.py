"""The search in the header: services, KPIs, risks and issues, changes and people at once.

`core` knows no app: each app registers what it can find (`register_finder`) when it
loads, and the search page lists each kind's best matches in `order`. A
`Finder.find(actor, q, limit)` answers how many rows match and the first `limit`, best
first, in a bounded number of queries, among what the actor may see (a customer finds
the services published to them and nothing of the staff's records); `more(actor, q)` is
the kind's own list filtered by the same words, where the rest can be read (without one,
the search page lists that kind alone).

Records other than services are found by each word of the search, every word matching
somewhere (`every_word`), each word matched as the record's own list searches (`list_search`,
its `ListFilter`'s `q`): "printer outage" finds "Outage of the printers".
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from carte.core.listing import ListFilter
from carte.core.permissions import ActorLike

# Words shorter than this find nothing (every row holds an "a").
MIN_QUERY = 2
MAX_WORDS = 8  # past this many words a search is a sentence: its first words are enough
_PUNCTUATION = (
    string.punctuation + "\u201c\u201d\u2018\u2019\u00ab\u00bb\u2026"
)  # curly quotes, guillemets, ellipsis


@dataclass(frozen=True)
class Found:
    """One match: its name, its page and a line saying what it is."""

    title: str
    url: str
    detail: str = ""


@dataclass(frozen=True)
class Finder:
    key: str
    title: str  # "Services"
    order: int
    find: Callable[[ActorLike, str, int], tuple[int, list[Found]]]
    more: Callable[[ActorLike, str], str] | None = None


@dataclass(frozen=True)
class FoundSection:
    finder: Finder
    count: int
    items: list[Found]
    more: str | None = None  # the kind's own list, filtered by the same words


_FINDERS: dict[str, Finder] = {}


def register_finder(finder: Finder) -> Finder:
    _FINDERS[finder.key] = finder
    return finder


def finders() -> list[Finder]:
    return sorted(_FINDERS.values(), key=lambda f: (f.order, f.key))


def find_everywhere(
    actor: ActorLike, q: str, *, limit: int, kind: str | None = None
) -> list[FoundSection]:
    """Each kind's matches for `q` (only the kind `kind` when given), kinds with none left
    out."""
    q = " ".join(q.split())
    if len(q) < MIN_QUERY:
        return []
    sections = []
    for finder in finders():
        if kind is not None and finder.key != kind:
            continue
        count, items = finder.find(actor, q, limit)
        if count:
            more = finder.more(actor, q) if finder.more else None
            sections.append(FoundSection(finder, count, items[:limit], more))
    return sections


# ---------------------------------------------------------------- helpers for finders


def words(q: str) -> list[str]:
    """The words of a search, without the punctuation around them, each once (whatever
    its case), in the order typed; words shorter than `MIN_QUERY` left out."""
    found: dict[str, str] = {}
    for raw in q.split():
        word = raw.strip(_PUNCTUATION)
        if len(word) >= MIN_QUERY:
            found.setdefault(word.casefold(), word)
    return list(found.values())[:MAX_WORDS]


def every_word(terms: Iterable[str], match: Callable[[str], Q]) -> Q:
    """Rows matching each of the terms, `match(term)` saying what matching one is; no row
    when there is no term."""
    condition: Q | None = None
    for term in terms:
        condition = match(term) if condition is None else condition & match(term)
    return Q(pk__in=[]) if condition is None else condition


def list_search(filters: type[ListFilter], **neutral: Any) -> Callable[[str], Q]:
    """What a list's own search (its filter's `q`) matches for one word: the filter's
    condition with only `q` set (every status; `neutral` sets the filters whose default
    narrows the list, such as "open only", to their value that does not)."""

    def match(word: str) -> Q:
        given = filters.model_validate({**neutral, "status": "all", "q": word})
        return given.get_filter_expression()

    return match
