"""The `carte` command: serve, load the demo, manage tokens, check, benchmark.

`carte <command>` runs Carte's own commands: `demo` and `run`, which span every app,
`login`, about a login of any organisation, and `capacity` (people's capacity), from
`carte.commands`; the apps' management
commands (createadmin, token, catalogue, lifecycle, operations, notify);
`carte check` runs Django's deployment checks against the production settings;
`carte manage ...` passes anything else to Django; `carte bench ...` runs the benchmarks.
Errors a user can fix print one line and exit with code 2.
"""

from __future__ import annotations

import os
import sys

USAGE = """usage: carte <command> [options]

commands:
  run [--task-workers N]   migrate, load the demo when the database is empty, serve,
                           with a background worker beside the server
  demo [--reset]           load the demo organisations
  createadmin              create a login with the admin role in an organisation
  token create EMAIL       create a personal API token (printed once)
  token revoke EMAIL ID    revoke one
  login deactivate EMAIL   keep a login out (no log-in, no API token, in any organisation)
  login activate EMAIL     let it in again
  catalogue export --org SLUG --format xlsx|csv|json|yaml [--out FILE]
  catalogue import FILE --org SLUG [--dry-run]
                           the service catalogue to and from files (all-or-nothing)
  lifecycle show SERVICE --org SLUG [--as EMAIL]
                           a service's stage, the checklist of each next move, its timeline
  lifecycle move SERVICE TO --org SLUG --as EMAIL [--note TEXT] [--payload-json JSON|FILE]
                           move a service as that member (TO: a stage or a move's name)
  lifecycle board --org SLUG
                           every service by stage, with its age there
  operations import-measurements FILE --org SLUG [--dry-run]
                           KPI values from CSV or .xlsx (all-or-nothing)
  capacity import FILE --org SLUG [--dry-run]
                           people's assessments, availability and allocations from
                           an .xlsx workbook (all-or-nothing)
  capacity show --org SLUG [--from YYYY-MM --to YYYY-MM] [--competence NAME]
                [--pmo NAME] [--detail]
                           the capacity grid: competences by month, what is short
  notify [--org SLUG] [--dry-run] [--limit N]
                           record the notices of what is due and e-mail those not yet
                           sent (run it from cron or a systemd timer)
  check                    Django's deployment checks for the production settings
  bench seed|run           benchmarks (see bench/README.md)
  manage ...               any Django management command
"""


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carte.settings")
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    command, rest = args[0], args[1:]

    if command == "check":
        # Deployment checks are about production: judge the production settings.
        os.environ["CARTE_PRODUCTION"] = "1"
        os.environ.setdefault("ALLOWED_HOSTS", "carte.example.org")
        import django
        from django.core.exceptions import ImproperlyConfigured

        try:
            django.setup()
        except ImproperlyConfigured as exc:
            print(f"carte check: {exc}", file=sys.stderr)
            return 2
        from django.core.management import call_command
        from django.core.management.base import SystemCheckError

        try:
            call_command("check", "--deploy", "--fail-level", "WARNING", *rest)
        except SystemCheckError as exc:
            print(str(exc), file=sys.stderr)
            return 2
        return 0

    import django

    django.setup()
    if command == "bench":
        from bench.cli import main as bench_main

        return bench_main(rest)
    if command in ("demo", "run", "login", "capacity"):
        # They span every app (a login, every organisation), so they are the project's
        # commands, not an app's.
        from carte.commands import run_command

        return run_command(command, rest)

    from django.core.management import execute_from_command_line

    if command == "manage":
        execute_from_command_line(["carte", *rest])
        return 0
    execute_from_command_line(["carte", command, *rest])
    return 0


if __name__ == "__main__":
    sys.exit(main())
