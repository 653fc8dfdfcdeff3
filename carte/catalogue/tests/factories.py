"""Factories for the catalogue: categories, services and each part of a service.

They set up test data directly (no permission checks, no audit); the behaviour under test
always goes through the services. A part takes its organisation from its service, and a
service its category from its organisation, so `ServiceLevelFactory(service=s)` is enough.
"""

from __future__ import annotations

from decimal import Decimal

import factory
from django.utils import timezone

from carte.catalogue import models
from carte.catalogue.choices import (
    ArtefactKind,
    ServiceRoleKind,
    Stage,
    SupplierKind,
)
from carte.organisations.models import Competence
from carte.organisations.tests.factories import (
    CustomerGroupFactory,
    OrganisationFactory,
    PersonFactory,
)

_SAME_ORG = factory.SelfAttribute("..organisation")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Category

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Category {n:04d}")
    position = factory.Sequence(lambda n: n * 10)


class ServiceFactory(factory.django.DjangoModelFactory):
    """A free, in-house service at the `proposed` stage, unpublished."""

    class Meta:
        model = models.Service

    organisation = factory.SubFactory(OrganisationFactory)
    category = factory.SubFactory(CategoryFactory, organisation=_SAME_ORG)
    code = factory.Sequence(lambda n: f"S{n:04d}")
    name = factory.Sequence(lambda n: f"Service {n:04d}")
    summary = "A service of the PMO."
    stage = Stage.PROPOSED

    @classmethod
    def _create(
        cls, model_class: type[models.Service], *args: object, **kwargs: object
    ) -> models.Service:
        # A new service starts at `proposed`; a factory asked for another stage puts it
        # there the way only test data may (the lifecycle's transitions are tested apart).
        stage = str(kwargs.pop("stage", Stage.PROPOSED))
        service: models.Service = super()._create(model_class, *args, **kwargs)
        if stage != Stage.PROPOSED:
            move_stage(service, stage)
        return service


def move_stage(service: models.Service, stage: str) -> None:
    """Test data only: put a service at a stage without its transition's checks."""
    now = timezone.now()
    models.Service.objects.filter(pk=service.pk)._move_stage(stage, now)
    service.stage = service._stored_stage = stage
    service.stage_changed_at = now


class _PartFactory(factory.django.DjangoModelFactory):
    """A part of a service, in the service's organisation."""

    class Meta:
        abstract = True

    service = factory.SubFactory(ServiceFactory)
    organisation = factory.LazyAttribute(lambda o: o.service.organisation)


class ServiceRoleFactory(_PartFactory):
    """An Operative by default; pass `role` (and `pmo` for a Manager) for the others."""

    class Meta:
        model = models.ServiceRole

    person = factory.SubFactory(PersonFactory, organisation=_SAME_ORG)
    role = ServiceRoleKind.OPERATIVE


class ServiceLevelFactory(_PartFactory):
    class Meta:
        model = models.ServiceLevel

    name = factory.Sequence(lambda n: f"Level {n:04d}")
    position = factory.Sequence(lambda n: n)


class SymptomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Symptom

    organisation = factory.SubFactory(OrganisationFactory)
    statement = factory.Sequence(lambda n: f"Symptom {n:04d}")


class ServiceSymptomFactory(_PartFactory):
    class Meta:
        model = models.ServiceSymptom

    symptom = factory.SubFactory(SymptomFactory, organisation=_SAME_ORG)
    weight = 3


class SupplierFactory(_PartFactory):
    class Meta:
        model = models.Supplier

    kind = SupplierKind.ROLE
    name = factory.Sequence(lambda n: f"Supplier {n:04d}")
    position = factory.Sequence(lambda n: n)


class ServiceInputFactory(_PartFactory):
    """An input; pass `source_output` (another service's output) for a dependency."""

    class Meta:
        model = models.ServiceInput

    name = factory.Sequence(lambda n: f"Input {n:04d}")
    position = factory.Sequence(lambda n: n)


class ProcessStepFactory(_PartFactory):
    class Meta:
        model = models.ProcessStep

    name = factory.Sequence(lambda n: f"Step {n:04d}")
    performer = "Analyst"
    position = factory.Sequence(lambda n: n)


class ServiceOutputFactory(_PartFactory):
    """An output; `ServiceOutputFactory(customers=[group, ...])` sets who receives it."""

    class Meta:
        model = models.ServiceOutput
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Output {n:04d}")
    position = factory.Sequence(lambda n: n)

    @factory.post_generation
    def customers(self, create: bool, extracted: list[object] | None, **kwargs: object) -> None:
        if create and extracted:
            self.customers.set(extracted)


class ServiceCustomerFactory(_PartFactory):
    class Meta:
        model = models.ServiceCustomer

    customer_group = factory.SubFactory(CustomerGroupFactory, organisation=_SAME_ORG)


class CompetenceFactory(factory.django.DjangoModelFactory):
    """A competence of an organisation's framework."""

    class Meta:
        model = Competence

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Competence {n:04d}")


class CompetenceNeedFactory(_PartFactory):
    """A need of a competence of the service's organisation (`competence__name="Risk"`)."""

    class Meta:
        model = models.CompetenceNeed

    competence = factory.SubFactory(CompetenceFactory, organisation=_SAME_ORG)
    fte = Decimal("0.50")


class GovernanceNeedFactory(_PartFactory):
    class Meta:
        model = models.GovernanceNeed

    item = factory.Sequence(lambda n: f"Prerequisite {n:04d}")


class ArtefactFactory(factory.django.DjangoModelFactory):
    """An artefact owned by a service (pass `owner_service=None, owner_pmo=pmo` to share)."""

    class Meta:
        model = models.Artefact

    organisation = factory.SubFactory(OrganisationFactory)
    owner_service = factory.SubFactory(ServiceFactory, organisation=_SAME_ORG)
    name = factory.Sequence(lambda n: f"Artefact {n:04d}")
    kind = ArtefactKind.TEMPLATE


class ServiceArtefactFactory(_PartFactory):
    """A service's use of an artefact owned elsewhere."""

    class Meta:
        model = models.ServiceArtefact

    artefact = factory.SubFactory(ArtefactFactory, organisation=_SAME_ORG)
