"""Finding services from the words people use (issue 13, defect 3).

A search is the words of a question ("our projects keep running over budget"), not a
fragment to find verbatim: each word is stemmed (Snowball's English stemmer, so
"overrunning" finds "overruns"), stop words are dropped, a service matching any word is
found, and the services found are ranked by BM25 (`bm25s`) over the text a reader sees
of them: code, name, summary, description, outputs' names and symptoms' statements. A
word nobody used whole is taken as the start of one (a search box that searches as you
type sees "budg" before "budget").

Each search reads afresh the text of the candidates (the services the other filters
let through) and ranks them on it. The only thing kept between searches is the BM25
index of a list of texts, found again only under a digest of those very texts (`_index`),
so it is never staler than the catalogue.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import unicodedata
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

import Stemmer  # type: ignore[import-not-found]
from django.db.models import QuerySet

from carte.catalogue.models import Service, ServiceOutput, ServiceSymptom

T = TypeVar("T")
U = TypeVar("U")

LANGUAGE = "english"  # PyStemmer's Snowball algorithm
STOPWORDS = "en"  # bm25s' English stop words ("the", "and", "of", ...)
PREFIX_MIN = 3  # a shorter unknown word is too vague to stand for the words it begins
PAGE_READ = 500  # rows read per query when a ranked list is read whole


def _bm25s() -> Any:
    """bm25s, imported when first searched: with numpy it takes a quarter of a second to
    import, which a command or a worker that never searches need not pay."""
    import bm25s  # type: ignore[import-untyped]

    # bm25s sets its own logger to DEBUG when imported, which would log each search.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def _terms(texts: list[str], stemmer: Any) -> list[list[str]]:
    """Each text as its stemmed words, lowercased, stop words left out."""
    bm25s = _bm25s()
    terms: list[list[str]] = bm25s.tokenize(
        # Composed accents, as Snowball expects: "café" typed one way finds it typed another.
        [unicodedata.normalize("NFC", text) for text in texts],
        stopwords=STOPWORDS,
        stemmer=stemmer,
        return_ids=False,
        show_progress=False,
    )
    return terms


def query_words(query: str) -> list[tuple[str, str]]:
    """The words of a search as (word, stem), lowercased, stop words and repeats left out."""
    # A Stemmer is cheap to make (well under a microsecond) and not safe to share
    # between threads, so each search makes its own.
    stemmer = Stemmer.Stemmer(LANGUAGE)
    (words,) = _terms([query], None)
    found: dict[str, str] = {}
    for word in words:
        stem = stemmer.stemWord(word)
        if stem not in found.values():
            found[word] = stem
    return list(found.items())


def rank(query: str, documents: Sequence[tuple[int, str]]) -> list[int]:
    """The ids of the documents (id, text) that match any word of the query, best match
    first; equally good matches stay in the order given. A document matching no word is
    left out, and so is everything when the query has no word to look for."""
    import numpy as np  # imported with bm25s (see `_bm25s`)

    words = query_words(query)
    if not words or not documents:
        return []
    found = _index([text for _, text in documents])
    if found is None:
        return []
    retriever, vocabulary = found
    total = np.zeros(len(documents), dtype=np.float32)
    for word, stem in words:
        if stem in vocabulary:
            tokens = [vocabulary[stem]]
        elif len(word) >= PREFIX_MIN:
            tokens = [i for term, i in vocabulary.items() if term.startswith((word, stem))]
        else:
            tokens = []
        if tokens:
            # A word standing for several (a prefix) counts once: its best match.
            total += np.maximum.reduce([retriever.get_scores_from_ids([t]) for t in tokens])
    order = sorted(range(len(documents)), key=lambda i: -float(total[i]))
    return [documents[i][0] for i in order if total[i] > 0]


# Indexes of the texts searched lately, by a digest of those texts. An index is a pure
# function of the texts it was built from, in their order, so one found under the digest
# of the texts a request has just read is the index it would build: it cannot be stale
# (any edit to any text, a service more or fewer, or another order gives another
# digest), and a caller finds only an index of texts it has read itself. It spares the
# rebuild (a tenth of a second or more for 2,000 services) to the searches of one list
# as someone types.
_INDEXES: OrderedDict[bytes, tuple[Any, dict[str, int]] | None] = OrderedDict()
_INDEXES_KEPT = 8
_INDEXES_LOCK = threading.Lock()


def _digest(texts: list[str]) -> bytes:
    digest = hashlib.blake2b(digest_size=32)
    for text in texts:
        data = text.encode("utf-8", "surrogatepass")
        digest.update(len(data).to_bytes(8, "little"))  # where one text ends counts
        digest.update(data)
    return digest.digest()


def _index(texts: list[str]) -> tuple[Any, dict[str, int]] | None:
    """The BM25 index of the texts and its vocabulary (stem: token id); None when no text
    has a word."""
    key = _digest(texts)
    with _INDEXES_LOCK:
        if key in _INDEXES:
            _INDEXES.move_to_end(key)
            return _INDEXES[key]
    corpus = _terms(texts, Stemmer.Stemmer(LANGUAGE))
    built: tuple[Any, dict[str, int]] | None = None
    if any(corpus):
        retriever = _bm25s().BM25()  # Lucene's BM25 (k1 1.5, b 0.75): every matched word scores
        retriever.index(corpus, show_progress=False)
        vocabulary = {term: i for term, i in retriever.vocab_dict.items() if term}
        built = (retriever, vocabulary)
    with _INDEXES_LOCK:
        _INDEXES[key] = built
        while len(_INDEXES) > _INDEXES_KEPT:
            _INDEXES.popitem(last=False)
    return built


# ---------------------------------------------------------------- what is searched


def live_texts(services: QuerySet[Service, Any]) -> list[tuple[int, str]]:
    """(id, searchable text) of each service, in the queryset's order, from its live rows:
    the fields a published version keeps for customers' searches (`snapshots.search_text`),
    read in three queries whatever the number of services."""
    cards = list(services.values_list("pk", "code", "name", "summary", "description"))
    if not cards:
        return []
    ids = services.values("pk")
    parts: dict[int, list[str]] = defaultdict(list)
    for service_id, name in ServiceOutput.objects.filter(
        service__in=ids, archived_at__isnull=True
    ).values_list("service_id", "name"):
        parts[service_id].append(name)
    for service_id, statement in ServiceSymptom.objects.filter(
        service__in=ids, archived_at__isnull=True
    ).values_list("service_id", "symptom__statement"):
        parts[service_id].append(statement)
    return [(card[0], "\n".join([*card[1:], *parts.get(card[0], ())])) for card in cards]


def published_texts(services: QuerySet[Service, Any]) -> list[tuple[int, str]]:
    """(id, searchable text) of each service as last published, in the queryset's order:
    what its current version stored when it was published, never a draft's words."""
    return [
        (pk, text or "") for pk, text in services.values_list("pk", "current_version__search_text")
    ]


