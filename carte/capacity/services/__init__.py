"""Writes of capacity (the one way in), one module per part, re-exported here:
`assessments` (assessed competences, confirming a self-assessment), `availability` (the
contract and its exceptions), `allocations`; `common` holds the refusals they share."""

from __future__ import annotations

from carte.capacity.services.allocations import (
    allocation_archive,
    allocation_create,
    allocation_restore,
    allocation_update,
)
from carte.capacity.services.assessments import (
    assessment_archive,
    assessment_confirm,
    assessment_create,
    assessment_restore,
    assessment_update,
)
from carte.capacity.services.availability import (
    availability_set,
    exception_archive,
    exception_create,
    exception_update,
)

__all__ = [
    "allocation_archive",
    "allocation_create",
    "allocation_restore",
    "allocation_update",
    "assessment_archive",
    "assessment_confirm",
    "assessment_create",
    "assessment_restore",
    "assessment_update",
    "availability_set",
    "exception_archive",
    "exception_create",
    "exception_update",
]
