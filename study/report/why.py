"""Why each strategy's epoch is longer than the limit's, in words: one line per strategy from the causes the
analysis measured (study/analysis/causes.py), what to change, and the limit's diagnostic they cite."""

from __future__ import annotations

import math

from study import analysis, stats
from study.report import words
from study.schema import COMPUTE_BOUND

STALL_CAUSE = (
    "the cause: Keras' fit makes a new input iterator every epoch for a finite dataset, and destroying the "
    "used tf.data iterator often waits, idle, until tf.data's autotune thread next wakes - up to a minute apart in an "
    "old iterator (benchmarks/probe_order.py: the waits end at those wake-ups; benchmarks/iterator_teardown.py "
    "reproduces them without Keras)"
)


def why_lines(findings, where: str = "", diagnostic=None, batch_size: int = 32) -> list[str]:
    """One line per strategy slower than the limit: the measured cause and what to change; first, what the
    limit's diagnostic measured, which the causes cite."""
    lines = [_diagnostic_line(diagnostic, findings, batch_size)] if diagnostic is not None else []
    only_undecided = [f for f in findings if f.strategy != COMPUTE_BOUND and f.causes == (analysis.UNDECIDED_STEPS,)]
    for f in findings:
        if f.strategy == COMPUTE_BOUND or f.causes == (analysis.AT_LIMIT,) or f in only_undecided:
            continue
        lines.append(f"- `{f.strategy}`: " + "; ".join(_cause_words(f, cause, findings) for cause in f.causes) + ".")
    if only_undecided:  # one line for all: the same words thirteen times would hide the lines that say something
        lines.append("- Steps not yet told apart from the limit's (more blocks would decide), and no other cause "
                     f"measured: {words.named(only_undecided)}.")
    at_limit = [f for f in findings if f.strategy != COMPUTE_BOUND and f.causes == (analysis.AT_LIMIT,)]
    if at_limit:
        lines.append(f"- At the limit (steps not slower than the compute-bound limit's, no boundary wait): {words.named(at_limit)}.")
    return ([f"{where}Why each strategy is slower than the compute-bound limit, measured in this study:"] + lines) if lines else []


def _diagnostic_line(diagnostic, findings, batch_size: int) -> str:
    """What the unknown batch size alone costs, measured in the limit's trials, which strategies it concerns, and
    what to change."""
    unknown = [f for f in findings if f.strategy != COMPUTE_BOUND and f.unknown_batch_size]
    static = [f for f in findings if f.strategy != COMPUTE_BOUND and f.batch_shape and not f.unknown_batch_size]
    steps, cpu = diagnostic.steps, diagnostic.cpu
    verdict = (f"steps {words.signed_percent(steps.ratio)} longer, {words.signed_percent(cpu.ratio)} CPU per step"
               if steps.blocks >= stats.MIN_BLOCKS else "too few blocks to tell")
    return (f"- Diagnostic, in every block's {COMPUTE_BOUND} trial: its own ready batches with their size made unknown "
            f"(the model's step traced for any batch size, as `batch()` without `drop_remainder` and every generator "
            f"leave it), fitted beside the same batches of static size: {verdict} ({steps.verdict}, {steps.blocks} "
            f"blocks). Steps traced for batches of unknown size: {words.named(unknown) or 'none'}; of static size: "
            f"{words.named(static) or 'none'}."
            + (f" To give batches a static size: `.batch({batch_size}, drop_remainder=True)` in tf.data, or the batch "
               f"size in a generator's `output_signature`, e.g. `tf.TensorSpec(({batch_size}, length), tf.int32)` (a "
               "partial last batch is then dropped)." if diagnostic.slows_steps else ""))


def restoring_strategy() -> str | None:
    """The registered strategy that sets malloc's mmap threshold back after from_generator (its code is the fix)."""
    from inputs import registry

    return next((name for name, strategy in registry.strategies().items() if strategy.restores_mmap_threshold_of), None)


def slowed_by_fixed_threshold(findings) -> list:
    """The findings slowed by memory faulted in again whose fits left malloc's mmap threshold fixed low."""
    return [f for f in findings if analysis.REFAULTS in f.causes and f.mmap_threshold_fixed]


