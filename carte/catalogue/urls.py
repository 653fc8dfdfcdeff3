"""Catalogue pages live under /o/<org>/catalogue/."""

from __future__ import annotations

from carte.catalogue.views import catalogue_urls
from carte.catalogue.views_transfer import transfer_urls

urlpatterns = catalogue_urls()
urlpatterns += transfer_urls()
