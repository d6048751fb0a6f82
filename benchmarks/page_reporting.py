#!/usr/bin/env python
"""What does a page fault cost on this machine, and does the virtual machine's free-page reporting make it dearer?
(Issue 20: the feeds whose steps fault ~10,000 pages step slower; issue 19: a fresh process faults in its memory.)

This development machine is a Firecracker VM whose virtio-balloon reports free guest memory to the host
(`/sys/module/page_reporting/parameters`: free pages of order >= `page_reporting_order` are handed back, after
`min_free_ms`), and whose DAMON pages out cold memory (`/sys/kernel/mm/damon/admin`). A page the host has taken back
is faulted in again by the host the next time the guest touches it - time the guest sees as a slow CPU, not as a
guest page fault. If that is what makes page faults dear here, it explains how much the mmap-threshold fault storm
costs per step (docs/RESULTS.md) and part of the machine's unsteadiness.

Measured, in one process, no TensorFlow: rounds of mapping `--mib` MiB of anonymous memory, writing one byte per
4-KiB page (a page fault each), and unmapping it; µs per page fault. In ABAB order:
- `at once`: the round starts right after the previous one unmapped its memory (the kernel hands back the pages just
  freed, if the host has not taken them yet);
- `after idle`: the round waits `--idle` seconds first, so that the freed memory has been reported to the host.
And `no fault`: the same writes to memory already faulted in (the cost of the loop itself).
Beside each round: how much memory the guest reported to the host meanwhile (`reported_kib`, when the kernel shows it).

    python benchmarks/page_reporting.py --rounds 8
"""

from __future__ import annotations

import argparse
import mmap
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

PAGE = 4096
_REPORTING = Path("/sys/module/page_reporting/parameters")
_DAMON = Path("/sys/kernel/mm/damon/admin/kdamonds")


def _reported_kib() -> float:
    try:
        return float((_REPORTING / "reported_kib").read_text())
    except (OSError, ValueError):
        return float("nan")


def _machine() -> str:
    lines = [f"Python {platform.python_version()}, kernel {platform.release()}, {os.cpu_count()} cores"]
    if _REPORTING.is_dir():
        values = {p.name: p.read_text().strip() for p in sorted(_REPORTING.iterdir()) if p.is_file()}
        lines.append("free page reporting: " + ", ".join(f"{k}={v}" for k, v in values.items()))
    else:
        lines.append("free page reporting: not shown by this kernel")
    schemes = sorted(_DAMON.glob("*/contexts/*/schemes/*/action")) if _DAMON.is_dir() else []
    for action in schemes:
        age = action.parent / "access_pattern" / "age" / "min"
        lines.append(f"DAMON scheme {action.parent.name}: {action.read_text().strip()} of memory idle for >= "
                     f"{age.read_text().strip() if age.exists() else '?'} aggregation intervals")
    return "\n".join(lines)


def _fault_round(size: int) -> tuple[float, float]:
    """(µs per page, KiB reported meanwhile): map, write one byte per page, unmap."""
    reported = _reported_kib()
    region = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    pages = np.frombuffer(region, dtype=np.uint8)
    start = time.perf_counter()
    pages[::PAGE] = 1
    seconds = time.perf_counter() - start
    del pages
    region.close()
    return 1e6 * seconds / (size // PAGE), _reported_kib() - reported


def _no_fault_round(size: int) -> float:
    region = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    pages = np.frombuffer(region, dtype=np.uint8)
    pages[::PAGE] = 1  # faulted in
    start = time.perf_counter()
    pages[::PAGE] = 2
    seconds = time.perf_counter() - start
    del pages
    region.close()
    return 1e6 * seconds / (size // PAGE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8, help="rounds of each kind (ABAB)")
    parser.add_argument("--mib", type=int, default=512, help="memory mapped and faulted per round")
    parser.add_argument("--idle", type=float, default=10.0, help="seconds an `after idle` round waits first")
    args = parser.parse_args()
    if args.rounds < 2 or args.mib < 16 or args.idle < 0:
        parser.error("needs --rounds >= 2, --mib >= 16 and --idle >= 0")
    size = args.mib * 1024 * 1024
    print(_machine())
    print(f"{args.rounds} rounds each of {args.mib} MiB ({size // PAGE:,} page faults), ABAB; idle {args.idle:g} s\n")
    _fault_round(size)  # the first touch of this process' memory: not counted
    results: dict[str, list[tuple[float, float]]] = {"at once": [], "after idle": []}
    for number in range(args.rounds):
        for kind in ("at once", "after idle") if number % 2 == 0 else ("after idle", "at once"):
            if kind == "after idle":
                time.sleep(args.idle)
            else:
                _fault_round(size)  # frees memory just before, as the idle round's predecessor did
            results[kind].append(_fault_round(size))
    baseline = [_no_fault_round(size) for _ in range(args.rounds)]
    print(f"{'':<11} µs per page fault, each round" + " " * 40 + "median   reported to the host meanwhile, MiB (median)")
    for kind, rounds in results.items():
        costs = [cost for cost, _ in rounds]
        reported = [kib / 1024 for _, kib in rounds]
        print(f"{kind:<11} {' '.join(f'{c:5.2f}' for c in costs):<70} {statistics.median(costs):6.2f}   "
              f"{statistics.median(reported):8.0f}")
    print(f"{'no fault':<11} {' '.join(f'{c:5.2f}' for c in baseline):<70} {statistics.median(baseline):6.2f}")
    ratios = [idle / once for (idle, _), (once, _) in zip(results["after idle"], results["at once"])]
    print(f"\nafter idle / at once, paired by round: median {statistics.median(ratios):.2f} "
          f"(range {min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    main()
