"""Where the noise of a measured step time lives: between processes, between trials in one process, or between the
epochs of one trial.

Child mode (what each process runs): `python benchmarks/epoch_drift.py NAME,NAME,...` - in one fresh process, each
named strategy's trial in turn as a block's process runs it (study.trial.run with shared_process=True, a fresh
model after keras.backend.clear_session(), from the same seed), 1,408 examples (44 steps of 32), 3 epochs: the
first is warm-up; one line per steady epoch with its median step (ms) and, for reference, the epoch's wall and
CPU per step (these include the epoch's boundary). No warm-up fit first when NOWARM=1.

The committed run (reports/benchmarks/epoch_drift.txt), on 7a18263, nothing else running on the machine (its lines
came from this file's first draft, the same child mode with the loop below):

    for i in 1 2 3 4 5 6; do NOWARM=1 python benchmarks/epoch_drift.py compute-bound,tfdata-gather,arrays,compute-bound,tfdata \\
        2>&1 | grep -E "epoch |Error" | sed "s/^/proc$i /"; done > lines.txt
    python benchmarks/epoch_drift.py --analyse lines.txt

`--analyse FILE` splits the variance of log(median step) - each strategy's own mean removed - into the part
between processes, between the trials of one process, and between the two steady epochs of one trial.
"""

import io
import json
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def run_one_process(names: list[str]) -> None:
    import keras
    import numpy as np

    from study import shared_trials, trial
    from study.config import StudyConfig

    config = StudyConfig(strategies=tuple(n for n in dict.fromkeys(names) if n != "compute-bound"), limit=1408, epochs=3, seed=0)
    if not os.environ.get("NOWARM"):
        shared_trials._warm_up(config)
    for name in names:
        channel = io.StringIO()
        keras.backend.clear_session()
        trial.run(config, name, channel, None, False, shared_process=True)
        events = [json.loads(line.split(trial.PROTOCOL_PREFIX, 1)[1])
                  for line in channel.getvalue().splitlines() if trial.PROTOCOL_PREFIX in line]
        for e in [event for event in events if event["event"] == "epoch"][1:]:
            steps = np.array(e.get("step_seconds") or [0]) * 1000
            print(name, "epoch", e["epoch"],
                  "ms/step %.1f cpu ms/step %.1f" % (1000 * e["epoch_seconds"] / e["steps"], 1000 * e["cpu_seconds"] / e["steps"]),
                  "median %.1f max %.1f n>300ms %d before_first %.2f" % (
                      np.median(steps), steps.max(), (steps > 300).sum(), e.get("before_first_step_seconds") or -1),
                  flush=True)


def analyse(path: str) -> None:
    import numpy as np
    import pandas as pd

    rows = []
    for line in open(path):
        m = re.match(r"(proc\d+) (\S+) epoch (\d+) .* median ([\d.]+)", line)
        if m:
            rows.append({"process": m[1], "strategy": m[2], "epoch": int(m[3]), "median_ms": float(m[4])})
    d = pd.DataFrame(rows)
    d["trial"] = d.groupby(["process", "strategy", "epoch"]).cumcount()  # compute-bound runs twice per process
    d["log"] = np.log(d.median_ms)
    d["res"] = d.log - d.groupby("strategy").log.transform("mean")
    print("median step ms, per strategy (its trial in the process: 0, 1) and steady epoch, by process:")
    print(d.pivot_table(index=["strategy", "trial", "epoch"], columns="process", values="median_ms").round(1).to_string())
    process_mean = d.groupby("process").res.transform("mean")
    trial_mean = d.groupby(["process", "strategy", "trial"]).res.transform("mean")
    trials = (trial_mean - process_mean).groupby([d.process, d.strategy, d.trial]).first()
    print(f"\n{len(d)} steady epochs in {d.process.nunique()} processes; SD of log(median step), each strategy's mean removed:")
    print(f"  one epoch, all sources: {d.res.std():.3f}")
    print(f"  between processes (SD of the processes' means): {d.groupby('process').res.mean().std():.3f}")
    print(f"  between the trials of one process (SD of the trials' means about their process'): {trials.std():.3f}")
    print(f"  between the steady epochs of one trial (SD of one epoch: its residual about its trial's two-epoch mean "
          f"x sqrt 2): {(d.res - trial_mean).std() * np.sqrt(2):.3f}")
    pair = d[d.strategy.isin(["tfdata-gather", "arrays"])].groupby(["process", "strategy"]).log.mean().unstack()
    ratio = pair["tfdata-gather"] - pair["arrays"]
    print(f"  tfdata-gather / arrays in the same process: {np.exp(ratio.mean()):.3f}, SD of the log ratio {ratio.std():.3f} "
          f"over {len(ratio)} processes")


if __name__ == "__main__":
    if sys.argv[1] == "--analyse":
        analyse(sys.argv[2])
    else:
        run_one_process(sys.argv[1].split(","))
