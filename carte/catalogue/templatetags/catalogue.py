"""Template helpers of the catalogue pages."""

from __future__ import annotations

from django import template

from carte.catalogue.choices import (
    DeliveryMode,
    PricingBasis,
    ProviderKind,
    Rationale,
    Scope,
    ServiceRoleKind,
    Stage,
)

register = template.Library()

# The vocabularies a snapshot or a menu row keeps as codes, by the service field they fill.
_CHOICES = {
    "rationale": dict(Rationale.choices),
    "scopes": dict(Scope.choices),
    "stage": dict(Stage.choices),
    "pricing_basis": dict(PricingBasis.choices),
    "delivery_mode": dict(DeliveryMode.choices),
    "provider_kind": dict(ProviderKind.choices),
    "role": dict(ServiceRoleKind.choices),
}


@register.filter
def choice_label(code: str, field: str) -> str:
    """The label of a service field's code: "control" -> "Control needed"."""
    return str(_CHOICES.get(field, {}).get(code, code))


@register.filter
def get_label(labels: dict[str, str], code: str) -> str:
    """A code's label from a mapping of choices, or the code itself."""
    return str(labels.get(code, code))
