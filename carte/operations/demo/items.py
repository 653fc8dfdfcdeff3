from __future__ import annotations

from carte.catalogue.models import Service
from carte.core.permissions import Actor


def load(*, actor: Actor, by_code: dict[str, Service]) -> None:
    """Nothing yet."""
