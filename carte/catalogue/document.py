"""The catalogue as a document (M-11): what the printable page shows, and the same page
drawn as a PDF by WeasyPrint (a background job: `catalogue.tasks.catalogue_pdf`)."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from carte.catalogue import selectors
from carte.catalogue.choices import PricingBasis, Scope
from carte.organisations.actor import Actor

TEMPLATE = "catalogue/document.html"


def document_context(actor: Actor) -> dict[str, Any]:
    """The document's content as the actor may see it (customers: what is published)."""
    sections = selectors.catalogue_document(actor=actor)
    return {
        "organisation": actor.organisation,
        "sections": sections,
        "count": sum(len(services) for _, services in sections),
        "generated": timezone.now(),
        "published_only": not selectors.sees_everything(actor),
        "pricing": dict(PricingBasis.choices),
        "scopes": dict(Scope.choices),
    }


def pdf_filename(actor: Actor) -> str:
    return f"{actor.organisation.slug}-service-catalogue.pdf"


def render_pdf(context: dict[str, Any]) -> bytes:
    """The printable page as a PDF. The page is self-contained (its styles inline), so
    WeasyPrint fetches nothing."""
    from weasyprint import HTML  # imported here: it needs system libraries (pango)

    html = render_to_string(TEMPLATE, context)
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
