from __future__ import annotations

from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "carte.catalogue"
    label = "catalogue"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        # Its kinds of background job, known to every process (the job pages show them),
        # and what the header's search finds here (core.find).
        from carte.catalogue import finders, tasks  # noqa: F401
