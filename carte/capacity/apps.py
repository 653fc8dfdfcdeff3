from __future__ import annotations

from django.apps import AppConfig


class CapacityConfig(AppConfig):
    name = "carte.capacity"
    label = "capacity"
    verbose_name = "Capacity"

    def ready(self) -> None:
        # What capacity shows on the lower apps' pages (their slots), and its kind of
        # background job, known to every process (the job pages show it).
        from carte.capacity import links, tasks  # noqa: F401
