from __future__ import annotations

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "carte.operations"
    label = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        # Its kinds of background job, known to every process (the job pages show them),
        # what the header's search finds here (core.find) and what waits for a person
        # (core.work).
        from carte.operations import finders, tasks, work  # noqa: F401
