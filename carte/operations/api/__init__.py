"""API of running a service under /api/v1/orgs/{org}/..., one router per part."""

from ninja import Router

from carte.operations.api import changes, imports, inbox, items, kpis, levels, registers

router = Router()
for part in (kpis, imports, levels, items, registers, changes, inbox):
    router.add_router("/", part.router)
