"""The result files and their columns, and the rules derived from them, each written once.

- results.csv: one row per (strategy, repeat, epoch) of a finished trial;
- steps.csv: one row per training step;
- trials.csv: one row per trial, written last: it marks the trial finished (status ok) or failed;
- boundary.csv: one row per epoch boundary probed at the full epoch's age (study/boundary_probe.py), written when
  the probe ends, after its trial's row;
- config.json, environment.json: the settings (as planned) and the machine;
- plan.json: how the budget was planned (calibration, prediction) and how the study ended (blocks, time).

A trial is keyed by (repeat, strategy, sweep value); the sweep value is None in a study without a sweep,
whatever a CSV reader made of the empty cell. The first epoch of every trial is the warm-up (tracing,
buffers): it is kept and labelled, and left out of the steady-state figures.
"""

from __future__ import annotations

from inputs.compute_bound import NAME as COMPUTE_BOUND  # the limit, measured in every block

RESULTS = "results.csv"
STEPS = "steps.csv"
TRIALS = "trials.csv"
CONFIG = "config.json"
ENVIRONMENT = "environment.json"
PLAN = "plan.json"
BOUNDARY = "boundary.csv"
STUDY_FILES = (RESULTS, STEPS, TRIALS, BOUNDARY, CONFIG, ENVIRONMENT, PLAN)

# An epoch's boundary: the wait before its first step and after its last, each with the process CPU over it.
BOUNDARY_COLUMNS = (
    "before_first_step_seconds", "before_first_step_cpu_seconds", "after_last_step_seconds", "after_last_step_cpu_seconds",
)
# The input shape the model's step was traced for ("?x80": batch size unknown), and a strategy's diagnostic
# (inputs.base.FeedStrategy.diagnostic): what it changes, and its steps beside the strategy's own fitted again.
DIAGNOSTIC_COLUMNS = (
    "batch_shape", "diagnostic", "diagnostic_step_seconds", "diagnostic_cpu_seconds_per_step",
    "diagnostic_reference_step_seconds", "diagnostic_reference_cpu_seconds_per_step", "diagnostic_seconds",
)
RESULT_COLUMNS = [
    "strategy", "repeat", "sweep", "sweep_value", "epoch", "warmup", "started_at", "epoch_seconds",
    "cpu_seconds", "steps", "examples", "examples_per_second", "loss", "accuracy", "val_loss", "val_accuracy",
    *BOUNDARY_COLUMNS, "minor_faults",
]
STEP_COLUMNS = ["strategy", "repeat", "sweep_value", "epoch", "step", "step_seconds"]
TRIAL_COLUMNS = [
    "strategy", "repeat", "sweep", "sweep_value", "position", "status", "error", "started_at", "wall_seconds",
    "cpu_user_seconds", "cpu_system_seconds", "peak_rss_mb", "parameters", "val_loss", "val_accuracy",
    "pipeline_first_batch_seconds", "pipeline_examples", "pipeline_seconds", "fit_teardown_seconds",
    "fit_teardown_cpu_seconds", "pipeline_cpu_seconds", "pipeline_batches", "new_iterator_each_epoch", "probe_error",
    *DIAGNOSTIC_COLUMNS, "mmap_threshold_fixed", "intra_op_threads",
]
# A boundary at full age - where fit destroys the used iterator (each epoch boundary, at one full epoch's age, or the
# end of a full-size fit for a strategy that keeps one, at its FULL_FIT_EPOCHS epochs' age) - the used iterator's age
# when destroyed and what destroying it took (wall, and process CPU: near 0 = idle waiting), the next epoch's
# iterator made and its first batch drawn at the full data size, the probe's own CPU over its idle hold (what it cost the trials it overlapped), and from the full age to
# the iterator's autotune thread's next wake-up (the wait of a boundary there that misses it; empty if not seen), and
# from its wake-up before the full age to that age (to within a second; with the next, the interval they wake at there).
BOUNDARY_PROBE_COLUMNS = [
    "strategy", "repeat", "sweep_value", "destroyed_at", "full_steps", "target_age_seconds", "age_seconds", "destroy_seconds",
    "destroy_cpu_seconds", "next_iterator_seconds", "next_iterator_cpu_seconds", "drain_seconds", "hold_cpu_seconds",
    "next_wakeup_seconds", "previous_wakeup_seconds",
]
# The columns a file must have to be read at all.
REQUIRED = {
    RESULTS: ["strategy", "repeat", "epoch", "epoch_seconds"],
    STEPS: ["strategy", "repeat", "epoch", "step_seconds"],
    TRIALS: ["strategy", "repeat", "status"],
    BOUNDARY: ["strategy", "repeat", "destroy_seconds"],
}
COLUMNS = {RESULTS: RESULT_COLUMNS, STEPS: STEP_COLUMNS, TRIALS: TRIAL_COLUMNS, BOUNDARY: BOUNDARY_PROBE_COLUMNS}

# What a row must hold to be read back: the values every row has (the trial's key and its measurement), and
# the columns that hold numbers when they hold anything. A row failing these (a cut line, a damaged file) is
# left out with a warning and its trial rerun by --resume (study.results_files).
REQUIRED_VALUES = {
    RESULTS: ["strategy", "repeat", "epoch", "epoch_seconds", "cpu_seconds", "steps", "examples"],
    STEPS: ["strategy", "repeat", "epoch", "step", "step_seconds"],
    TRIALS: ["strategy", "repeat", "status"],
    BOUNDARY: ["strategy", "repeat", "age_seconds", "destroy_seconds", "next_iterator_seconds"],
}
INTEGER_COLUMNS = frozenset({
    "repeat", "sweep_value", "epoch", "steps", "examples", "step", "position", "parameters", "pipeline_examples",
    "pipeline_batches", "full_steps", "minor_faults", "intra_op_threads",
})
TEXT_COLUMNS = frozenset({
    "strategy", "sweep", "status", "error", "warmup", "new_iterator_each_epoch", "destroyed_at", "probe_error", "batch_shape",
    "diagnostic", "mmap_threshold_fixed",
})
POSITIVE_COLUMNS = frozenset({"epoch_seconds", "repeat", "epoch", "steps", "examples", "step"})  # > 0 when present

