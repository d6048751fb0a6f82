#!/usr/bin/env python
"""Does the boundary probe see each strategy's autotune thread wake? (study/autotune_wakeups.py)

For each strategy named: the probe's used iterator on the whole training split (study.boundary_probe.UsedIterator,
one epoch drawn with no model), held to `--age`, then on until the thread it watches next wakes; prints the
wake-ups it saw (seconds since the iterator's first batch) and the one after the age. tf.data's autotune thread
should wake at 0.01, 0.03, 0.07 ... 5.11, 10.23, 20.47, 40.95, 81.91 s (its sleep doubles from 10 ms to 60 s): a
watch that sees other wake-ups is watching the wrong thread. Also shows what the watch costs: the process CPU over
the hold. The watch polls once a second, and ten times a second over the hold's last second and after it
(study/autotune_wakeups.sleep_until), so it times only the wake-ups from then on, unless --watch-all.

    python benchmarks/autotune_wakeups.py arrays,tfdata,generator --age 11   (about 30 s per strategy; run alone)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("strategies")
    parser.add_argument("--age", type=float, default=11.0, help="the held iterator's age, seconds (default: %(default)s)")
    parser.add_argument("--watch-all", action="store_true", help="poll from the first batch on, not only near the age")
    args = parser.parse_args()

    import absl.logging
    import tensorflow as tf

    absl.logging.set_verbosity(absl.logging.ERROR)
    from inputs import registry
    from study import autotune_wakeups, boundary_probe
    from study.config import StudyConfig
    from study.trial import load_data

    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} cores; each iterator held to {args.age:g} s, then to its next wake-up")
    for name in args.strategies.split(","):
        config = StudyConfig(strategies=(name,), seed=0)
        strategy = registry.get(name)
        probe = boundary_probe.UsedIterator(strategy, load_data(config, strategy, whole=True), config.feed_options(None))
        if probe._watch is None:
            why = ("keeps one iterator for all of fit: its probe times fit's teardown, unwatched"
                   if probe.destroyed_at == boundary_probe.END_OF_FIT else "no thread started with its first batch")
            print(f"{name}: {why}")
            continue
        if args.watch_all:
            autotune_wakeups.sleep_until(probe.born + args.age, watch_for=args.age)
        cpu = time.process_time()
        figures = probe.hold_and_destroy(args.age)
        seen = ", ".join(f"{wakeup:.2f}" for wakeup in probe._watch.wakeups)
        rough = ", ".join(f"{wakeup:.1f}" for wakeup in probe._watch.rough_wakeups)
        print(f"{name}: {probe.steps} batches drawn in {probe.drain_seconds:.1f} s; {len(probe._watch.tids)} threads seen waking "
              f"at {seen or 'no time'} s (placed by the polls, slow ones included: {rough or 'none'}); "
              f"last before {args.age:g} s: -{figures['previous_wakeup_seconds']:.1f} s; "
              f"next after {args.age:g} s: +{figures['next_wakeup_seconds']:.2f} s; "
              f"destroyed at {figures['age_seconds']:.1f} s in {figures['destroy_seconds']:.2f} s; "
              f"CPU over the hold {figures['hold_cpu_seconds']:.3f} s, and the destruction {time.process_time() - cpu:.3f} s in all",
              flush=True)
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    # Each probe keeps its next epoch's iterator; destroying them all at interpreter exit can wait a minute each
    # (study/trial.py ends its process the same way).
    os._exit(status)
