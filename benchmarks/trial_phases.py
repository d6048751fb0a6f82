"""Where a trial's time outside its epochs goes (issue 19: the next seconds per trial to cut).

Runs, in one fresh process per strategy named, the steps of a trial's process (study/trial.py) one after another,
each timed on the wall clock: Python + TensorFlow + Keras imported, the data loaded, the model built, the fit
(2 epochs of 44 steps: its warm-up epoch and one steady epoch), the evaluation (`EVALUATION_BATCH_SIZE`, the trial's
sample of the validation split: study.trial.validation_sample), the pipeline-only pass, and the boundary probe's
used iterator on the whole split (one epoch of batches with no model). Not timed here: the runner's side (starting the process, saving rows) and the limit's
diagnostic. One process at a time; nothing else should run.

    python benchmarks/trial_phases.py arrays,tfdata,grain --rounds 2
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def one_process(name: str) -> dict:
    started = time.perf_counter()
    phases = {}

    def mark(phase: str) -> None:
        nonlocal started
        now = time.perf_counter()
        phases[phase] = now - started
        started = now

    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.path.insert(0, str(ROOT))
    import keras  # noqa: F401
    import tensorflow  # noqa: F401

    from inputs import registry
    from models import build_model
    from study import boundary_probe
    from study.config import StudyConfig
    from study.trial import EVALUATION_BATCH_SIZE, load_data, validation_sample
    from study.trial_measurements import measure_pipeline

    mark("imports")
    strategies = () if name == "compute-bound" else (name,)
    config = StudyConfig(strategies=strategies or ("arrays",), limit=1408, epochs=2, seed=0)
    strategy = registry.get(name)
    options = config.feed_options(None)
    prepared = load_data(config, strategy)
    mark("data")
    model = build_model(config.model, seed=config.seed, sequence_length=prepared.sequence_length)
    mark("model")
    model.fit(**strategy.fit_arguments(prepared, options), epochs=config.epochs, verbose=0)
    mark("fit (2 epochs of 44 steps)")
    x_val, y_val = validation_sample(prepared)
    model.evaluate(x_val, y_val, batch_size=EVALUATION_BATCH_SIZE, verbose=0)
    mark(f"evaluation ({len(x_val):,} reviews)")
    measure_pipeline(strategy, prepared, options)
    mark("pipeline-only pass")
    boundary_probe.UsedIterator(strategy, load_data(config, strategy, whole=True), options)
    mark("probe: whole split's data + one epoch drawn")
    return phases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("strategies")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("PHASES " + json.dumps(one_process(args.strategies)), flush=True)
        return 0
    import pandas as pd

    rows = []
    for round_ in range(1, args.rounds + 1):
        for name in args.strategies.split(","):
            started = time.perf_counter()
            output = subprocess.run([sys.executable, __file__, name, "--child"], capture_output=True, text=True, check=True).stdout
            whole = time.perf_counter() - started
            phases = json.loads(output.split("PHASES ", 1)[1])
            phases["process start to exit, beyond the phases"] = whole - sum(phases.values())
            for phase, seconds in phases.items():
                rows.append({"round": round_, "strategy": name, "phase": phase, "seconds": seconds})
            print(f"round {round_}: {name}: " + ", ".join(f"{p} {s:.1f} s" for p, s in phases.items()), flush=True)
    table = pd.DataFrame(rows).pivot_table(index="phase", columns="strategy", values="seconds", aggfunc="median", sort=False)
    print("\nmedian seconds per phase over the rounds:")
    print(table.round(2).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
