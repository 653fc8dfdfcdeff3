"""Every write to the catalogue: categories, services, their parts, symptoms, artefacts,
and publishing versions. Each function checks permission, validates, writes and audits in
one transaction; pages, the API, the CLI, imports and the demo loader all come here.

One module per part: `categories`, `services` (a service's card), `parts` (a service's
roles, levels, SIPOC rows, needs and links), `artefacts` (symptoms and artefacts),
`publishing` (versions), and `bulk`: the same writes for many rows at once (imports).
"""

from __future__ import annotations

from carte.catalogue.services.artefacts import (
    artefact_create,
    artefact_update,
    symptom_create,
    symptom_get_or_create,
)
from carte.catalogue.services.categories import (
    category_archive,
    category_create,
    category_restore,
    category_update,
)
from carte.catalogue.services.parts import (
    ORDERED_PARTS,
    PARTS,
    part_archive,
    part_create,
    part_restore,
    part_update,
)
from carte.catalogue.services.publishing import service_publish
from carte.catalogue.services.services import (
    EDITABLE_FIELDS,
    LINK_FIELDS,
    SERVICE_FIELDS,
    service_archive,
    service_create,
    service_restore,
    service_update,
)

__all__ = [
    "EDITABLE_FIELDS",
    "LINK_FIELDS",
    "ORDERED_PARTS",
    "PARTS",
    "SERVICE_FIELDS",
    "artefact_create",
    "artefact_update",
    "category_archive",
    "category_create",
    "category_restore",
    "category_update",
    "part_archive",
    "part_create",
    "part_restore",
    "part_update",
    "service_archive",
    "service_create",
    "service_publish",
    "service_restore",
    "service_update",
    "symptom_create",
    "symptom_get_or_create",
]
