from __future__ import annotations

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "carte.operations"
    label = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        # Its kinds of background job, known to every process (the job pages show them).
        from carte.operations import tasks  # noqa: F401
