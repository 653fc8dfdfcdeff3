"""The lifecycle's extension points (`core.slots`): what higher apps show on its pages.

`DECISION_FACTS`: computed facts beside the set-up decision's considerations (M-14),
such as capacity's "does it fit?" next to "competence and capacity available"; the
Director still writes the answer. A filler takes (actor, service) and answers a `Fact`
or None.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from carte.core.slots import Slot


@dataclass(frozen=True)
class Fact:
    """A computed fact for a decision: what it is about, the verdict in a sentence,
    whether it is good news (None: neither), the details and where to see more."""

    about: str  # the consideration it informs: "Competence and capacity available"
    verdict: str
    good: bool | None = None
    details: list[str] = field(default_factory=list)
    link: tuple[str, str] | None = None  # (label, address)


DECISION_FACTS = Slot("lifecycle.decision_facts")
