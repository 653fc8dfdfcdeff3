"""The demo catalogues of `northwind` and `riverside`, as data: one file per organisation
(`northwind.yaml`, `riverside.yaml`) in the catalogue's own export format, loaded through
the importer, the code path of `carte catalogue import`, so the demo exercises it.

The files hold what an export carries: categories, services with all their parts,
artefacts and their uses, and the dependencies between services (an input's source).
What they do not carry belongs to the apps above, whose demos run next (`carte/demo.py`
calls them in stack order): the lifecycle demo walks each service from `proposed` to its
stage (going live publishes it) and publishes a second version of a few; the operations
demo runs them.

The files were first written by `carte catalogue export --format yaml` from the demo's
earlier Python form. To change one, edit it, or import it into a database holding only the
demo organisations (`load_organisations_demo`, then `load_catalogue_demo`), change the
catalogue there and export it again; a test checks that each file is what an export of it
writes.
"""

from __future__ import annotations

from pathlib import Path

from carte.catalogue.models import Service
from carte.catalogue.transfer.importer import import_catalogue
from carte.core.errors import DomainError
from carte.organisations.actor import Actor

DATA = Path(__file__).resolve().parent
SHOWN_PROBLEMS = 5


def demo_file(slug: str) -> Path | None:
    """The demo catalogue file of an organisation, if it has one."""
    path = DATA / f"{slug}.yaml"
    return path if path.is_file() else None


def load_catalogue_demo(*, actor: Actor) -> dict[str, Service]:
    """Import the demo catalogue of the actor's organisation (the system actor, once its
    people, PMOs and customer groups exist); its services by code, in the file's order.
    An organisation without a demo file gets nothing."""
    path = demo_file(actor.organisation.slug)
    if path is None:
        return {}
    report = import_catalogue(actor, path)
    if not report.ok:
        problems = "; ".join(str(p) for p in report.errors[:SHOWN_PROBLEMS])
        raise DomainError(f"The demo catalogue {path.name} does not import: {problems}")
    codes = report.created["services"]
    found = {
        s.code: s
        for s in Service.objects.filter(
            organisation=actor.organisation, code__in=codes, archived_at__isnull=True
        )
    }
    return {code: found[code] for code in codes}
