"""Template context shared by every page: the organisation switcher and navigation."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.http import HttpRequest
from django.urls import reverse

# The apps still to come, in menu order: label, the app's module, its menu page's URL
# name (taking the organisation's slug). An entry shows once its app is installed, never
# before: a menu lists what people can open, not plans.
NAVIGATION: list[tuple[str, str, str]] = [
    ("Strategy", "carte.strategy", "strategy:home"),
    ("Handbook", "carte.handbook", "handbook:home"),
    ("Capacity", "carte.capacity", "capacity:home"),
    ("Finance", "carte.finance", "finance:home"),
    ("Demand", "carte.demand", "demand:home"),
    ("Portfolio", "carte.portfolio", "portfolio:home"),
    ("Insights", "carte.insights", "insights:home"),
]


def nav_apps(org_slug: str) -> list[tuple[str, str]]:
    """The menu entries (label, address) of the apps of `NAVIGATION` that exist."""
    return [
        (label, reverse(url_name, kwargs={"org": org_slug}))
        for label, module, url_name in NAVIGATION
        if apps.is_installed(module)
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
        "nav_apps": nav_apps(actor.organisation.slug) if actor else [],
    }
