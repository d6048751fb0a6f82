#!/usr/bin/env python
"""How steady is this machine's speed? The per-step verdicts' block-to-block spread, measured without TensorFlow.
(Issues 19 and 20.)

The study pairs each strategy's trial with `arrays`' trial of the same block; the log of their per-step ratio
scatters from block to block (SD 0.09-0.12 in the studies of 2026-12-05/06, 0.04 in reports/all-30min of 2026-12-01),
and robust per-trial estimators (median step, trimmed, best window) did not narrow it: the scatter is an offset of
the whole trial, not a few odd steps. Is that the machine, or something TensorFlow or the study does?

This runs a fixed piece of CPU work (a 200 x 200 NumPy matrix product, single-threaded, 400 times: ~0.15 s) over and
over for `--seconds`, in `--processes` processes at once (2: both cores busy, as a trial keeps them), and records each
chunk's wall and CPU time. Printed, per process and pooled:
- the chunk time relative to the process' median: the spread, and the share of the time spent >= 10% slower;
- how long the slow spells last (consecutive chunks >= 10% slower);
- whether CPU time follows the wall time (then the slowdown is a slower core - the host - not waiting);
- for windows as long as a trial's steady epoch (`--windows`, default 2.5, 5, 10 and 20 s; the default study's steady
  epoch lasts ~5 s): the SD of the log of a window's mean chunk time, and the SD expected of the log ratio of two such
  windows minutes apart (x sqrt 2) - what the study's per-step ratio would scatter from the machine alone, to set
  beside the studies' 0.09-0.12 - and how it shrinks as the window grows.

    python benchmarks/machine_steadiness.py --seconds 180
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import platform
import statistics
import time

SLOW = 1.10  # a chunk this much slower than the median is "slow"


def _meter(seconds: float, queue) -> None:
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    import numpy as np

    matrix = np.random.default_rng(0).random((200, 200))
    chunks, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end:
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(400):
            matrix @ matrix
        chunks.append((time.perf_counter() - wall, time.process_time() - cpu))
    queue.put(json.dumps(chunks))


def _spells(slow: list[bool], chunk_seconds: float) -> list[float]:
    spells, run = [], 0
    for is_slow in [*slow, False]:
        if is_slow:
            run += 1
        elif run:
            spells.append(run * chunk_seconds)
            run = 0
    return spells


def window_sd(walls: list[float], window_seconds: float) -> tuple[int, float]:
    """(windows, SD of the log of their mean chunk time) over consecutive windows of about `window_seconds`."""
    per_window = max(1, round(window_seconds / statistics.median(walls)))
    windows = [statistics.mean(walls[start:start + per_window]) for start in range(0, len(walls) - per_window + 1, per_window)]
    return len(windows), (statistics.stdev([math.log(value) for value in windows]) if len(windows) > 1 else math.nan)


def describe(chunks: list[tuple[float, float]], window_seconds: list[float]) -> dict:
    walls = [wall for wall, _ in chunks]
    median = statistics.median(walls)
    relative = [wall / median for wall in walls]
    slow = [value >= SLOW for value in relative]
    return {
        "chunks": len(chunks), "chunk_ms": 1000 * median,
        "p10": _quantile(relative, 0.10), "p90": _quantile(relative, 0.90), "max": max(relative),
        "slow_share": sum(slow) / len(slow), "spells": _spells(slow, median),
        "cpu_per_wall": sum(cpu for _, cpu in chunks) / sum(walls),
        "windows": {seconds: window_sd(walls, seconds) for seconds in window_seconds},
    }


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _line(name: str, d: dict) -> str:
    spells = d["spells"]
    spell_text = (f"{len(spells)} slow spells, median {statistics.median(spells):.1f} s, longest {max(spells):.1f} s"
                  if spells else "no slow spell")
    windows = "; ".join(f"{seconds:g} s ({count}): {sd:.3f}" for seconds, (count, sd) in d["windows"].items())
    return (f"{name:<10} {d['chunks']:4d} chunks of {d['chunk_ms']:.0f} ms; relative to the median: 10th pct "
            f"{d['p10']:.2f}, 90th {d['p90']:.2f}, max {d['max']:.2f}; {100 * d['slow_share']:.0f}% of chunks >= "
            f"{SLOW:.2f}x ({spell_text}); CPU/wall {d['cpu_per_wall']:.2f}\n"
            f"{'':<11}SD of the log mean chunk time per window of (windows): {windows}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--windows", default="2.5,5,10,20", help="seconds per window, as a trial's steady epoch")
    args = parser.parse_args()
    try:
        windows = [float(value) for value in args.windows.split(",")]
    except ValueError:
        parser.error("--windows takes seconds separated by commas, e.g. 2.5,5,10")
    if not windows or min(windows) <= 0 or args.seconds < 4 * max(windows) or args.processes < 1:
        parser.error("needs windows > 0, --seconds >= 4 of the longest window and --processes >= 1")
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, load average before: "
          f"{' '.join(open('/proc/loadavg').read().split()[:3])}; {args.processes} processes, {args.seconds:g} s each",
          flush=True)
    queue = multiprocessing.get_context("spawn").Queue()
    meters = [multiprocessing.get_context("spawn").Process(target=_meter, args=(args.seconds, queue))
              for _ in range(args.processes)]
    for meter in meters:
        meter.start()
    runs = [json.loads(queue.get()) for _ in meters]
    for meter in meters:
        meter.join()
    described = [describe(chunks, windows) for chunks in runs]
    for number, d in enumerate(described, 1):
        print(_line(f"process {number}", d))
    print("\nexpected block-to-block SD of the log ratio of two trials from the machine alone (sqrt 2 x the mean over "
          "processes of the SD above), by the length of their steady epoch:")
    for seconds in windows:
        sd = statistics.mean(d["windows"][seconds][1] for d in described)
        print(f"  {seconds:5g} s: {sd * math.sqrt(2):.3f}")


if __name__ == "__main__":
    main()
