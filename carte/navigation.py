"""Template context shared by every page: the organisation switcher and navigation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

# The apps of Carte, in menu order. Those without pages yet are shown as coming.
NAVIGATION: list[tuple[str, str]] = [
    ("Strategy", ""),
    ("Handbook", ""),
    ("Capacity", ""),
    ("Finance", ""),
    ("Demand", ""),
    ("Portfolio", ""),
    ("Insights", ""),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from carte.organisations.selectors import switcher_organisations

    return {
        "actor": actor,
        "current_org": actor.organisation if actor else None,
        "switch_orgs": switcher_organisations(user, actor),
        "nav_apps": NAVIGATION,
    }
