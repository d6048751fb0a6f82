"""Inside a block's one process (`--process-per block`): the block's trials one after another, then the probes of
the boundary at full age for all of them.

Run as `python -m study.shared_trials` by study.shared_process. It reads one trial's spec per line on its standard
input (the spec a trial's own process gets, study.trial_process.trial_spec) and runs it as study.trial.run does,
reporting the same events on the same channel; the line {"finish": true} ends the block. So that no trial
inherits another's warm state:
- before the first trial, a warm-up fit (the compute-bound limit, WARM_UP_STEPS steps, discarded) warms what every
  fit of the process shares - TensorFlow's thread pools, kernels, allocator - so that the block's first trial is
  not the only one that pays for it (DESIGN.md measured 20.5 vs 11.5 s per 100 steps, first in its process or not);
- each trial's model is built anew, from the same seed, after keras.backend.clear_session(): the same initial
  weights, a new optimizer, and none of the previous trial's traced functions (its own warm-up epoch traces them);
- each block runs its trials in a new seeded order (study/plan.py), as the fresh-process design does.
Whether this moves any result is measured, not assumed: benchmarks/process_per_block.py runs both designs.
A trial that fails ends the process (after its `error` event); the runner starts a fresh one for the next trial.

The probes (study/boundary_probe.py) wait for the block's end, so that no held iterator is destroyed during another
trial's measured epochs: each probed trial's used iterator is built and drawn in turn (one `holding` event when
all are), then all are held, idle, and each is destroyed when it is as old as a full-size fit at its trial's pace would make
it where fit destroys it (UsedIterator.hold_age_seconds), one after another, each reporting one `boundary` event with the trial's strategy and swept value. The runner goes
on with the next block meanwhile, in a new process, as the fresh-process design goes on with the next trial.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import sys
import traceback

WARM_UP_STEPS = 20  # of the warm-up fit: enough to trace and run the train step; its time is no trial's


def _warm_up(config) -> None:
    """One short fit of the compute-bound limit, discarded: what every later fit of this process finds warm."""
    from inputs import registry
    from models import build_model
    from study import schema, thread_pools
    from study.trial import load_data

    thread_pools.apply(config.intra_op_threads)  # the block's one setting, before its first op

    small = dataclasses.replace(config, limit=WARM_UP_STEPS * config.batch_size, scale=1, sweep=None)
    strategy = registry.get(schema.COMPUTE_BOUND)
    prepared = load_data(small, strategy)
    model = build_model(small.model, seed=small.seed, sequence_length=prepared.sequence_length)
    model.fit(**strategy.fit_arguments(prepared, small.feed_options(None)), epochs=1, verbose=0)


def _run_trials(channel, commands) -> tuple[list, bool]:
    """Each spec read from `commands` run as a trial; ([(key, take_probe)], True) once the block finishes, or
    (probes, False) after a trial failed (its error reported)."""
    import keras

    from study import trial
    from study.config import StudyConfig

    probes, warmed = [], False
    for line in commands:
        spec = json.loads(line)
        if spec.get("finish"):
            break
        config = StudyConfig.from_dict(spec["config"])
        try:
            if not warmed:
                _warm_up(config)
                warmed = True
            keras.backend.clear_session()
            take_probe = trial.run(config, spec["strategy"], channel, spec.get("service_address"),
                                   spec.get("probe_boundary", False), shared_process=True)
        except BaseException as error:  # noqa: BLE001 - every failure is reported to the runner as one line
            traceback.print_exc()
            trial.emit(channel, "error", error=trial.describe(error), **trial.damage_of(error))
            return probes, False
        if take_probe is not None:
            probes.append(({"strategy": spec["strategy"], "sweep_value": spec.get("sweep_value")}, take_probe))
    return probes, True


def _hold_and_destroy(channel, probes: list) -> None:
    """Builds every probe (the `holding` event says when, with each one's hold and any that could not be built),
    then holds them all at once and destroys each at its age, one after another in the order they come due (one
    `boundary` event each).

    One at a time, not each in a thread of its own: destroying tf.data iterators from several threads at once hung a
    block's process (4 of its 6 probes never reported, every thread idle on a futex; reports/benchmarks/process-per-block,
    block 4), and a wait in one thread's destruction could be reported by another's (gc.collect runs one collection
    at a time, for whichever thread asked first).
    The price: a destruction that waits delays those due after it, so they are older than their target; each
    records its real age (`age_seconds` beside `target_age_seconds`)."""
    from study import trial

    held, holding, errors = [], [], []
    for key, take_probe in probes:
        probe, holding_seconds, probe_error = take_probe()
        if probe is None:
            errors.append(dict(key, probe_error=probe_error))
        else:
            held.append((key, probe, holding_seconds))
            holding.append(dict(key, holding_seconds=holding_seconds))
    trial.emit(channel, "holding", probes=holding, errors=errors)
    for key, probe, holding_seconds in sorted(held, key=lambda one: one[1].born + one[2]):  # by when each comes due
        figures = probe.hold_and_destroy(holding_seconds)
        trial.emit(channel, "boundary", **key, target_age_seconds=holding_seconds, **probe.figures(), **figures)


def main() -> int:
    from processes import lean_import, parent_death

    parent_death.exit_with_parent_from_environment(whole_group=True)  # as a trial's own process does (study/trial.py)
    lean_import.import_tensorflow_and_keras()  # as a trial's own process does
    from study import trial

    channel = trial.open_protocol_channel()
    probes, finished = _run_trials(channel, sys.stdin)
    if not finished:
        return 1
    if probes:
        try:
            _hold_and_destroy(channel, probes)
        except BaseException as error:  # noqa: BLE001 - the trials are saved; a probe that fails is named, once
            traceback.print_exc()
            trial.emit(channel, "holding", probes=[], errors=[{"probe_error": trial.describe(error)}])
    # Everything is reported: end now rather than destroy the other iterators at interpreter exit (study/trial.py).
    atexit._run_exitfuncs()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
