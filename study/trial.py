"""What runs inside a trial's own process: data -> strategy -> model.fit with timing.

Run as `python -m study.trial '<json>'` by study.trial_process, one fresh process per trial, so no strategy inherits
another's warm caches, threads or memory (with `--process-per block`, study/shared_trials.py calls `run` for each
trial of a block in the block's one process). It reports to the runner through JSON lines on its standard output
(`@study {...}`); everything else a library prints goes to standard error, which the runner keeps in a log.

Events: `progress` (where the running epoch is, at most about twice a second, for the live line), one `epoch`
per finished epoch, then `done` (validation and pipeline-only figures, the batch shape the step was traced for,
and the strategy's diagnostic if it has one: inputs.base.FeedStrategy.diagnostic) or `error` (with `damaged_file`
when a file the study can rebuild was found damaged). A trial asked to probe the boundary at full age
(study/boundary_probe.py) says so in `done` (`holding_seconds`), stays alive holding its used iterator, idle,
sends one `boundary` event and exits.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import re
import sys
import time
import traceback

import numpy as np

PROTOCOL_PREFIX = "@study "
# A strategy's diagnostic (FeedStrategy.diagnostic) needs epochs of at least this many steps to time a step.
MIN_DIAGNOSTIC_STEPS = 8
# Validation is a check that every strategy trained the same model, not a measurement: large batches make it
# take seconds instead of most of a short trial (the LSTM's per-batch cost dominates at batch 32 on a CPU).
EVALUATION_BATCH_SIZE = 1024
# ... and a sample of the validation split is enough for that check: all 5,000 reviews took 4.4-5.5 s of every
# trial, about a third of its time outside its epochs; 1,000 take 1.4-1.8 s (reports/benchmarks/trial_phases.txt).
EVALUATION_EXAMPLES = 1000


def open_protocol_channel():
    """Keep the real stdout for protocol lines and send every other print (fd 1) to stderr."""
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def emit(channel, event: str, **fields) -> None:
    channel.write(PROTOCOL_PREFIX + json.dumps({"event": event, **fields}) + "\n")
    channel.flush()


def load_data(config, strategy, whole: bool = False):
    """The prepared data this trial trains on: cached arrays, limited, replicated for the scale setting
    (`whole`: the whole training split, replicated: the user's real epoch)."""
    from inputs import corpus

    prepared = corpus.prepare(config.data_settings(), config.cache_dir, with_texts=strategy.needs_texts)
    return prepared.limited(None if whole else config.limit).replicated(config.scale)


def validation_sample(prepared) -> tuple[np.ndarray, np.ndarray]:
    """(x, y): every k-th validation review, at most EVALUATION_EXAMPLES of them. Evenly spaced, not the first
    ones: the split keeps the source's order, in which the labels come in runs (the first 1,024 of the embedded
    split's 5,000 are all negative), so a stride keeps each label's share."""
    stride = max(1, -(-len(prepared.x_val) // EVALUATION_EXAMPLES))  # ceiling division
    return prepared.x_val[::stride], prepared.y_val[::stride]


def run(config, strategy_name: str, channel, service_address: str | None = None, probe_boundary: bool = False,
        shared_process: bool = False, sweep_value=None):
    """`service_address`: a tf.data service dispatcher the runner started for this trial (None: the user's,
    if any). `probe_boundary`: measure, at the full epoch's age, the destruction of a used iterator where this
    strategy's fit does it - at every epoch boundary, or once, when fit ends (study/boundary_probe.py). Returns
    whether it did (the process then holds iterators it must not wait to destroy at exit).

    `shared_process`: the trial is one of its block's in the block's process (study/shared_trials.py): its figures of CPU time are
    its own part of the process', and the probe is not taken now but returned (a callable that takes it), for the
    block's end. `sweep_value`: the trial's value of a swept setting (None: no sweep), which names its probe's
    `boundary` event with its strategy, as a block's process names each of its trials' (study/holders.py)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from inputs import malloc_threshold, registry
    from models import build_model
    from study import boundary_probe, thread_pools
    from study.trial_measurements import measure_diagnostic, measure_pipeline, own_usage, traced_batch_shape, usage_since

    thread_pools.apply(config.intra_op_threads)  # before the first op fixes TensorFlow's pools
    usage_before = own_usage()
    strategy = registry.get(strategy_name)
    options = config.feed_options(service_address)
    prepared = load_data(config, strategy)
    model = build_model(config.model, seed=config.seed, sequence_length=prepared.sequence_length)
    fit_arguments = strategy.fit_arguments(prepared, options)
    last_steps, teardown = _fit_timed(model, fit_arguments, config.epochs, channel)
    # Right after training, before anything else builds a dataset: whether its fit left malloc's mmap threshold fixed
    # low, as tf.data's from_generator does (inputs/malloc_threshold.py) - the cause of its page faults if so.
    mmap_threshold_fixed = malloc_threshold.threshold_fixed_low()
    batch_shape = traced_batch_shape(model)
    validation = model.evaluate(*validation_sample(prepared), batch_size=EVALUATION_BATCH_SIZE, verbose=0, return_dict=True)
    # After the evaluation: the diagnostic trains the model on, and validation checks the study's training only.
    diagnostic = measure_diagnostic(model, strategy, prepared, options) if len(last_steps) >= MIN_DIAGNOSTIC_STEPS else {}
    pipeline = measure_pipeline(strategy, prepared, options)
    new_iterator_each_epoch = boundary_probe.makes_new_iterator_each_epoch(fit_arguments)
    probe, holding_seconds, probe_error = None, None, None
    # Not with a tf.data service: the runner stops the trial's local servers once it has reported, and the held
    # iterator would be left talking to none.
    wants_probe = probe_boundary and bool(last_steps) and not strategy.needs_service
    if wants_probe and not shared_process:
        probe, holding_seconds, probe_error = _used_iterator_to_hold(config, strategy, options, last_steps)
    emit(
        channel,
        "done",
        val_loss=float(validation["loss"]),
        val_accuracy=float(validation["accuracy"]),
        parameters=int(model.count_params()),
        new_iterator_each_epoch=new_iterator_each_epoch,
        holding_seconds=holding_seconds,
        probe_error=probe_error,
        batch_shape=batch_shape,
        mmap_threshold_fixed=mmap_threshold_fixed,
        intra_op_threads=thread_pools.in_use(),
        **diagnostic,
        **teardown,
        **pipeline,
        **(probe.figures() if probe else {}),
        **(usage_since(usage_before) if shared_process else own_usage()),
    )
    if shared_process:
        return (lambda: _used_iterator_to_hold(config, strategy, options, last_steps)) if wants_probe else None
    if probe is None:
        return False
    emit(channel, "boundary", strategy=strategy_name, sweep_value=sweep_value, target_age_seconds=holding_seconds,
         **probe.hold_and_destroy(holding_seconds))
    return True


def _fit_timed(model, fit_arguments: dict, epochs: int, channel) -> tuple[list, dict]:
    """model.fit with the epoch timer, each epoch and the throttled progress reported as they come; returns the
    last epoch's step times and fit's teardown."""
    from study.timing import EpochTimer
    from study.trial_measurements import fit

    last_steps = []

    def on_record(record):
        last_steps[:] = record.step_seconds
        emit(channel, "epoch", **dataclasses.asdict(record))

    timer = EpochTimer(on_record, on_progress=lambda **where: emit(channel, "progress", **where))
    fit(model, fit_arguments, [timer], epochs=epochs, verbose=0)
    # fit's teardown: from the last epoch's end until fit returns, which includes destroying the input iterator
    # that fit kept (for one-iterator strategies the only boundary wait they pay; outside every epoch).
    last_wall, last_cpu = timer.last_epoch_end
    teardown = {
        "fit_teardown_seconds": time.perf_counter() - last_wall,
        "fit_teardown_cpu_seconds": time.process_time() - last_cpu,
    }
    return last_steps, teardown


def _used_iterator_to_hold(config, strategy, options, last_steps: list) -> tuple:
    """(probe, holding_seconds, probe_error): a used iterator on the whole split (study/boundary_probe.py) and how
    long to hold it; or, when the probe cannot run, (None, None, why) - it costs the trial nothing: it is named."""
    from study import boundary_probe

    try:
        probe = boundary_probe.UsedIterator(strategy, load_data(config, strategy, whole=True), options)
    except Exception as error:  # noqa: BLE001 - a probe that cannot run costs the trial nothing: it is named
        return None, None, describe(error)
    # As old as a full-size fit at this trial's measured pace would make it when fit drops it.
    return probe, probe.hold_age_seconds(float(np.median(last_steps))), None


def describe(error: BaseException) -> str:
    """One line for the report. TensorFlow wraps an exception raised in a generator or py_function into
    'UnknownError: Graph execution error: ... RuntimeError: cause'; the cause is what the user needs."""
    text = f"{type(error).__name__}: {error}"
    causes = [line.strip() for line in text.splitlines() if re.match(r"^\s*[A-Za-z_.]*(Error|Exception): \S", line)]
    inner = [line for line in causes if not line.startswith(("UnknownError", "InvalidArgumentError: Graph"))]
    return (inner[-1] if inner else text.splitlines()[0])[:500]


def damage_of(error: BaseException) -> dict:
    """{"damaged_file": path} when the trial failed on a damaged file the study can rebuild (study.repair)."""
    from inputs.corpus import DamagedFileError

    return {"damaged_file": error.path} if isinstance(error, DamagedFileError) else {}


def main(argv=None) -> int:
    from processes import lean_import, parent_death

    # First of all: end with the supervisor the runner started this under, should it be killed itself,
    # taking this process' own group along. (The supervisor ends everything below it when the runner ends.)
    parent_death.exit_with_parent_from_environment(whole_group=True)
    lean_import.import_tensorflow_and_keras()  # before anything else imports them (processes/lean_import.py)
    from study.config import StudyConfig

    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(argv[0])
    channel = open_protocol_channel()
    try:
        probed = run(StudyConfig.from_dict(spec["config"]), spec["strategy"], channel, spec.get("service_address"),
                     spec.get("probe_boundary", False), sweep_value=spec.get("sweep_value"))
    except BaseException as error:  # noqa: BLE001 - every failure is reported to the runner as one line
        traceback.print_exc()
        emit(channel, "error", error=describe(error), **damage_of(error))
        _end_now(1)  # a failed fit leaves its iterators (and their threads) half-way: never destroy them at exit
    if probed:
        _end_now(0)
    return 0


def _end_now(status: int) -> None:
    """Everything is reported: end now rather than destroy tf.data's iterators at interpreter exit, which may
    wait for their threads (autotune, a generator's) and keep a finished process alive - after the exit hooks a
    strategy or a library registered (their cleanup still runs)."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


if __name__ == "__main__":
    sys.exit(main())
