"""Would trials forked from a process that has already imported TensorFlow and Keras measure what fresh processes
measure, and how much of a trial's time outside its epochs would that save? (Issue 19: importing Python,
TensorFlow and Keras is 7-10 s of every trial, reports/benchmarks/trial_phases.txt.)

Two designs, each trial the study's own (study.trial.main on a spec from study.trial_process.trial_spec, no
boundary probe), at the default study's shortened settings (2 epochs of 44 steps):
- fresh: `python -m study.trial SPEC`, a new interpreter per trial, as the study runs every trial today;
- forked: one process per round imports TensorFlow, Keras (without Keras' optional companions, as a trial does:
  processes/lean_import.py) and the study's modules and builds nothing; for each
  trial it forks a child that runs the trial and exits, and waits for it before forking the next. The child starts
  with no model, no dataset, no tf.data or Keras state: what it shares with its siblings is the imported code.

Each round runs every strategy in both designs, the designs' order alternating between rounds (ABBA). Per trial:
its wall time from the request to its last event, the time in its epochs, and the median of its steady epoch's
steps. Printed: per design the time outside the epochs (median), and per strategy the paired ratio forked / fresh
of the median step; per design each strategy's step ratio against `arrays` - both with t intervals over rounds.
One process at a time; nothing else should run on the machine.

    python benchmarks/forked_trials.py arrays,tfdata,compute-bound --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DONE_LINE = "@forked-trial-exit "
IMPORTS = "the forking process' imports"
THREADS = "the forking process' threads"


def spec_for(strategy: str) -> str:
    from study.config import StudyConfig
    from study.plan import Trial
    from study.trial_process import trial_spec

    config = StudyConfig(strategies=(strategy,) if strategy != "compute-bound" else ("arrays",), limit=1408, epochs=2)
    return json.dumps(trial_spec(config, Trial(repeat=1, strategy=strategy), None, False))


def serve_forks() -> None:
    """The forking process: imports once, then one child per spec line on stdin, one after another."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from processes import lean_import

    lean_import.import_tensorflow_and_keras()  # as the study's fork server (study/fork_server.py) and a fresh trial do

    from inputs import registry  # noqa: F401
    from models import build_model  # noqa: F401
    from study import boundary_probe, trial, trial_measurements  # noqa: F401
    from study.config import StudyConfig  # noqa: F401

    threads = len(os.listdir("/proc/self/task"))  # what a child inherits besides its caller: nothing of these runs in it
    print(DONE_LINE + json.dumps({"ready": True, "threads": threads}), flush=True)
    for line in sys.stdin:
        pid = os.fork()
        if pid == 0:
            os._exit(trial.main([line.strip()]))
        _, status = os.waitpid(pid, 0)
        print(DONE_LINE + json.dumps({"status": status}), flush=True)


def read_trial(stream, started: float) -> dict:
    """A trial's figures from its `@study` lines, up to its `done` (or `error`)."""
    from study.trial import PROTOCOL_PREFIX

    epochs = []
    for line in stream:
        if not line.startswith(PROTOCOL_PREFIX):
            continue
        event = json.loads(line[len(PROTOCOL_PREFIX):])
        if event["event"] == "epoch":
            epochs.append(event)
        elif event["event"] in ("done", "error"):
            if event["event"] == "error":
                raise SystemExit(f"a trial failed: {event['error']}")
            break
    import numpy as np

    wall = time.perf_counter() - started
    in_epochs = sum(e["epoch_seconds"] for e in epochs)
    return {"wall": wall, "outside": wall - in_epochs, "step": float(np.median(epochs[-1]["step_seconds"]))}


def fresh(strategy: str, prefix: tuple = ()) -> dict:
    """The trial in a new interpreter, as the study runs it; `prefix`: a command that runs it (e.g. setarch)."""
    started = time.perf_counter()
    child = subprocess.Popen([*prefix, sys.executable, "-m", "study.trial", spec_for(strategy)], cwd=ROOT, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    figures = read_trial(child.stdout, started)
    child.wait()
    figures["wall"] = time.perf_counter() - started  # to the process' exit, as the runner waits for it
    return figures


def forked_round(strategies: list[str]) -> dict:
    server = subprocess.Popen([sys.executable, __file__, "--serve"], cwd=ROOT, text=True, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    started = time.perf_counter()
    ready = server.stdout.readline()
    assert ready.startswith(DONE_LINE)
    figures = {IMPORTS: time.perf_counter() - started, THREADS: json.loads(ready[len(DONE_LINE):])["threads"]}
    for strategy in strategies:
        started = time.perf_counter()
        server.stdin.write(spec_for(strategy) + "\n")
        server.stdin.flush()
        figures[strategy] = read_trial(server.stdout, started)
        for line in server.stdout:  # to the child's exit
            if line.startswith(DONE_LINE):
                break
        figures[strategy]["wall"] = time.perf_counter() - started
    server.stdin.close()
    server.wait()
    return figures


def interval(values: list[float], baseline: list[float]) -> str:
    """The paired ratio values / baseline over rounds with its fixed-sample t interval (study.stats.paired_ratio)."""
    import numpy as np

    from study import stats

    blocks, baseline_blocks = [[v] for v in values], [[v] for v in baseline]  # one figure per round: a block
    ratio = stats.paired_ratio(blocks, baseline_blocks)
    spread = np.std(stats.block_log_ratios(blocks, baseline_blocks), ddof=1)
    return f"{ratio.estimate:.3f} [{ratio.low:.3f}, {ratio.high:.3f}] (SD of log {spread:.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("strategies", nargs="?", default="arrays,tfdata,compute-bound")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_forks()
        return
    import numpy as np

    strategies = args.strategies.split(",")
    rows = []
    for round_number in range(1, args.rounds + 1):
        designs = ["fresh", "forked"] if round_number % 2 else ["forked", "fresh"]
        for design in designs:
            if design == "fresh":
                figures = {s: fresh(s) for s in strategies}
            else:
                figures = forked_round(strategies)
                imported, threads = figures.pop(IMPORTS), figures.pop(THREADS)
                print(f"round {round_number}: forked: the forking process imported in {imported:.1f} s "
                      f"(once per round, before its trials) and ran {threads} thread(s) when it forked", flush=True)
            for strategy, f in figures.items():
                rows.append({"round": round_number, "design": design, "strategy": strategy, **f})
                print(f"round {round_number}: {design}: {strategy}: trial {f['wall']:.1f} s, outside its epochs "
                      f"{f['outside']:.1f} s, median steady step {1000 * f['step']:.1f} ms", flush=True)
    print()
    for design in ("fresh", "forked"):
        outside = [r["outside"] for r in rows if r["design"] == design]
        print(f"{design}: a trial's time outside its epochs, median {np.median(outside):.1f} s "
              f"(range {min(outside):.1f}-{max(outside):.1f})")
    step = {(r["round"], r["design"], r["strategy"]): r["step"] for r in rows}
    rounds = range(1, args.rounds + 1)
    print("\nmedian steady step, forked / fresh, paired within rounds (95% t interval over rounds):")
    for s in strategies:
        print(f"  {s}: {interval([step[r, 'forked', s] for r in rounds], [step[r, 'fresh', s] for r in rounds])}")
    if "arrays" in strategies:
        print("\nmedian steady step against arrays, per design (95% t interval over rounds):")
        for s in strategies:
            if s != "arrays":
                for design in ("fresh", "forked"):
                    print(f"  {s} / arrays, {design}: "
                          f"{interval([step[r, design, s] for r in rounds], [step[r, design, 'arrays'] for r in rounds])}")


if __name__ == "__main__":
    main()
