"""`carte token create EMAIL [--org SLUG] [--name NAME]` and `carte token revoke EMAIL ID`."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from carte.core.errors import DomainError
from carte.organisations import services
from carte.organisations.models import Organisation, User


class Command(BaseCommand):
    help = "Create or revoke personal API tokens."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token; it is printed once.")
        create.add_argument("email")
        create.add_argument("--org", help="Limit the token to this organisation (slug).")
        create.add_argument("--name", default="cli", help="A name to recognise the token by.")
        revoke = sub.add_parser("revoke", help="Revoke a token by its id.")
        revoke.add_argument("email")
        revoke.add_argument("id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["email"]).first()
        if user is None:
            raise CommandError(f"No login with e-mail {options['email']}.", returncode=2)
        try:
            if options["action"] == "create":
                org = None
                if options.get("org"):
                    org = Organisation.objects.filter(slug=options["org"]).first()
                    if org is None:
                        raise CommandError(f"No organisation {options['org']!r}.", returncode=2)
                token, raw = services.token_create(
                    user=user, name=options["name"], organisation=org
                )
                self.stdout.write(raw)
                self.stderr.write(f"Token {token.pk} created; it will not be shown again.")
            else:
                token = services.token_revoke(user=user, token_id=options["id"])
                self.stdout.write(f"Token {token.pk} revoked.")
        except DomainError as exc:
            raise CommandError(exc.one_line(), returncode=2) from exc
