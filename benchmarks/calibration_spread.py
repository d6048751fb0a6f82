"""How much one calibration trial's overhead varies, and which part of it: the budget's plan sizes every trial from
a single calibration (study/budget_planning.py), so a wait that comes or not in that one trial moves the whole plan.

Runs the calibration trial exactly as a budgeted study does (study.trial_process.run_trial_process on the
calibration's small config, a fresh process each), ROUNDS times one after another, and prints per run its wall time,
its epochs, the limit's diagnostic, fit's teardown (the destruction of the limit's one iterator when fit ends) and
the overhead the plan takes from it (budget_planning._overhead). One at a time; nothing else should run.

    python benchmarks/calibration_spread.py 2

The committed output (reports/benchmarks/calibration_spread.txt) came from this file's first draft (the same calls,
at commit 4631055, when `_overhead` still counted the teardown).
"""

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    from study import budget_planning, schema, trial_process
    from study.config import StudyConfig
    from study.plan import Trial

    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    out = Path(tempfile.mkdtemp(prefix="calibration-spread-"))
    config = StudyConfig(strategies=("arrays",), out=str(out))
    (config.out_dir / schema.LOGS).mkdir(parents=True, exist_ok=True)
    small = budget_planning.calibration_config(config)
    for _ in range(rounds):
        started = time.perf_counter()
        outcome = trial_process.run_trial_process(small, Trial(0, schema.COMPUTE_BOUND), config.out_dir / schema.LOGS / "c.log",
                                                  on_epoch=lambda event: None)
        epochs = [round(event["epoch_seconds"], 2) for event in outcome.epochs]
        print(f"wall {outcome.wall_seconds:.1f} (outer {time.perf_counter() - started:.1f}) epochs {epochs} "
              f"diag {outcome.done.get('diagnostic_seconds'):.2f} overhead {budget_planning._overhead(outcome):.1f} "
              f"step {budget_planning._step(outcome):.3f} teardown {outcome.done.get('fit_teardown_seconds'):.2f}", flush=True)


if __name__ == "__main__":
    main()