def _refaults_words(f, findings) -> str:
    """Its steps slower than the limit's while it faults far more pages per step; why, when its trials recorded that
    its fit left malloc's mmap threshold fixed low; and what the fix measured in this study, if it ran."""
    limit = next((other for other in findings if other.strategy == COMPUTE_BOUND), None)
    limit_faults = words.fmt(limit.page_faults_per_step, 0) if limit is not None else "-"
    said = (f"slowed by memory faulted in again every step: its steps take {words.signed_percent(f.steps_vs_limit.ratio)} longer "
            f"than the limit's and fault {words.fmt(f.page_faults_per_step, 0)} pages each (the limit's: {limit_faults})")
    if not f.mmap_threshold_fixed:
        return said + "; a process that hands freed memory back to the kernel pays for it again at the next step"
    restoring = restoring_strategy()
    fixed = next((other for other in findings if other.strategy == restoring), None)
    measured = ""
    if fixed is not None and fixed.steps_vs_unrestored is not None:
        against = fixed.steps_vs_unrestored
        measured = (f" - `{restoring}` does so in this study: {words.fmt(fixed.page_faults_per_step, 0)} faults per step, "
                    f"and its steps against `{against.baseline}`'s in the same blocks {words.signed_percent(against.ratio)} "
                    f"({against.verdict})")
    return (said + "; its fit left glibc malloc's mmap threshold fixed low - Keras feeds it through tf.data's "
            "`from_generator`, which sets the threshold to 128 KiB, so every large tensor is mapped afresh and faulted in "
            "each step (benchmarks/generator_malloc.py); set it back once fit has built the dataset, with the callback "
            f"shown below{measured}")


def _cause_words(f, cause: str, findings=()) -> str:
    steps = f.steps_vs_limit
    if cause == analysis.INPUT_BOUND:
        return (f"input-bound: its pipeline alone delivers {words.fmt(f.pipeline_examples_per_second, 0)} examples/s, less than "
                "the model consumes; do its work ahead of training, on more workers, or on other machines (tf.data service)")
    if cause == analysis.SHARING_CPU:
        return (f"slowed by sharing the CPU with training: its steps take {words.signed_percent(steps.ratio)} longer than the "
                f"limit's although its pipeline alone needs only {words.fmt(f.pipeline_cpu_ms_per_batch, 2)} ms of CPU per batch, "
                f"while each step costs {words.fmt(f.extra_cpu_ms_per_step, 1)} ms more CPU than the limit's; feed whole ready "
                "batches (one permutation per epoch, one gather per batch: `tfdata-gather`) or do per-example work ahead")
    if cause == analysis.WAITS_AT_BOUNDARY:
        b = f.full_boundary
        how_often = (f" ({b.missed} of {b.boundaries} boundaries waited, {b.miss_seconds:.1f} s each at full age)"
                     if b.boundaries and not math.isnan(b.miss_seconds) else "")
        return (f"waits {b.seconds:.1f} s per full-size epoch at its boundary, on average{how_often}; give fit one "
                "iterator: end the pipeline in `.repeat()` and pass `steps_per_epoch` (`tfdata-repeat`, `tfdata-gather`)")
    if cause == analysis.UNKNOWN_BATCH:
        pipeline = f"its pipeline alone needs {words.fmt(f.pipeline_cpu_ms_per_batch, 2)} ms of CPU per batch"
        if steps is not None and steps.verdict == stats.SLOWER:
            return (f"slowed by batches of unknown size (its step traced for {f.batch_shape}, the diagnostic above): its "
                    f"steps take {words.signed_percent(steps.ratio)} longer than the limit's, while {pipeline}; give its "
                    "batches a static size")
        # Its own steps are not told apart from the limit's: the cost is the diagnostic's, not seen in its own steps.
        return (f"its step is traced for batches of unknown size ({f.batch_shape}), which slows the limit's own steps "
                f"(the diagnostic above), though its own steps are not yet told apart from the limit's and {pipeline}; "
                "give its batches a static size")
    if cause == analysis.REFAULTS:
        return _refaults_words(f, findings)
    if cause == analysis.UNDECIDED_STEPS:
        return "its steps are not yet told apart from the limit's (more blocks would decide)"
    return cause
