"""The shape of the code, kept by tests: apps form a one-way stack over a `core` that
knows no app, and pages, API handlers and forms never write or fetch by bare id.

Imports are read with `ast` from every module (tests included), so an import inside a
function counts as much as one at the top.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

CARTE = Path(__file__).resolve().parent.parent

# Which apps each app may import: the stack of DESIGN.md, lowest first. The project-level
# modules (carte/*.py, carte/tests) sit above them all and may import any.
ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "organisations": frozenset({"core"}),
    "catalogue": frozenset({"core", "organisations"}),
    "lifecycle": frozenset({"core", "organisations", "catalogue"}),
    "operations": frozenset({"core", "organisations", "catalogue", "lifecycle"}),
    "capacity": frozenset({"core", "organisations", "catalogue", "lifecycle", "operations"}),
}

# Pages, API handlers and forms parse input and call one service or selector: they
# neither write nor fetch a row by its bare id (the scoped fetch does).
_THIN = re.compile(r"(^|/)(api|views|forms)(_\w+)?(\.py$|/)")
_FORBIDDEN_CALLS = ("save", "create", "update", "delete", "bulk_create", "bulk_update")


def _app_modules() -> list[tuple[str, Path]]:
    found = []
    for app in ALLOWED:
        for path in sorted((CARTE / app).rglob("*.py")):
            if "migrations" not in path.parts:
                found.append((app, path))
    return found


def _imported_apps(path: Path) -> set[str]:
    apps = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "carte" and len(parts) > 1:
                apps.add(parts[1])
    return apps


def test_every_app_is_known_to_the_stack() -> None:
    apps = {p.name for p in CARTE.iterdir() if (p / "apps.py").exists()}
    assert apps == set(ALLOWED), "add the new app to ALLOWED, with the apps below it"


def test_apps_import_only_the_apps_below_them() -> None:
    """An app's tests may also use the project's test harness and entry points (the
    fixtures of carte/conftest.py, the CLI, the URLs); its code may not."""
    wrong = []
    for app, path in _app_modules():
        allowed = ALLOWED[app]
        if "tests" in path.relative_to(CARTE).parts:
            allowed = allowed | {"conftest", "cli", "urls"}
        for other in sorted(_imported_apps(path) - {app}):
            if other not in allowed:
                wrong.append(f"{path.relative_to(CARTE)} imports carte.{other}")
    assert wrong == []


def _offences(source: str, name: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source, name)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        call = node.func.attr
        if call in _FORBIDDEN_CALLS:
            found.append(f"{name}:{node.lineno} .{call}(")
        if call == "get" and any(k.arg in ("pk", "id") for k in node.keywords):
            found.append(f"{name}:{node.lineno} .get(pk=")
    return found


def test_pages_api_handlers_and_forms_neither_write_nor_fetch_by_bare_id() -> None:
    wrong = []
    for app, path in _app_modules():
        relative = path.relative_to(CARTE).as_posix()
        if app == "core":
            continue  # the generic pages and CRUD routes: what they call is the service
        if "/tests/" in relative or not _THIN.search(relative):
            continue
        wrong += _offences(path.read_text(), relative)
    assert wrong == []


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ("def f(obj):\n    obj.save()\n", True),
        ("def f(qs):\n    return qs.get(pk=1)\n", True),
        ("def f(qs):\n    qs.filter(a=1).update(b=2)\n", True),
        ("def f(data):\n    return {**data, 'a': 1}\n", False),
    ],
)
def test_the_thin_layer_check_sees_what_it_must(source: str, caught: bool) -> None:
    assert bool(_offences(source, "views.py")) is caught


def test_the_import_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text(
        "def f():\n    from carte.operations import models\n    import carte.lifecycle\n"
    )
    assert _imported_apps(module) == {"operations", "lifecycle"}
