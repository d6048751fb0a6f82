"""A local tf.data service cluster for one trial: a dispatcher and workers as separate processes on 127.0.0.1.

Each server is a `python -m inputs.service` process, started, stopped and tied to this process' life by
`processes`, like the runner's trial processes.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
import weakref
from pathlib import Path
from typing import Iterator

from inputs.service.check import ServiceError, check_dispatcher
from processes import children

LOOPBACK = "127.0.0.1"
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
        command = _server_command(*arguments, "--host", LOOPBACK, "--exit-with-parent", str(os.getpid()))
        environment = children.child_environment()
        preload = loopback_preload()
        if preload:
            environment["LD_PRELOAD"] = " ".join(filter(None, [str(preload), environment.get("LD_PRELOAD")]))
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


_LOOPBACK_SOURCE = Path(__file__).with_name("loopback_bind.c")


@functools.lru_cache(maxsize=None)
def loopback_preload() -> Path | None:
    """A shared library that, preloaded into a server, makes it listen on the loopback address only
    (`loopback_bind.c`; TensorFlow's servers have no bind-address option). Built once per source version with
    the system's C compiler into the temporary folder; None, with a warning, where that cannot be done
    (not Linux, no compiler): the servers then listen on all interfaces, as TensorFlow makes them."""
    if not sys.platform.startswith("linux"):
        return None
    source = _LOOPBACK_SOURCE.read_bytes()
    library = Path(tempfile.gettempdir()) / (
        f"input-pipeline-study-loopback-{hashlib.sha256(source).hexdigest()[:16]}-{os.getuid()}.so")
    if library.exists():
        return library
    compiler = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if compiler is None:
        warnings.warn("no C compiler: the local tf.data service servers listen on all interfaces", stacklevel=2)
        return None
    partial = library.with_suffix(f".{os.getpid()}.partial")
    built = subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", str(partial), str(_LOOPBACK_SOURCE), "-ldl"],
                           capture_output=True, text=True)
    if built.returncode != 0:
        partial.unlink(missing_ok=True)
        warnings.warn(f"cannot build {_LOOPBACK_SOURCE.name} ({built.stderr.strip()[:200]}): the local tf.data "
                      "service servers listen on all interfaces", stacklevel=2)
        return None
    os.replace(partial, library)  # atomic: a concurrent study sees the whole library or none
    return library


def _server_command(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "inputs.service", *arguments]


_OPEN_CLUSTERS: "weakref.WeakSet[_LocalCluster]" = weakref.WeakSet()


@atexit.register
def _stop_open_clusters() -> None:
    for cluster in list(_OPEN_CLUSTERS):
        cluster.stop()
