"""What runs inside a trial's own process: data -> strategy -> model.fit with timing.

Run as `python -m study.trial '<json>'` by study.runner, one fresh process per trial, so no strategy inherits
another's warm caches, threads or memory. It reports to the runner through JSON lines on its standard output
(`@study {...}`); everything else a library prints goes to standard error, which the runner keeps in a log.

Events: `progress` (where the running epoch is, at most about twice a second, for the live line), one `epoch`
per finished epoch, then `done` (validation and pipeline-only figures) or `error` (with `damaged_file` when
a file the study can rebuild was found damaged).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import sys
import time
import traceback

PROTOCOL_PREFIX = "@study "
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


def load_data(config, strategy):
    """The prepared data this trial trains on: cached arrays, limited, replicated for the scale setting."""
    from inputs import corpus

    settings = corpus.DataSettings(source=config.dataset, seed=config.seed)
    prepared = corpus.prepare(settings, config.cache_dir, with_texts=strategy.needs_texts)
    return prepared.limited(config.limit).replicated(config.scale)


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
            after_first = time.perf_counter()
        else:
            examples_after_first += int(batch_x.shape[0])
        batches_seen += 1
    seconds_after_first = time.perf_counter() - after_first if batches_seen else 0.0
    return {
        "pipeline_first_batch_seconds": first_batch_seconds,
        "pipeline_examples": examples_after_first,
        "pipeline_seconds": seconds_after_first,
    }


def run(config, strategy_name: str, channel, service_address: str | None = None) -> None:
    """`service_address`: a tf.data service dispatcher the runner started for this trial (None: the user's,
    if any)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from inputs import registry
    from models import build_model
    from study.timing import EpochTimer

    strategy = registry.get(strategy_name)
    options = config.feed_options(service_address)
    prepared = load_data(config, strategy)
    model = build_model(config.model, seed=config.seed, sequence_length=prepared.sequence_length)

    def on_record(record):
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
    validation = model.evaluate(
        prepared.x_val, prepared.y_val, batch_size=EVALUATION_BATCH_SIZE, verbose=0, return_dict=True
    )
    pipeline = {} if strategy is registry.COMPUTE_BOUND else measure_pipeline(strategy, prepared, options)
    _emit(
        channel,
        "done",
        val_loss=float(validation["loss"]),
        val_accuracy=float(validation["accuracy"]),
        parameters=int(model.count_params()),
        **teardown,
        **pipeline,
    )


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
        run(StudyConfig.from_dict(spec["config"]), spec["strategy"], channel, spec.get("service_address"))
    except BaseException as error:  # noqa: BLE001 - every failure is reported to the runner, then re-raised
        traceback.print_exc()
        _emit(channel, "error", error=describe(error), **damage_of(error))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
