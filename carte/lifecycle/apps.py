from __future__ import annotations

from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "carte.lifecycle"
    label = "lifecycle"
    verbose_name = "Lifecycle"

    def ready(self) -> None:
        # What waits for a person at a service's stage (core.work).
        from carte.lifecycle import work  # noqa: F401
