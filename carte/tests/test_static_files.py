"""Production serves hashed copies of the static files (`collectstatic` with a manifest):
every file a stylesheet or script names must exist, or the command fails and the
release cannot start (the vendored Tabler named source maps that are not vendored)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management import call_command


def test_collectstatic_with_a_manifest_succeeds(settings: Any, tmp_path: Path) -> None:
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    manifest = (tmp_path / "staticfiles.json").read_text()
    assert "vendor/tabler/tabler.min.css" in manifest
    assert "carte/carte.css" in manifest
