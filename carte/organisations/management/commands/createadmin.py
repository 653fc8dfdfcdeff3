"""`carte createadmin`: a login with the admin role in an organisation (created if new)."""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from carte.core.errors import DomainError
from carte.organisations import services
from carte.organisations.actor import Actor
from carte.organisations.choices import OrgRole
from carte.organisations.models import Membership, Organisation, User


class Command(BaseCommand):
    help = "Create a login with the admin role in an organisation (the organisation too, if new)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--org", required=True, help="Organisation slug.")
        parser.add_argument("--org-name", help="Name, when the organisation is new.")
        parser.add_argument("--name", default="", help="Full name of the administrator.")
        parser.add_argument(
            "--password",
            help="Password (or set CARTE_ADMIN_PASSWORD; asked for when on a terminal).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"] or os.environ.get("CARTE_ADMIN_PASSWORD")
        if not password:
            if not sys.stdin.isatty():
                raise CommandError("Give --password or CARTE_ADMIN_PASSWORD.", returncode=2)
            password = getpass.getpass("Password: ")
        try:
            with transaction.atomic():
                org = Organisation.objects.filter(slug=options["org"]).first()
                if org is None:
                    org = services.organisation_create(
                        name=options["org_name"] or options["org"], slug=options["org"]
                    )
                actor = Actor.for_system(org)
                existed = User.objects.filter(email__iexact=options["email"]).exists()
                user = services.user_get_or_create(
                    email=options["email"], full_name=options["name"], password=password
                )
                membership = Membership.objects.filter(organisation=org, user=user).first()
                if membership is None:
                    services.membership_create(
                        actor=actor,
                        email=user.email,
                        roles=[OrgRole.ADMIN],
                        full_name=options["name"],
                    )
                else:
                    roles = set(membership.role_list) | {OrgRole.ADMIN}
                    services.membership_update(actor=actor, membership=membership, roles=roles)
        except DomainError as exc:
            raise CommandError(exc.one_line(), returncode=2) from exc
        self.stdout.write(self.style.SUCCESS(f"{user.email} is an administrator of {org.name}."))
        if existed:
            self.stdout.write("The login already existed: its password is unchanged.")
