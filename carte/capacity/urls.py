"""Capacity pages under /o/<org>/: the grid of demand against supply (`views.grid`) and
people's capacity records (`views.records`)."""

from __future__ import annotations

from carte.capacity.views import grid, records

app_name = "capacity"

urlpatterns = [
    *grid.urlpatterns,
    *records.urlpatterns,
]
