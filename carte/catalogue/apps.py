from __future__ import annotations

from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "carte.catalogue"
    label = "catalogue"
    verbose_name = "Catalogue"
