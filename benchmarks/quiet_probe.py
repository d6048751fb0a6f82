#!/usr/bin/env python
"""Does the machine's speed, read while nothing else runs, predict a trial's step time (issue 20)?

The per-step verdicts stay open because a trial's steps run in one of two modes - on the 2-core development machine
about 60 ms or about 80 ms per step for every feed alike - and the mode covers a whole trial, sometimes several in a
row (docs/RESULTS.md: the host's cores run slower in spells; `benchmarks/machine_steadiness.py`). A meter beside the
trial tracked the steps (r +0.76) but read slower beside every strategy than beside `arrays`: the trial's own threads
moved it (`benchmarks/host_meter.py`). So this benchmark reads the machine only while nothing else runs: right before
each fresh trial process starts and right after it ends, for about half a second each time, in this process (the
trial's process does not exist yet or any more). If the mode lasts a trial's length, these readings tell which mode
the trial ran in, and a ratio taken against them - each trial's step over its own reading - would drop the mode
from the paired ratios without reading anything the strategy did.

The reading, on each CPU in turn (pinned with sched_setaffinity, one thread): a fixed element-wise product and
square root of 256 KiB (`compute`) and a fixed copy of 64 MiB (`memory`), each repeated for about 0.1 s; a reading
is the mean log of the four. Each trial is the study's own (`python -m study.trial`, as benchmarks/forked_trials.py starts it:
2 epochs of 44 steps, no boundary probe); its step is the median of its steady epoch's steps.

Then, as a second reading (`together`), both CPUs run the compute chunk at once, one pinned process each, three
chunks in a row: a slowdown that comes only when the two CPUs work together (as a training step keeps them) would
show there. And a third (`wake`): the median round trip of one byte between two processes pinned to the two CPUs,
each blocked until the other writes - the time to wake the other CPU, which a step's hand-offs between its two
threads pay hundreds of times.

Printed per trial its step and readings; then, decided in advance:
- the correlation of log step with log reading (before and after averaged) across trials, each strategy's mean
  taken out;
- per strategy, its step / `arrays`' paired within rounds, raw and referenced (each trial's step divided by its own
  reading), with the SD of the log ratio over rounds and a t interval;
- how the reading before and the one after agree (their correlation) - a mode shorter than a trial would break it.
Nothing else should run on the machine.

    python benchmarks/quiet_probe.py arrays,tfdata,compute-bound,generator --rounds 12
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import forked_trials  # noqa: E402  (its fresh trial and its interval, not written twice)

CHUNK_SECONDS = 0.1
VECTOR = 1 << 15  # 256 KiB of float64: in the core's own cache, so the arithmetic is what is timed
COPY_BYTES = 64 << 20  # more than the last-level cache: the copy reads and writes memory


class Meter:
    def __init__(self):
        rng = np.random.default_rng(0)
        self.a, self.b, self.result = rng.random(VECTOR), rng.random(VECTOR), np.empty(VECTOR)
        self.source, self.target = np.ones(COPY_BYTES // 8), np.empty(COPY_BYTES // 8)
        self.cpus = sorted(os.sched_getaffinity(0))
        self.repeats = {name: self._calibrate(work) for name, work in self._works().items()}

    def _works(self):
        # NumPy's element-wise loops run in the calling thread (a BLAS product could run on BLAS' own threads,
        # which the pinning below does not move).
        return {"compute": lambda: np.sqrt(np.multiply(self.a, self.b, out=self.result), out=self.result),
                "memory": lambda: np.copyto(self.target, self.source)}

    @staticmethod
    def _time(work, repeats: int) -> float:
        started = time.perf_counter()
        for _ in range(repeats):
            work()
        return time.perf_counter() - started

    def _calibrate(self, work) -> int:
        """How many repetitions fill a chunk, fixed once for the whole run (each reading times the same work)."""
        work()
        once = self._time(work, 3) / 3
        return max(1, round(CHUNK_SECONDS / once))

    def read(self) -> dict:
        """Seconds per chunk of each work on each CPU, and their mean log (`reading`)."""
        figures = {}
        everywhere = os.sched_getaffinity(0)
        try:
            for cpu in self.cpus:
                os.sched_setaffinity(0, {cpu})
                for name, work in self._works().items():
                    figures[f"{name}{cpu}"] = self._time(work, self.repeats[name])
        finally:
            os.sched_setaffinity(0, everywhere)
        figures["reading"] = float(np.mean([math.log(v) for v in figures.values()]))
        return figures


def _busy_worker(cpu: int, repeats: int, connection) -> None:
    """One CPU's half of the `together` reading: pinned to `cpu`, it times the compute chunk whenever asked."""
    os.sched_setaffinity(0, {cpu})
    rng = np.random.default_rng(cpu)
    a, b, result = rng.random(VECTOR), rng.random(VECTOR), np.empty(VECTOR)
    while connection.recv():
        started = time.perf_counter()
        for _ in range(repeats):
            np.sqrt(np.multiply(a, b, out=result), out=result)
        connection.send(time.perf_counter() - started)


class BothBusy:
    """Both CPUs busy at once (one pinned process each, started once, idle on a pipe while a trial runs): a
    slowdown that appears only when the two CPUs work together - as a training step keeps them - shows here and not
    in the one-at-a-time reading."""

    def __init__(self, cpus, repeats: int):
        self.connections, self.workers = [], []
        context = multiprocessing.get_context("fork")
        for cpu in cpus:
            ours, theirs = context.Pipe()
            worker = context.Process(target=_busy_worker, args=(cpu, repeats, theirs), daemon=True)
            worker.start()
            self.connections.append(ours)
            self.workers.append(worker)

    def read(self) -> float:
        """The mean log of each CPU's chunk time, both running at once, three chunks in a row (their median)."""
        chunks = []
        for _ in range(3):
            for connection in self.connections:
                connection.send(True)
            chunks.append(np.mean([math.log(connection.recv()) for connection in self.connections]))
        return float(np.median(chunks))


