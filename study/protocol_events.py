"""The events a trial's or a block's process reports (study/trial.py `emit`), read back from its output lines by the
runner's threads that wait for one kind of event: the block's `holding` (study/shared_process.py), the probes'
`boundary` (study/holders.py). The trial's own follower (study/trial_process.follow) reads with its time limit and
watch instead."""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Iterator

from study.trial import PROTOCOL_PREFIX


def events_until(lines: queue.Queue, deadline: float) -> Iterator[dict]:
    """Each protocol event among `lines` (a reader thread's queue; None: the output ended), until the output ends or
    time.monotonic() passes `deadline`; other lines (the process' own prints) are skipped."""
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1.0)
        except queue.Empty:
            continue
        if line is None:
            return
        if line.startswith(PROTOCOL_PREFIX):
            yield json.loads(line[len(PROTOCOL_PREFIX):])
