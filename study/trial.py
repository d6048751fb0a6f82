"""What runs inside a trial's own process: data -> strategy -> model.fit with timing.

Run as `python -m study.trial '<json>'` by study.runner, one fresh process per trial, so no strategy inherits
another's warm caches, threads or memory. It reports to the runner through JSON lines on its standard output
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
import resource
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


def _open_protocol_channel():
    """Keep the real stdout for protocol lines and send every other print (fd 1) to stderr."""
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def _emit(channel, event: str, **fields) -> None:
    channel.write(PROTOCOL_PREFIX + json.dumps({"event": event, **fields}) + "\n")
    channel.flush()


def load_data(config, strategy, whole: bool = False):
    """The prepared data this trial trains on: cached arrays, limited, replicated for the scale setting
    (`whole`: the whole training split, replicated: the user's real epoch)."""
    from inputs import corpus

    settings = corpus.DataSettings(source=config.dataset, seed=config.seed)
    prepared = corpus.prepare(settings, config.cache_dir, with_texts=strategy.needs_texts)
    return prepared.limited(None if whole else config.limit).replicated(config.scale)


def measure_pipeline(strategy, prepared, options) -> dict:
    """One epoch of the strategy's batches with no model: the input pipeline's own capacity.

    The first batch includes the pipeline's start-up (filling shuffle buffers, tracing), so throughput is
    counted over the batches after it, and the time to the first batch is reported on its own.
    """
    epochs = strategy.iterate_epochs(prepared, options, epochs=1)
    batches = next(epochs)
    start = time.perf_counter()
    first_batch_seconds, examples_after_first, batches_seen = None, 0, 0
    for batch_x, _ in batches:
        if first_batch_seconds is None:
            first_batch_seconds = time.perf_counter() - start
            after_first, after_first_cpu = time.perf_counter(), time.process_time()
        else:
            examples_after_first += int(batch_x.shape[0])
        batches_seen += 1
    seconds_after_first = time.perf_counter() - after_first if batches_seen else 0.0
    cpu_after_first = time.process_time() - after_first_cpu if batches_seen else 0.0
    return {
        "pipeline_first_batch_seconds": first_batch_seconds,
        "pipeline_examples": examples_after_first,
        "pipeline_seconds": seconds_after_first,
        "pipeline_cpu_seconds": cpu_after_first,  # the pipeline's own CPU work, with no model to share the cores
        "pipeline_batches": max(batches_seen - 1, 0),
    }


def traced_batch_shape(model) -> str:
    """The input shape the model's training step was traced for, as "32x80" ("?x80": batches of unknown size,
    the batch dimension left open); "" when it cannot be read.

    Keras 3's TensorFlow trainer keeps its tf.function (`multi_step_on_iterator`) in the closure of
    `model.train_function`; each of its traces takes the input iterator, whose spec holds the batch's shape."""
    try:
        functions = [cell.cell_contents for cell in model.train_function.__closure__ or ()
                     if hasattr(cell.cell_contents, "_list_all_concrete_functions")]
        shapes = set()
        for function in functions:
            for concrete in function._list_all_concrete_functions():
                for spec in concrete.structured_input_signature[0]:
                    element = getattr(spec, "element_spec", None) or spec._element_spec  # IteratorSpec: private
                    features = element[0] if isinstance(element, tuple) else element
                    shapes.add("x".join("?" if size is None else str(size) for size in features.shape))
        return " ".join(sorted(shapes))
    except Exception:  # noqa: BLE001 - private structure of Keras and TensorFlow; a figure we cannot read is blank
        return ""


def measure_diagnostic(model, strategy, prepared, options) -> dict:
    """The strategy's diagnostic variant fitted for one epoch, then its own arguments again beside it, with the
    median step and CPU per step of each (study/timing.StepClock); {} when it has none."""
    from study.timing import StepClock

    found = strategy.diagnostic(prepared, options)
    if found is None:
        return {}
    label, changed = found
    started = time.perf_counter()
    figures = {"diagnostic": label}
    for prefix, arguments in (("diagnostic", changed), ("diagnostic_reference", strategy.fit_arguments(prepared, options))):
        clock = StepClock()
        model.fit(**arguments, epochs=1, verbose=0, callbacks=[clock])
        figures.update(clock.figures(prefix))
    return {**figures, "diagnostic_seconds": time.perf_counter() - started}


def own_usage() -> dict:
    """This process' CPU time and peak memory so far, its finished children included (what os.wait4 reports
    when it ends), for a trial the runner does not wait for because it goes on holding an iterator."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "cpu_user_seconds": own.ru_utime + children.ru_utime,
        "cpu_system_seconds": own.ru_stime + children.ru_stime,
        "peak_rss_mb": max(own.ru_maxrss, children.ru_maxrss) / 1024,
    }


def run(config, strategy_name: str, channel, service_address: str | None = None, probe_boundary: bool = False) -> bool:
    """`service_address`: a tf.data service dispatcher the runner started for this trial (None: the user's,
    if any). `probe_boundary`: measure, at the full epoch's age, the destruction of a used iterator where this
    strategy's fit does it - at every epoch boundary, or once, when fit ends (study/boundary_probe.py). Returns
    whether it did (the process then holds iterators it must not wait to destroy at exit)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from inputs import registry
    from models import build_model
    from study import boundary_probe
    from study.timing import EpochTimer

    strategy = registry.get(strategy_name)
    options = config.feed_options(service_address)
    prepared = load_data(config, strategy)
    model = build_model(config.model, seed=config.seed, sequence_length=prepared.sequence_length)

    last_steps = []

    def on_record(record):
        last_steps[:] = record.step_seconds
        _emit(channel, "epoch", **dataclasses.asdict(record))

    fit_arguments = strategy.fit_arguments(prepared, options)
    timer = EpochTimer(on_record, on_progress=lambda **where: _emit(channel, "progress", **where))
    model.fit(**fit_arguments, epochs=config.epochs, verbose=0, callbacks=[timer])
    # fit's teardown: from the last epoch's end until fit returns, which includes destroying the input iterator
    # that fit kept (for one-iterator strategies the only boundary wait they pay; outside every epoch).
    last_wall, last_cpu = timer.last_epoch_end
    teardown = {
        "fit_teardown_seconds": time.perf_counter() - last_wall,
        "fit_teardown_cpu_seconds": time.process_time() - last_cpu,
    }
    batch_shape = traced_batch_shape(model)
    validation = model.evaluate(
        prepared.x_val, prepared.y_val, batch_size=EVALUATION_BATCH_SIZE, verbose=0, return_dict=True
    )
    # After the evaluation: the diagnostic trains the model on, and validation checks the study's training only.
    diagnostic = measure_diagnostic(model, strategy, prepared, options) if len(last_steps) >= MIN_DIAGNOSTIC_STEPS else {}
    pipeline = measure_pipeline(strategy, prepared, options)
    new_iterator_each_epoch = boundary_probe.makes_new_iterator_each_epoch(fit_arguments)
    probe, holding_seconds = None, None
    probe_error = None
    # Not with a tf.data service: the runner stops the trial's local servers once it has reported, and the held
    # iterator would be left talking to none.
    if probe_boundary and last_steps and not strategy.needs_service:
        try:
            probe = boundary_probe.UsedIterator(strategy, load_data(config, strategy, whole=True), options)
        except Exception as error:  # noqa: BLE001 - a probe that cannot run costs the trial nothing: it is named
            probe_error = describe(error)
        else:
            # As old as a full epoch of this trial's measured pace would make it when fit drops it.
            holding_seconds = probe.steps * float(np.median(last_steps))
    _emit(
        channel,
        "done",
        val_loss=float(validation["loss"]),
        val_accuracy=float(validation["accuracy"]),
        parameters=int(model.count_params()),
        new_iterator_each_epoch=new_iterator_each_epoch,
        holding_seconds=holding_seconds,
        probe_error=probe_error,
        batch_shape=batch_shape,
        **diagnostic,
        **teardown,
        **pipeline,
        **(probe.figures() if probe else {}),
        **own_usage(),
    )
    if probe is None:
        return False
    _emit(channel, "boundary", target_age_seconds=holding_seconds, **probe.hold_and_destroy(holding_seconds))
    return True


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
    from processes import parent_death

    # First of all: end with the supervisor the runner started this under, should it be killed itself,
    # taking this process' own group along. (The supervisor ends everything below it when the runner ends.)
    parent_death.exit_with_parent_from_environment(whole_group=True)
    from study.config import StudyConfig

    argv = sys.argv[1:] if argv is None else argv
    spec = json.loads(argv[0])
    channel = _open_protocol_channel()
    try:
        probed = run(StudyConfig.from_dict(spec["config"]), spec["strategy"], channel, spec.get("service_address"),
                     spec.get("probe_boundary", False))
    except BaseException as error:  # noqa: BLE001 - every failure is reported to the runner as one line
        traceback.print_exc()
        _emit(channel, "error", error=describe(error), **damage_of(error))
        return 1
    if probed:
        # Everything is reported: end now rather than destroy the probe's other iterators at interpreter exit,
        # which may wait for their autotune threads too and keep a finished process alive - after the exit hooks
        # a strategy or a library registered (their cleanup still runs).
        atexit._run_exitfuncs()
        sys.stderr.flush()
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