class WakeUps:
    """The time to wake the other CPU: this process (pinned to the first CPU) and an echo process pinned to the
    second pass one byte back and forth through pipes, each blocked in `read` until the other writes, so that every
    half of a round trip wakes a process on the other CPU. A training step of the LSTM hands work between its two
    threads hundreds of times (80 time steps forward and back), and one intra-op thread shortened it by 12-18%
    (docs/RESULTS.md): if waking the other CPU is slow in spells, this reading shows it and the compute readings do not."""

    ROUND_TRIPS = 2000

    def __init__(self, cpus):
        self.cpus = cpus
        (self.echo_in, self.ours_out), (self.ours_in, self.echo_out) = os.pipe(), os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            os.close(self.ours_out)  # so that the read below ends when this benchmark does, and the echo with it
            os.close(self.ours_in)
            os.sched_setaffinity(0, {cpus[-1]})
            while os.read(self.echo_in, 1) == b"x":
                os.write(self.echo_out, b"x")
            os._exit(0)
        os.close(self.echo_in)  # the echo's ends are the echo's
        os.close(self.echo_out)

    def read(self) -> float:
        """The log of the median round trip's seconds."""
        everywhere = os.sched_getaffinity(0)
        trips = np.empty(self.ROUND_TRIPS)
        try:
            os.sched_setaffinity(0, {self.cpus[0]})
            for i in range(self.ROUND_TRIPS):
                started = time.perf_counter()
                os.write(self.ours_out, b"x")
                os.read(self.ours_in, 1)
                trips[i] = time.perf_counter() - started
        finally:
            os.sched_setaffinity(0, everywhere)
        return float(math.log(np.median(trips)))


def correlation(x, y) -> float:
    return float(np.corrcoef(x, y)[0, 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("strategies", nargs="?", default="arrays,tfdata,compute-bound,generator")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    strategies = args.strategies.split(",")
    meter, rng = Meter(), random.Random(args.seed)
    together = BothBusy(meter.cpus, meter.repeats["compute"])
    wake_ups = WakeUps(meter.cpus)
    print(f"Python {sys.version.split()[0]}, CPUs {meter.cpus}; chunk repetitions {meter.repeats}", flush=True)
    rows = []
    for round_number in range(1, args.rounds + 1):
        order = strategies[:]
        rng.shuffle(order)
        for strategy in order:
            before, together_before, wake_before = meter.read(), together.read(), wake_ups.read()
            figures = forked_trials.fresh(strategy)
            after, together_after, wake_after = meter.read(), together.read(), wake_ups.read()
            rows.append({"round": round_number, "strategy": strategy, "step": figures["step"],
                         "before": before["reading"], "after": after["reading"],
                         "together": (together_before + together_after) / 2, "wake": (wake_before + wake_after) / 2})
            print(f"round {round_number}: {strategy:<14} step {1000 * figures['step']:.1f} ms; reading before "
                  f"{math.exp(before['reading']) * 1000:.2f} ms, after {math.exp(after['reading']) * 1000:.2f} ms; both CPUs "
                  f"together {math.exp(together_before) * 1000:.2f} / {math.exp(together_after) * 1000:.2f} ms; a round trip "
                  f"to the other CPU {math.exp(wake_before) * 1e6:.1f} / {math.exp(wake_after) * 1e6:.1f} us "
                  f"({', '.join(f'{k} {1000 * v:.1f}' for k, v in before.items() if k != 'reading')})", flush=True)
    print()
    trials = pd.DataFrame(rows).assign(log_step=lambda t: np.log(t["step"]), reading=lambda t: (t["before"] + t["after"]) / 2)

    def centred(column: str) -> pd.Series:
        """The column with each strategy's own mean taken out: what is left is the machine's, not the strategy's."""
        return trials[column] - trials.groupby("strategy")[column].transform("mean")

    for column, what in (("reading", "log reading"), ("together", "log reading of both CPUs together"),
                         ("wake", "log round trip to the other CPU")):
        print(f"log step against {what}, each strategy's mean taken out: "
              f"r = {correlation(centred('log_step'), centred(column)):+.2f} over {len(trials)} trials")
    print(f"reading before against after (log): r = {correlation(trials['before'], trials['after']):+.2f}")
    if "arrays" in strategies:
        mean_reading = trials.groupby("strategy")["reading"].mean()
        print("mean log reading per strategy, against arrays' (a strategy that moved the machine would show here): " +
              ", ".join(f"{s} {math.exp(mean_reading[s] - mean_reading['arrays']):.3f}" for s in strategies))
        by = trials.set_index(["round", "strategy"])
        rounds = range(1, args.rounds + 1)
        referenced = by["step"] / np.exp(by["reading"])  # each trial's step over its own reading
        print("\nstep / arrays' step, paired within rounds (95% t interval over rounds, SD of the log ratio):")
        for s in strategies:
            if s != "arrays":
                raw = forked_trials.interval([by.loc[(r, s), "step"] for r in rounds], [by.loc[(r, "arrays"), "step"] for r in rounds])
                ref = forked_trials.interval([referenced[r, s] for r in rounds], [referenced[r, "arrays"] for r in rounds])
                print(f"  {s:<14} raw {raw}   referenced {ref}")

if __name__ == "__main__":
    main()
