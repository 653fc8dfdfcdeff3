"""Extension points: a named place on a lower app's page that higher apps fill when they
load (DESIGN.md, "Apps and their edges"), so a lower app shows a higher app's facts
without importing up.

The lower app declares the slot (`PERSON_LINKS = Slot("organisations.person_links")`)
and draws what `collect()` gives; a higher app fills it from its `AppConfig.ready`
(`PERSON_LINKS.fill(capacity_link)`). A filler takes the page's arguments (the actor and
the object shown) and answers something to show or None; each filler runs a bounded
number of queries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Slot:
    """A named extension point and the functions that fill it, in the order they came."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._fillers: dict[str, Callable[..., Any]] = {}

    def fill(self, filler: Callable[..., Any]) -> Callable[..., Any]:
        """Add a filler (again under its qualified name: the last one wins, so a module
        loaded twice fills once)."""
        self._fillers[f"{filler.__module__}.{filler.__qualname__}"] = filler
        return filler

    def collect(self, *args: Any, **kwargs: Any) -> list[Any]:
        """What each filler gives for these arguments, leaving out None."""
        return [
            found
            for filler in self._fillers.values()
            if (found := filler(*args, **kwargs)) is not None
        ]
