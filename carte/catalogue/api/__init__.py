"""API endpoints of the catalogue (`/api/v1/orgs/{org}/...`): categories, services with
their parts (SIPOC, roles, levels, needs, symptoms, artefacts), published versions and
the dependency graph."""

from ninja import Router

from carte.catalogue.api import parts, services, versions
from carte.catalogue.api.common import SERVICE_PARENT, STAFF_SERVICE_PARENT

router = Router()
router.add_router("/", services.router)
router.add_router("/", parts.router)
router.add_router("/", versions.router)

__all__ = ["SERVICE_PARENT", "STAFF_SERVICE_PARENT", "router"]
