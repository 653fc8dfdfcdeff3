"""The worker beside the web server, on one machine (`carte run`).

With the database backend (the default) a worker is a process that takes queued tasks
from the database (`db_worker`, from django-tasks-db); `carte run` starts it beside the
server and stops it with the server. Another backend runs its workers elsewhere (its own
command, on other machines), and the immediate backend needs none.

Children run in sessions of their own, so a Ctrl-C in the terminal reaches this process
only, which then asks each child once to stop (SIGTERM: the server finishes its requests,
a worker the task it is running) and kills what is still there after `GRACE` seconds;
on Linux a child is also told to stop if this process dies without asking.
"""

from __future__ import annotations

import ctypes
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from types import FrameType

from django_tasks import task_backends
from django_tasks_db import DatabaseBackend

logger = logging.getLogger(__name__)

GRACE = 60.0  # seconds a child has to finish what it is doing once asked to stop
RESTART_AFTER = 5.0  # seconds between two starts of a worker that keeps dying
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def worker_commands(count: int) -> list[list[str]]:
    """The commands of `count` database workers; none when the backend is not the
    database's (its workers run elsewhere, or it needs none)."""
    if count <= 0 or not isinstance(task_backends["default"], DatabaseBackend):
        return []
    command = [
        sys.executable,
        "-m",
        "carte.cli",
        "manage",
        "db_worker",
        "--queue-name",
        "default",
        "--no-reload",  # a reloader would start a grandchild this process cannot stop
    ]
    return [list(command) for _ in range(count)]


class _Stop(Exception):
    pass


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, before exec
    # PR_SET_PDEATHSIG (1): SIGTERM when the parent dies, even by SIGKILL.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM)


class Supervisor:
    """Run a server and its workers as child processes until the server ends or this
    process is asked to stop; a worker that dies is started again."""

    def __init__(self, server: list[str], workers: list[list[str]], poll: float = 0.5):
        self.server_command = server
        self.worker_commands = workers
        self.poll = poll
        self.server: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self._started: list[float] = []

    def _spawn(self, command: list[str]) -> subprocess.Popen[bytes]:
        preexec: Callable[[], None] | None = (
            _die_with_parent if sys.platform.startswith("linux") else None
        )
        return subprocess.Popen(  # noqa: S603 - our own commands, no shell
            command, start_new_session=True, preexec_fn=preexec
        )

    def run(self) -> int:
        """The server's exit status (0 when this process was asked to stop)."""
        previous = {sig: signal.getsignal(sig) for sig in _STOP_SIGNALS}

        def stop(signum: int, frame: FrameType | None) -> None:
            raise _Stop(signum)

        for sig in _STOP_SIGNALS:
            signal.signal(sig, stop)
        try:
            for command in self.worker_commands:
                self.workers.append(self._spawn(command))
                self._started.append(time.monotonic())
            self.server = self._spawn(self.server_command)
            return self._watch(self.server)
        except _Stop:
            return 0
        finally:
            # A second signal while stopping kills at once instead of waiting.
            for sig in _STOP_SIGNALS:
                signal.signal(sig, self._kill_all)
            try:
                self._stop_all()
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    def _watch(self, server: subprocess.Popen[bytes]) -> int:
        while True:
            code = server.poll()
            if code is not None:
                return code
            for i, worker in enumerate(self.workers):
                waited = time.monotonic() - self._started[i]
                if worker.poll() is not None and waited > RESTART_AFTER:
                    logger.warning(
                        "A background worker stopped (status %s): starting it again.",
                        worker.returncode,
                    )
                    self.workers[i] = self._spawn(self.worker_commands[i])
                    self._started[i] = time.monotonic()
            time.sleep(self.poll)

    def _children(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in [self.server, *self.workers] if p is not None]

    def _stop_all(self) -> None:
        children = [p for p in self._children() if p.poll() is None]
        for child in children:
            child.terminate()
        deadline = time.monotonic() + GRACE
        for child in children:
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()

    def _kill_all(self, signum: int, frame: FrameType | None) -> None:
        for child in self._children():
            if child.poll() is None:
                child.kill()


def serve(server: list[str], workers: list[list[str]]) -> int:
    """Run `server` with `workers` beside it (see `Supervisor`); its exit status."""
    return Supervisor(server, workers).run()
