"""`{% inbox_link %}`: the header's Inbox link with the user's unread count (one COUNT
query, only on pages of an organisation)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from carte.operations.selectors.inbox import unread_count

register = template.Library()


@register.inclusion_tag("operations/inbox_link.html", takes_context=True)
def inbox_link(context: template.Context) -> dict[str, Any]:
    actor = context.get("actor")
    if actor is None or actor.user is None:
        return {"show": False}
    url = reverse("operations:inbox", args=[actor.organisation.slug])
    request = context.get("request")
    return {
        "show": True,
        "url": url,
        "here": request is not None and request.path == url,
        "unread": unread_count(actor),
    }
