"""Who may do what with the organisation's structure: the organisation roles as sets, and
each structural model's rules (its `ACCESS`)."""

from __future__ import annotations

from carte.core.permissions import Access, crud
from carte.organisations.choices import OrgRole

EVERYONE = frozenset(OrgRole.values)
STAFF_SIDE = EVERYONE - {OrgRole.CUSTOMER}
CONTRIBUTORS = STAFF_SIDE - {OrgRole.VIEWER}  # the PMO's side but Viewers, who only read
STRUCTURE_EDITORS = frozenset({OrgRole.ADMIN, OrgRole.DIRECTOR, OrgRole.PMO_MANAGER})
PEOPLE_EDITORS = STRUCTURE_EDITORS | {OrgRole.STAFF}
MEMBER_EDITORS = frozenset({OrgRole.ADMIN, OrgRole.DIRECTOR})

PMO: Access = crud(EVERYONE, STRUCTURE_EDITORS)
CUSTOMER_GROUP: Access = crud(EVERYONE, STRUCTURE_EDITORS)
PERSON: Access = crud(EVERYONE, PEOPLE_EDITORS)
MEMBERSHIP: Access = crud(STAFF_SIDE, MEMBER_EDITORS)
# The competence framework: everyone on the PMO's side reads it; who shapes the PMO edits it.
COMPETENCE: Access = crud(STAFF_SIDE, STRUCTURE_EDITORS)
