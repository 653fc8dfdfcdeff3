"""Who is acting: a login inside one organisation, with the roles it holds there.

Pages get it from `/o/<org>/` and the API from `/api/v1/orgs/{org}/` (see `access`); the
CLI and the demo loader act as the system (`Actor.for_system`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from carte.organisations.choices import OrgRole

if TYPE_CHECKING:
    from carte.organisations.models import Organisation, User


@dataclass(frozen=True)
class Actor:
    """Who is acting, in which organisation, holding which organisation roles."""

    user: User | None
    organisation: Organisation
    roles: frozenset[str] = field(default_factory=frozenset)
    system: bool = False  # the CLI or demo loader acting with every right
    # Per-request memo of facts rules need (the services this user owns or manages), so a
    # list page asks the database once, not once per row.
    cache: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def label(self) -> str:
        if self.user is None:
            return "system"
        return self.user.email or self.user.get_username()

    @property
    def staff_side(self) -> bool:
        """On the PMO's side: every role but customer (the system too)."""
        return self.system or bool(self.roles - {OrgRole.CUSTOMER})

    def has_role(self, *roles: str) -> bool:
        return self.system or bool(self.roles.intersection(roles))

    @classmethod
    def for_system(cls, organisation: Organisation, user: User | None = None) -> Actor:
        return cls(
            user=user, organisation=organisation, roles=frozenset(OrgRole.values), system=True
        )
