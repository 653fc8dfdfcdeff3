"""`carte run` with the default (database) Tasks backend: a worker runs beside the web
server and takes the jobs queued in the database, and both stop together. Run as the
installed script, on a SQLite database in a temporary folder."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

CARTE = Path(sys.executable).with_name("carte")

QUEUE_AN_EXPORT = """
from carte.catalogue import tasks
from carte.organisations.actor import Actor
from carte.organisations.models import Organisation
org = Organisation.objects.create(name="Acme", slug="acme")
job = tasks.export_start(actor=Actor.for_system(org), fmt="json")
print("JOB", job.pk, job.status)
"""


def _env(tmp_path: Path) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "CARTE_PRODUCTION", "DJANGO_SETTINGS_MODULE"}
        and not k.startswith("CARTE_TASK")
    }
    return {**base, "DATABASE_URL": "", "CARTE_VAR_DIR": str(tmp_path)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def _job_status(tmp_path: Path, pk: int) -> str:
    db = sqlite3.connect(tmp_path / "carte.sqlite3")
    try:
        row = db.execute("SELECT status FROM core_job WHERE id = ?", [pk]).fetchone()
    finally:
        db.close()
    return str(row[0])


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_carte_run_serves_with_a_worker_that_runs_queued_jobs_and_stops_with_it(
    tmp_path: Path,
) -> None:
    env = _env(tmp_path)
    setup = [[str(CARTE), "manage", "migrate", "-v", "0"], [str(CARTE), "manage", "shell"]]
    subprocess.run(setup[0], env=env, check=True, timeout=300, capture_output=True)
    queued = subprocess.run(
        setup[1],
        env=env,
        input=QUEUE_AN_EXPORT,
        text=True,
        check=True,
        timeout=120,
        capture_output=True,
    )
    _, pk, status = queued.stdout.strip().splitlines()[-1].split()
    assert status == "queued"  # no worker yet: it waits in the database

    server = subprocess.Popen(
        [str(CARTE), "run", "--port", str(_free_port()), "--workers", "1"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while _job_status(tmp_path, int(pk)) != "done":
            assert server.poll() is None, server.stdout.read() if server.stdout else b""
            assert time.monotonic() < deadline, "the worker did not run the queued job"
            time.sleep(0.5)
        children = _children(server.pid)
        commands = [Path(f"/proc/{c}/cmdline").read_bytes() for c in children]
        assert any(b"db_worker" in c for c in commands), commands
        assert any(b"gunicorn" in c for c in commands), commands
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=120)[0].decode()
    assert server.returncode == 0, output
    assert "Background work: 1 worker(s) beside the server." in output
    assert not [c for c in children if _alive(c)], "a child outlived `carte run`"
    assert list((tmp_path / "media" / "jobs").rglob("acme-catalogue.json"))
