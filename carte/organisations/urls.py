"""Organisation-scoped pages live under /o/<org>/."""

from __future__ import annotations

from carte.organisations.views import org_urls

urlpatterns = org_urls()
