"""A local tf.data service cluster for one trial: a dispatcher and workers as separate processes on 127.0.0.1.

Each server is a `python -m inputs.service` process, started, stopped and tied to this process' life by
`processes`, like the runner's trial processes, and kept to the loopback address by `inputs.service.bind`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import signal
import sys
import tempfile
import time
import warnings
import weakref
from pathlib import Path
from typing import Iterator

from inputs.service import bind
from inputs.service.check import ServiceError, check_dispatcher
from processes import children

LOOPBACK = bind.LOOPBACK
_READY = re.compile(r" ready at (?:grpc://)?(?P<host>\S+):(?P<port>[0-9]+) ")


@contextlib.contextmanager
def local_cluster(workers: int, startup_timeout: float = 60.0) -> Iterator[str]:
    """Runs a dispatcher and `workers` workers as separate processes on 127.0.0.1; yields "grpc://127.0.0.1:PORT".

    Each server is a `python -m inputs.service` process in its own session (a Ctrl-C in the terminal reaches
    only this process, whose cleanup stops them), on a free port it chose itself. The block starts once every
    server printed its ready line and the dispatcher lists all workers. When the block ends, by any exception,
    KeyboardInterrupt included, or when the start fails, every server gets SIGTERM, then SIGKILL after
    children.STOP_GRACE_SECONDS. Should this process die without cleaning up, the servers get SIGTERM from the
    kernel (Linux parent-death signal, which fires when the thread that entered the block ends: enter and leave it
    on one thread), and an atexit hook stops clusters left open at interpreter exit.
    """
    with watched_local_cluster(workers, startup_timeout) as cluster:
        yield cluster.address


@contextlib.contextmanager
def watched_local_cluster(workers: int, startup_timeout: float = 60.0) -> Iterator["_LocalCluster"]:
    """local_cluster, yielding the cluster itself: its `address`, and `dead_server()` to watch it."""
    if workers < 1:
        raise ValueError(f"a tf.data service cluster needs at least one worker, got {workers}")
    cluster = _LocalCluster()
    try:
        cluster.address = cluster.start(workers, startup_timeout)
        yield cluster
    finally:
        cluster.stop()


class _Server:
    def __init__(self, name: str, process, stdout: Path, stderr: Path):
        self.name, self.process, self.stdout, self.stderr = name, process, stdout, stderr
        self.port: int | None = None

    def poll_ready(self) -> bool:
        """True once the ready line is out; ServiceError when the process has exited instead."""
        if self.port is None:
            match = _READY.search(self.stdout.read_text(errors="replace"))
            if match:
                self.port = int(match["port"])
            elif self.process.poll() is not None:
                raise ServiceError(
                    f"tf.data service {self.name} exited with status {self.process.returncode} during start: "
                    f"{children.last_error_line(self.stderr, 'no error output')}"
                )
        return self.port is not None


class _LocalCluster:
    def __init__(self):
        self.address = ""
        self._servers: list[_Server] = []
        self._folder = tempfile.TemporaryDirectory(prefix="tfdata-service-")
        _OPEN_CLUSTERS.add(self)

    def start(self, workers: int, startup_timeout: float) -> str:
        deadline = time.monotonic() + startup_timeout
        dispatcher = self._launch("dispatcher", "dispatcher", "--port", "0")
        self._wait_ready([dispatcher], deadline, startup_timeout)
        dispatcher_address = f"{LOOPBACK}:{dispatcher.port}"
        started = [
            self._launch(f"worker {index + 1}", "worker", "--dispatcher", dispatcher_address, "--port", "0")
            for index in range(workers)
        ]
        self._wait_ready(started, deadline, startup_timeout)
        address = f"grpc://{dispatcher_address}"
        # Each worker printed its line after registering; this also proves the dispatcher answers clients.
        check_dispatcher(address, max(1.0, deadline - time.monotonic()), min_workers=workers)
        return address

    def _launch(self, name: str, *arguments: str) -> _Server:
        stem = Path(self._folder.name) / name.replace(" ", "-")
        stdout, stderr = stem.with_suffix(".out"), stem.with_suffix(".err")
        environment, listen_on = _loopback_environment(children.child_environment())
        command = _server_command(*arguments, "--bind", listen_on, "--host", LOOPBACK,
                                  "--exit-with-parent", str(os.getpid()))
        with open(stdout, "wb") as out, open(stderr, "wb") as err:
            process = children.start(command, out, err, environment=environment, cwd=children.PROJECT_ROOT)
        server = _Server(name, process, stdout, stderr)
        self._servers.append(server)
        return server

    @staticmethod
    def _wait_ready(servers: list[_Server], deadline: float, startup_timeout: float) -> None:
        while not all([server.poll_ready() for server in servers]):
            if time.monotonic() > deadline:
                late = ", ".join(server.name for server in servers if server.port is None)
                raise ServiceError(f"tf.data service {late} not ready within {startup_timeout:g} s")
            time.sleep(0.05)

    def dead_server(self) -> str | None:
        """One line naming a server of this cluster that has exited, else None."""
        for server in self._servers:
            if server.process.poll() is not None:
                code = server.process.returncode
                where = f"tf.data service {server.name} (pid {server.process.pid})"
                if code < 0:
                    return f"{where} was killed by {signal.Signals(-code).name}"
                return f"{where} exited with status {code}: {children.last_error_line(server.stderr, 'no error output')}"
        return None

    def stop(self) -> None:
        """SIGTERM to every server still running (workers first), SIGKILL after the grace period; idempotent."""
        servers, self._servers = list(reversed(self._servers)), []
        children.stop([server.process for server in servers])
        self._folder.cleanup()
        _OPEN_CLUSTERS.discard(self)


def _loopback_environment(environment: dict) -> tuple[dict, str]:
    """(environment, --bind address) for a server of the study's own: kept to the loopback address (the shim
    preloaded here already, so the server need not start itself again), or, where the shim cannot be built,
    on every interface with a warning - the study's servers must start either way."""
    try:
        return bind.environment_binding(environment, LOOPBACK), LOOPBACK
    except bind.BindError as error:
        warnings.warn(f"{error}: the local tf.data service servers listen on every interface", stacklevel=3)
        return environment, "0.0.0.0"


def _server_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "inputs.service", *arguments]


_OPEN_CLUSTERS: "weakref.WeakSet[_LocalCluster]" = weakref.WeakSet()


@atexit.register
def _stop_open_clusters() -> None:
    for cluster in list(_OPEN_CLUSTERS):
        cluster.stop()
