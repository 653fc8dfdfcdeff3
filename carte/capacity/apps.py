from __future__ import annotations

from django.apps import AppConfig


class CapacityConfig(AppConfig):
    name = "carte.capacity"
    label = "capacity"
    verbose_name = "Capacity"

    def ready(self) -> None:
        # What capacity shows on the lower apps' pages (their slots), its kind of
        # background job, known to every process (the job pages show it), and what waits
        # for a person in it (My work).
        from carte.capacity import links, tasks, work  # noqa: F401