# The report's files (study.report writes exactly these; tests/test_damaged_files.py checks it). With
# STUDY_FILES and the logs folder they are everything a study writes into --out, and all a new study moves
# into archive/ - nothing else of the folder is touched.
SUMMARY = "summary.md"
# The plots, in the order the summary shows them: the first answers the question.
FULL_EPOCH_PLOT = "full_epoch.png"
EPOCH_TIME_PLOT = "epoch_time.png"
BOUNDARIES_PLOT = "boundaries.png"
STEP_TIME_PLOT = "step_time.png"
THROUGHPUT_PLOT = "throughput.png"
RESOURCES_PLOT = "resources.png"
ACCURACY_PLOT = "accuracy.png"
TIMELINE_PLOT = "timeline.png"
SCALING_PLOT = "scaling.png"  # a study with --sweep
MEMORY_SCALING_PLOT = "memory_scaling.png"  # a study with --sweep scale
PLOTS = (FULL_EPOCH_PLOT, EPOCH_TIME_PLOT, BOUNDARIES_PLOT, STEP_TIME_PLOT, THROUGHPUT_PLOT, RESOURCES_PLOT, ACCURACY_PLOT,
         TIMELINE_PLOT)
SWEEP_PLOTS = (SCALING_PLOT,)
SCALE_SWEEP_PLOTS = (MEMORY_SCALING_PLOT,)
LOGS = "logs"
WRITTEN_FILES = (*STUDY_FILES, SUMMARY, *PLOTS, *SWEEP_PLOTS, *SCALE_SWEEP_PLOTS)

# What the child reports per epoch that goes into results.csv as it is.
EPOCH_FIELDS = ("epoch", "started_at", "epoch_seconds", "cpu_seconds", "steps", "examples", "loss", "accuracy", *BOUNDARY_COLUMNS,
                "minor_faults")
# What the child reports at the end that goes into trials.csv.
TRIAL_FIELDS = (
    "parameters", "val_loss", "val_accuracy", "pipeline_first_batch_seconds", "pipeline_examples", "pipeline_seconds",
    "fit_teardown_seconds", "fit_teardown_cpu_seconds", "pipeline_cpu_seconds", "pipeline_batches",
    "new_iterator_each_epoch", "probe_error", *DIAGNOSTIC_COLUMNS, "mmap_threshold_fixed", "intra_op_threads",
)

# A trial's status in trials.csv: finished, failed (an error, a signal, a dead service), or ended by its time-out.
OK = "ok"
FAILED = "failed"
TIMEOUT = "timeout"
DAMAGED = "damaged"  # given on reading to a trial marked ok whose rows elsewhere are damaged (study.results_files)
WARMUP_EPOCH = 1


def plots_drawn(sweep: str | None) -> tuple[str, ...]:
    """The plots of a study whose --sweep sets `sweep` (None: no sweep), in the summary's order."""
    if sweep is None:
        return PLOTS
    return PLOTS + SWEEP_PLOTS + (SCALE_SWEEP_PLOTS if sweep == "scale" else ())


def is_warmup(epoch) -> bool:
    return int(epoch) == WARMUP_EPOCH


def steady(table):
    """The rows of epochs after the warm-up; every row when there are none (one-epoch studies)."""
    after = table[table["epoch"] > WARMUP_EPOCH]
    return after if len(after) else table


def sweep_value(value):
    """A sweep value as the study keys it: an int, or None for "no sweep" (None, "", NaN)."""
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return None
    return int(value)


def same_sweep_value(a, b) -> bool:
    return sweep_value(a) == sweep_value(b)


def sweep_order(value) -> tuple:
    """Sort key: the swept values in order, "no sweep" last."""
    return (value is None, value or 0)


def normalize_sweep_column(table):
    """The table with a `sweep_value` column of ints or None (missing column: None everywhere)."""
    table = table.copy()
    table["sweep_value"] = [sweep_value(value) for value in table.get("sweep_value", [None] * len(table))]
    return table


def rows_at(table, value):
    """The rows of one swept value (None: the study has no sweep)."""
    if not len(table):
        return table
    return table[[same_sweep_value(row_value, value) for row_value in table["sweep_value"]]]


def trial_key(repeat, strategy, value) -> tuple:
    return (int(repeat), strategy, sweep_value(value))


def finished_keys(trials) -> set:
    """The keys of the trials trials.csv marks ok."""
    return {
        trial_key(repeat, strategy, value)
        for repeat, strategy, value, status in zip(
            trials["repeat"], trials["strategy"], trials.get("sweep_value", [None] * len(trials)), trials["status"]
        )
        if status == OK
    }


def of_finished_trials(table, keys: set):
    """The rows of `table` that belong to a finished trial (a crash may leave rows of an unfinished one)."""
    if not len(table):
        return table
    values = table.get("sweep_value", [None] * len(table))
    return table[[trial_key(r, s, v) in keys for r, s, v in zip(table["repeat"], table["strategy"], values)]]
