"""When a tf.data iterator's autotune thread wakes, watched from outside it (Linux /proc), in this process.

An epoch boundary of fit waits, idle, until the dropped iterator's autotune thread next wakes (tf.data's model
thread sleeps between its runs and sometimes misses the wake-up that destruction sends:
benchmarks/iterator_teardown.py, benchmarks/probe_order.py). So how long a full-size boundary waits, when it waits,
is the distance from the full epoch's age to that thread's next wake-up after it. This module measures the
wake-ups instead of assuming TensorFlow's schedule: every time the thread sleeps again after a run, the kernel counts
one voluntary context switch (`voluntary_ctxt_switches` in /proc/self/task/TID/status); a rise seen by a poll
every POLL_SECONDS is a wake-up, to within that poll. The thread is not named, so the watch follows every thread
the iterator's first batch started (`started_between`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

# A poll reads one small /proc file per thread: ~30 µs of CPU each (4 threads: 0.12 ms), so 10 polls a second while
# a probe looks cost 0.1% of a core; a wake-up is timed to within 0.1 s, on waits of seconds.
POLL_SECONDS = 0.1
QUIET_SECONDS = 1.0  # rises closer than this to the previous one belong to the same run of the threads (the
# autotune thread's runs are at least 5 s apart past an age of 5 s)
TASKS = Path("/proc/self/task")


def threads() -> frozenset[int]:
    """This process' threads now alive (empty off Linux)."""
    try:
        return frozenset(int(name) for name in os.listdir(TASKS))
    except OSError:
        return frozenset()


def started_between(before: frozenset[int], after: frozenset[int]) -> frozenset[int]:
    """The threads in `after` but not `before`. Taken around an iterator's first batch, they are its autotune thread
    (tf.data starts it there: tensorflow/core/data/root_dataset.cc, EnsureModelThreadStarted) and the pipeline's
    own. This TensorFlow names none of its threads, and they start within one clock tick, so the watch follows them
    all: while the iterator is held idle its pipeline's threads sleep, and what wakes is the autotune thread (and the
    threads it notifies of new settings), together (benchmarks/autotune_wakeups.py shows the schedule they keep)."""
    return after - before


def voluntary_switches(tids) -> int | None:
    """The voluntary context switches so far of the threads `tids` still alive; None once all have ended."""
    total, alive = 0, False
    for tid in tids:
        try:
            with open(TASKS / str(tid) / "status", "rb") as status:
                for line in status:
                    if line.startswith(b"voluntary_ctxt_switches:"):
                        total, alive = total + int(line.split()[1]), True
                        break
        except (OSError, ValueError):  # ended
            continue
    return total if alive else None


GAP_SECONDS = 0.5  # polls further apart than this lost sight of the threads: a rise then is not timed
SLOW_POLL_SECONDS = 1.0  # before the hold's last second: enough to see that the threads wake at all
# The slow polls still time each wake-up to within their interval: enough to say where the wake-up before an age
# came, and so how long the interval between wake-ups is there (a wait's range at that age). A rise after a longer
# gap is not placed; rises within ROUGH_QUIET_SECONDS of the last belong to the same run (a run can straddle a poll).
ROUGH_GAP_SECONDS = 2.0
ROUGH_QUIET_SECONDS = 2.5


class WakeupWatch:
    """The wake-ups of one iterator's threads, in seconds since `born` (perf_counter): each watch is polled, with
    every other one of this process, while a probe holds its iterator (`sleep_until`, `next_wakeup_after`), so a
    process holding several iterators sees all their threads. A rise is timed only when the poll before it was
    recent; after a gap the count is taken again, untimed. `rough_wakeups` places every wake-up the slow polls saw
    too, each at the poll that saw it (at most a poll's interval late)."""

    def __init__(self, tids, born: float):
        self.tids, self.born = frozenset(tids), born
        self.wakeups: list[float] = []
        self.rough_wakeups: list[float] = []
        self.continuous_since = None  # age from which the polls have had no gap
        self.rises = 0  # every rise seen, timed or not: none over a long hold means no autotune thread to wait for
        self._switches, self._polled_at, self._last_rise = None, None, -float("inf")
        self._last_rough_rise = -float("inf")
        _WATCHING.append(self)

    def close(self) -> None:
        if self in _WATCHING:
            _WATCHING.remove(self)

    def poll(self, now: float) -> None:
        switches = voluntary_switches(self.tids)
        if switches is None:  # the threads have ended
            self.close()
            return
        if self._switches is not None and switches > self._switches:
            self.rises += 1
            if now - self._polled_at <= ROUGH_GAP_SECONDS and now - self._last_rough_rise > ROUGH_QUIET_SECONDS:
                self.rough_wakeups.append(now - self.born)
            self._last_rough_rise = now
        if self._polled_at is None or now - self._polled_at > GAP_SECONDS:
            self.continuous_since = now - self.born
        elif switches > self._switches:
            if now - self._last_rise > QUIET_SECONDS:
                self.wakeups.append(now - self.born)
            self._last_rise = now
        self._switches, self._polled_at = switches, now


_WATCHING: list[WakeupWatch] = []


def poll_all() -> None:
    now = time.perf_counter()
    for watch in list(_WATCHING):
        watch.poll(now)


def sleep_until(deadline: float, watch_for: float = 1.0) -> None:
    """Sleeps until `deadline` (perf_counter), polling every watch once a second (to see that its threads wake at
    all), and every POLL_SECONDS over the last `watch_for` seconds, so that from then on the watches see without a gap."""
    while (left := deadline - watch_for - time.perf_counter()) > 0:
        time.sleep(min(SLOW_POLL_SECONDS, left))
        poll_all()
    while (left := deadline - time.perf_counter()) > 0:
        time.sleep(min(POLL_SECONDS, left))
        poll_all()


def last_wakeup_before(watch: WakeupWatch, age: float) -> float | None:
    """The age of `watch`'s last wake-up at or before `age` that a poll placed (to within a slow poll's interval);
    None if none was seen (a hold that began after it, or no autotune thread)."""
    seen = [wakeup for wakeup in (*watch.rough_wakeups, *watch.wakeups) if wakeup <= age]
    return max(seen) if seen else None


def next_wakeup_after(watch: WakeupWatch, age: float, deadline: float) -> float | None:
    """The age of `watch`'s first wake-up after `age`, polling every watch until it comes; None if its threads never
    woke while it watched (no autotune thread: e.g. autotuning off), if it lost sight of them after `age` (a gap, or
    the threads ended) or if `deadline` (perf_counter) passes first."""
    poll_all()
    while True:
        if not watch.rises or watch.continuous_since is None or watch.continuous_since > age:
            return None
        later = [wakeup for wakeup in watch.wakeups if wakeup > age]
        if later:
            return later[0]
        if watch not in _WATCHING or time.perf_counter() >= deadline:
            return None
        time.sleep(POLL_SECONDS)
        poll_all()
