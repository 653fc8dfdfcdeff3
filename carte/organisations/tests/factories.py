"""Factories for the organisations app. They set up test data directly; the behaviour
under test always goes through the services."""

from __future__ import annotations

import factory
from django.contrib.auth.hashers import make_password

from carte.organisations.choices import PMOKind
from carte.organisations.models import (
    PMO,
    CustomerGroup,
    Membership,
    MembershipRole,
    Organisation,
    Person,
    User,
)

PASSWORD = "correct-horse-battery"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    username = factory.LazyAttribute(lambda o: o.email)
    full_name = factory.Sequence(lambda n: f"User {n}")
    password = factory.LazyFunction(lambda: make_password(PASSWORD))


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)

    @factory.post_generation
    def roles(self, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        for role in extracted or ["staff"]:
            MembershipRole.objects.create(membership=self, role=role)


class PMOFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PMO

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"PMO {n:04d}")
    kind = PMOKind.DEPARTMENTAL


class CustomerGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerGroup

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Group {n:04d}")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Person {n:04d}")
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    job_title = "Analyst"
