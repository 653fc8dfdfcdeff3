"""Operations pages under /o/<org>/: a service's Operations tab and forms under
catalogue/services/<id>/operations/, the organisation views under operations/, and each
user's inbox."""

from __future__ import annotations

from carte.operations.views import changes, inbox, items, kpis, levels, overview, registers

app_name = "operations"

urlpatterns = [
    *overview.urlpatterns,
    *kpis.urlpatterns,
    *levels.urlpatterns,
    *items.urlpatterns,
    *registers.urlpatterns,
    *changes.urlpatterns,
    *inbox.urlpatterns,
]
