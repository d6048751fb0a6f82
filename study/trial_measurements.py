"""Inside a trial's process, the figures measured beside its timed fit (study/trial.py): the input pipeline alone,
the batch shape the training step was traced for, the strategy's diagnostic, and the process' own usage."""

from __future__ import annotations

import resource
import time


def fit(model, arguments: dict, callbacks: list, **settings):
    """model.fit on a strategy's arguments with the trial's own callbacks first, then the strategy's (a strategy may
    bring callbacks of its own in its arguments: inputs/pydataset_restored_malloc.py)."""
    own = dict(arguments)
    theirs = own.pop("callbacks", [])
    return model.fit(**own, callbacks=[*callbacks, *theirs], **settings)


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
        fit(model, arguments, [clock], epochs=1, verbose=0)
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


def usage_since(before: dict) -> dict:
    """A trial's own part of its block's shared process (--process-per block): the CPU time since `before` (an
    own_usage), and the process' peak memory so far - the block's trials share that peak, which grows only."""
    now = own_usage()
    return {
        "cpu_user_seconds": now["cpu_user_seconds"] - before["cpu_user_seconds"],
        "cpu_system_seconds": now["cpu_system_seconds"] - before["cpu_system_seconds"],
        "peak_rss_mb": now["peak_rss_mb"],
    }