# ---------------------------------------------------------------- a ranked list


class Ranked(Generic[T]):
    """Rows in a given order of ids, read a page at a time: its length costs nothing and a
    slice reads its own rows in one query, so it pages (Django's `Paginator`,
    django-ninja's pagination) as a queryset would, in an order SQL does not know.

    `read(ids)` gives the rows of those ids in that order (see `of`)."""

    def __init__(self, ids: list[int], read: Callable[[list[int]], list[T]]) -> None:
        self.ids = ids
        self._read = read

    @classmethod
    def of(
        cls, ids: list[int], load: Callable[[list[int]], Iterable[T]], key: Callable[[T], int]
    ) -> Ranked[T]:
        """The rows of `ids` in that order, `load(ids)` reading them in any order and
        `key(row)` naming a row's id. A row gone since the ids were read (archived
        meanwhile) is left out of its page."""

        def read(wanted: list[int]) -> list[T]:
            if not wanted:
                return []
            found = {key(row): row for row in load(wanted)}
            return [found[pk] for pk in wanted if pk in found]

        return cls(ids, read)

    def __len__(self) -> int:
        return len(self.ids)

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return self._read(self.ids[index])
        rows = self._read([self.ids[index]])
        if not rows:
            raise IndexError(index)
        return rows[0]

    def __iter__(self) -> Iterator[T]:
        for start in range(0, len(self.ids), PAGE_READ):
            yield from self._read(self.ids[start : start + PAGE_READ])

    def map(self, convert: Callable[[T], U]) -> Ranked[U]:
        """The same list, each row converted as it is read."""
        return Ranked(self.ids, lambda wanted: [convert(row) for row in self._read(wanted)])
