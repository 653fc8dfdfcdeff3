"""Operations addresses outside /o/<org>/ that need no login: a user's calendar feed,
whose secret in the address is the credential."""

from __future__ import annotations

from django.urls import path

from carte.operations.views.inbox import calendar_feed

app_name = "operations_public"

urlpatterns = [
    path("calendar/<str:token>.ics", calendar_feed, name="calendar_feed"),
]
