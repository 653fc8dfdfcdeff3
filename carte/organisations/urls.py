"""Organisation-scoped pages live under /o/<org>/."""

from __future__ import annotations

from carte.core.jobs.views import job_urls
from carte.organisations.access import org_view
from carte.organisations.views import org_urls

urlpatterns = org_urls() + job_urls(org_view)
