"""The output folder's lock: one study at a time writes to a folder.

`hold(out)` takes an exclusive fcntl.flock on `out/.study.lock` for the block and writes its pid there. The
kernel drops the lock when the process ends, however it ends (SIGKILL included), so a lock is never stale;
the file may stay and is only read to name the pid of the study holding it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from study.config import ConfigError

LOCK_NAME = ".study.lock"


@contextlib.contextmanager
def hold(out: Path):
    """Locks `out` for the block; ConfigError at once (one line naming the holder's pid) if another
    process holds it. Nothing in `out` is touched when refused."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / LOCK_NAME
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode(errors="replace").strip() or "unknown"
            raise ConfigError(
                f"--out {out}: another study (pid {holder}) is running there; wait for it to end or choose another --out"
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode(), 0)
        yield path
    finally:
        os.close(descriptor)  # closing the last descriptor releases the lock
