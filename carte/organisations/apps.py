from __future__ import annotations

from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "carte.organisations"
    label = "organisations"
    verbose_name = "Organisations"

    def ready(self) -> None:
        # What the header's search finds here (core.find).
        from carte.organisations import finders  # noqa: F401
