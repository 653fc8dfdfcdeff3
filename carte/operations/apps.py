from __future__ import annotations

from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "carte.operations"
    label = "operations"
    verbose_name = "Operations"
