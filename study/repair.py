"""A trial that found a data file damaged: the data rebuilt once, and the trial run again.

Damage found before the first trial is repaired by run_study.py's check. Damage that appears while the study
runs (a failing disk, a cleaner, another process) is found by the trial itself - today the TFRecord shards'
check, which names the file (`damaged_file` in the trial's error event, from inputs.corpus.DamagedFileError).
Then the records are checked and rebuilt as before the first trial, in a process of their own (the study's
process never loads TensorFlow, and the rerun trial's time, CPU and memory are its own, not the rebuild's),
and the trial runs again in a fresh process. Its row in trials.csv says it ran again and why. One rebuild
per trial: a rebuild that fails, or damage found again, fails the trial with one line naming the file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

from processes import children, supervisor
from processes.parent_death import PARENT_PID_VARIABLE
from study.config import StudyConfig


def run_rebuilding_once(config: StudyConfig, run_trial, echo):
    """`run_trial()` (-> runner.TrialOutcome); once more after a rebuild if it found a data file damaged."""
    first = run_trial()
    if not first.damaged_file:
        return first
    echo(f"{first.damaged_file} was found damaged: rebuilding the TFRecords and running the trial again.")
    problem = repair_records(config)
    if problem:
        return dataclasses.replace(first, error=f"{first.damaged_file} is damaged, and rebuilding it failed: {problem}")
    again = run_trial()
    if again.damaged_file:
        return dataclasses.replace(again, error=f"damaged again after it was rebuilt once: {again.error}")
    ran_again = f"ran again after rebuilding damaged {first.damaged_file}"
    return dataclasses.replace(again, error=f"{again.error} ({ran_again})" if again.error else ran_again)


def repair_records(config: StudyConfig) -> str | None:
    """Checks the TFRecords of the config's data, rebuilding them where damaged (inputs.corpus.records.main;
    also run_study.py's check before the first trial): None when they are intact now, else one line.

    In a process of its own, under a supervisor like a trial: it ends with the study, however the study ends."""
    from inputs import corpus

    settings = corpus.DataSettings(source=config.dataset, seed=config.seed)
    spec = {"settings": dataclasses.asdict(settings), "cache_dir": config.cache_dir}
    environment = children.child_environment()
    environment.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    environment[PARENT_PID_VARIABLE] = str(os.getpid())
    # -c, not -m: TFDS finds a builder's files through its module's name (see records.main)
    command = [sys.executable, "-c", "import sys; from inputs.corpus.records import main; sys.exit(main())", json.dumps(spec)]
    process = supervisor.start(command, subprocess.DEVNULL, subprocess.PIPE, environment=environment,
                               cwd=children.PROJECT_ROOT, text=True)
    try:
        errors = process.stderr.read()
        ended = children.reap(process, None)
    except BaseException:  # a stop signal: the check ends with the study
        children.stop([process])
        raise
    finally:
        process.stderr.close()
    if ended.exit_code == 0:
        return None
    lines = errors.strip().splitlines()
    return lines[-1] if lines else f"the TFRecord check exited with status {ended.exit_code}"
