"""summary.md: the answer in a sentence or two, the tables, the verdicts, the plots, the settings and the
environment, all worded from the analysis; no statistics here."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from study import analysis, budget, projection, results_files, schema, stats
from study.analysis import tables
from study.analysis.causes import regimes_across_sweep
from study.analysis.result import verdict_groups
from study.config import StudyConfig
from study.report import words
from study.schema import COMPUTE_BOUND


def _fmt(value, digits=1) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.{digits}f}"


def _ratio_cell(comparison) -> str:
    if comparison is None:
        return "-"
    r = comparison.ratio
    interval = "[too few blocks]" if math.isnan(r.low) else f"[{r.low:.3f}, {r.high:.3f}]"
    return f"{r.estimate:.3f} {interval}"


ANSWERING_PLOT = Path(schema.PLOTS[0]).stem  # the first plot answers the question
ANSWERING_CAPTION = "the full-size steady epoch per strategy: time in steps and at the boundary, with its 95% interval"
ANSWERING_LEGEND = (
    "*The epoch you train, per strategy (lower is faster): blue is the time in training steps (the full epoch's steps "
    "times the strategy's measured time per step), orange the wait at the epoch's boundary at a full epoch's age, the "
    "black dot the projected epoch with its 95% interval over blocks; the dashed line is the compute-bound limit - the "
    "model fed one ready batch over and over, which no feed can beat.*"
)

STALL_CAUSE = (
    "the likely cause: Keras' fit makes a new input iterator every epoch for a finite dataset, and destroying the "
    "used tf.data iterator waits, idle, for tf.data's autotune thread to wake up (benchmarks/iterator_teardown.py "
    "reproduces it without Keras)"
)


def _named(findings) -> str:
    return ", ".join(f"`{f.strategy}`" for f in findings)


def _answer(result: analysis.Analysis, config: StudyConfig) -> tuple[list[str], list[str]]:
    """The headline, for the user's epoch (the full setting), as (paragraphs above the answering plot, paragraphs
    below it): what is decided comes first - the strategy to use and the per-step verdicts - then the boundary
    at full age and one line per strategy on why it is slower than the limit and what to change. A strategy is
    called fastest only when its verdict is significant."""
    head, details = [], []
    base = result.baseline
    full = analysis.FullSetting.of(config)
    for value in result.sweep_values:
        findings = [f for f in result.at(value) if f.strategy != COMPUTE_BOUND]
        where = "" if value is None else f"At {config.sweep[0]} = {value}: "
        if not findings:
            head.append(f"{where}no strategy finished a trial, so there is no answer yet.")
            continue
        recommended = result.recommendations.get(value)
        opening = where + _setting_sentence(result.at(value), config, full.steps.get(value))
        recommendation = " " + _recommendation(recommended, base, findings) if recommended is not None else ""
        head.append(opening + recommendation + " " + _per_step_sentence(findings, base))
        boundary = _boundary_sentence(findings)
        why = _why_lines(result.at(value), where, result.diagnostics.get(value), config.batch_size)
        details += ([where + boundary] if boundary else []) + why
    if len(result.failures):
        head.append(f"**{len(result.failures)} trial(s) failed** and are listed below; their strategies' figures use the remaining trials.")
    return head, details


def _setting_sentence(findings, config: StudyConfig, steps: int) -> str:
    """What the headline is about: the full-size epoch, and how this study got at it."""
    blocks = max((f.blocks for f in findings), default=0)
    if not config.epochs_shortened:
        return f"For the epoch you train, measured in {_blocks(blocks)} of full-size epochs:"
    trained = math.ceil(config.limit * config.scale / config.batch_size)
    return (f"For the epoch you train - the whole training split, {steps:,} steps of {config.batch_size} - projected from "
            f"{_blocks(blocks)} of {trained:,}-step epochs (each strategy's time per step, times the full epoch's steps) "
            "plus each strategy's epoch boundary probed at a full epoch's age:")


def _blocks(count: int) -> str:
    return f"{count} block{'s' if count != 1 else ''}"


def _saving(comparison) -> str:
    """What the recommended strategy saves against one alternative, from `alternative / recommended`."""
    r = comparison.ratio
    if comparison.verdict in (stats.FASTER, stats.SLOWER):
        saving = lambda ratio: (1 - 1 / ratio) * 100  # noqa: E731 - share of the alternative's epoch saved
        return f"`{comparison.strategy}` {saving(r.estimate):+.0f}% [95% CI {saving(r.low):+.0f}% to {saving(r.high):+.0f}%]"
    if comparison.verdict == stats.EQUIVALENT:
        return f"`{comparison.strategy}` equivalent within ±{comparison.margin:.0%}"
    return f"`{comparison.strategy}` undecided"


def _recommendation(recommended, base: str, findings) -> str:
    """Use what the verdicts support: the baseline unless a strategy is significantly faster at full size; the
    decided comparisons first, the undecided ones named last."""
    name, against = recommended
    chosen = next(f for f in findings if f.strategy == name)
    epoch = chosen.projected_seconds
    head = (f"**Use `{name}`**" if name != base else f"**Keep `{name}`** (no alternative is significantly faster at full size)")
    head += f": projected steady epoch {_fmt(epoch.estimate)} s [95% CI {_fmt(epoch.low)}-{_fmt(epoch.high)}]."
    decided = [c for c in against if c.verdict != stats.UNDECIDED]
    undecided = [c for c in against if c.verdict == stats.UNDECIDED]
    if decided:
        head += " Epoch time it saves against each alternative: " + "; ".join(_saving(c) for c in sorted(
            decided, key=lambda c: -c.ratio.estimate)) + "."
    if undecided:
        head += f" Not yet told apart from it: {', '.join(f'`{c.strategy}`' for c in undecided)}."
    return head


def _per_step_sentence(findings, base: str) -> str:
    """The feed's own speed: each strategy's time per training step against the baseline's (boundaries out)."""
    compared = [f for f in findings if f.steps_vs_baseline is not None]
    if not compared:
        return f"Per training step: only `{base}` was measured."
    groups = {verdict: [f for f in compared if f.steps_vs_baseline.verdict == verdict]
              for verdict in (stats.EQUIVALENT, stats.FASTER, stats.SLOWER, stats.UNDECIDED)}
    decided = len(compared) - len(groups[stats.UNDECIDED])
    parts = []
    if groups[stats.EQUIVALENT]:
        parts.append(f"as fast as `{base}` (within ±{compared[0].steps_vs_baseline.margin:.0%}): {_named(groups[stats.EQUIVALENT])}")
    for verdict in (stats.FASTER, stats.SLOWER):
        if groups[verdict]:
            parts.append(f"{verdict}: " + ", ".join(
                f"`{f.strategy}` {_signed_percent(f.steps_vs_baseline.ratio)}" for f in sorted(
                    groups[verdict], key=lambda f: f.steps_vs_baseline.ratio.estimate)))
    if groups[stats.UNDECIDED]:
        parts.append(f"not yet decided: {_named(groups[stats.UNDECIDED])}")
    return f"Per training step, against `{base}` ({decided} of {len(compared)} decided): " + "; ".join(parts) + "."


def _signed_percent(ratio) -> str:
    return f"{(ratio.estimate - 1) * 100:+.0f}% [{(ratio.low - 1) * 100:+.0f}% to {(ratio.high - 1) * 100:+.0f}%]"


def _boundary_sentence(findings) -> str:
    """The wait at a full-size epoch's boundary, as measured (probes at full age, or full-size epochs)."""
    waiting = [f for f in findings if f.full_boundary is not None and analysis.WAITS_AT_BOUNDARY in f.causes]
    if not waiting:
        clean = [f for f in findings if f.full_boundary is not None]
        if not clean:
            return ""
        return ("At the boundary of a full-size epoch no strategy waits noticeably: "
                + ", ".join(f"`{f.strategy}` {f.full_boundary.seconds:.2f} s" for f in clean) + " per epoch."
                + _teardown_sentence(findings))
    described = []
    for f in sorted(waiting, key=lambda f: -f.full_boundary.seconds):
        b = f.full_boundary
        if b.source == projection.PROBED:
            busy = "" if math.isnan(b.destroy_busy_share) else f", {b.destroy_busy_share:.0%} busy"
            described.append(f"`{f.strategy}` {b.seconds:.1f} s per epoch ({b.waits} of {b.probes} probes waited, "
                             f"up to {b.destroy_seconds[1]:.1f} s{busy})")
        else:
            described.append(f"`{f.strategy}` {b.seconds:.1f} s per epoch ({b.source})")
    clean = [f for f in findings if f not in waiting and f.full_boundary is not None]
    sentence = ("**At the boundary of a full-size epoch**, fit waits: " + "; ".join(described) + f" - {STALL_CAUSE}.")
    if clean:
        sentence += " No noticeable wait: " + ", ".join(f"`{f.strategy}` ({f.full_boundary.seconds:.2f} s)" for f in clean) + "."
    return sentence + _teardown_sentence(findings)


def _teardown_sentence(findings) -> str:
    """Where a one-iterator strategy's wait went: once, when fit ends, probed at a full epoch's age."""
    probed = [f for f in findings if f.full_boundary is not None and f.full_boundary.teardown_probes]
    if not probed:
        return ""
    return (" Keeping one iterator moves the destruction to the end of fit, once per fit (probed after a fit of one "
            "full epoch): " + "; ".join(
                f"`{f.strategy}` {f.full_boundary.teardown_seconds[0]:.1f} s median, up to "
                f"{f.full_boundary.teardown_seconds[1]:.1f} s ({f.full_boundary.teardown_waits} of "
                f"{f.full_boundary.teardown_probes} waited)" for f in probed) + ".")


def _why_lines(findings, where: str = "", diagnostic=None, batch_size: int = 32) -> list[str]:
    """One line per strategy slower than the limit: the measured cause and what to change; first, what the
    limit's diagnostic measured, which the causes cite."""
    lines = [_diagnostic_line(diagnostic, findings, batch_size)] if diagnostic is not None else []
    for f in findings:
        if f.strategy == COMPUTE_BOUND or f.causes == (analysis.AT_LIMIT,):
            continue
        lines.append(f"- `{f.strategy}`: " + "; ".join(_cause_words(f, cause) for cause in f.causes) + ".")
    at_limit = [f for f in findings if f.strategy != COMPUTE_BOUND and f.causes == (analysis.AT_LIMIT,)]
    if at_limit:
        lines.append(f"- At the limit (steps not slower than the compute-bound limit's, no boundary wait): {_named(at_limit)}.")
    return ([f"{where}Why each strategy is slower than the compute-bound limit, measured in this study:"] + lines) if lines else []


def _diagnostic_line(diagnostic, findings, batch_size: int) -> str:
    """What the unknown batch size alone costs, measured in the limit's trials, which strategies it concerns, and
    what to change."""
    unknown = [f for f in findings if f.strategy != COMPUTE_BOUND and f.unknown_batch_size]
    static = [f for f in findings if f.strategy != COMPUTE_BOUND and f.batch_shape and not f.unknown_batch_size]
    steps, cpu = diagnostic.steps, diagnostic.cpu
    verdict = (f"steps {_signed_percent(steps.ratio)} longer, {_signed_percent(cpu.ratio)} CPU per step"
               if steps.blocks >= stats.MIN_BLOCKS else "too few blocks to tell")
    return (f"- Diagnostic, in every block's {COMPUTE_BOUND} trial: its own ready batches with their size made unknown "
            f"(the model's step traced for any batch size, as `batch()` without `drop_remainder` and every generator "
            f"leave it), fitted beside the same batches of static size: {verdict} ({steps.verdict}, {steps.blocks} "
            f"blocks). Steps traced for batches of unknown size: {_named(unknown) or 'none'}; of static size: "
            f"{_named(static) or 'none'}."
            + (f" To give batches a static size: `.batch({batch_size}, drop_remainder=True)` in tf.data, or the batch "
               f"size in a generator's `output_signature`, e.g. `tf.TensorSpec(({batch_size}, length), tf.int32)` (a "
               "partial last batch is then dropped)." if diagnostic.slows_steps else ""))


def _cause_words(f, cause: str) -> str:
    steps = f.steps_vs_limit
    if cause == analysis.INPUT_BOUND:
        return (f"input-bound: its pipeline alone delivers {_fmt(f.pipeline_examples_per_second, 0)} examples/s, less than "
                "the model consumes; do its work ahead of training, on more workers, or on other machines (tf.data service)")
    if cause == analysis.SHARING_CPU:
        return (f"slowed by sharing the CPU with training: its steps take {_signed_percent(steps.ratio)} longer than the "
                f"limit's although its pipeline alone needs only {_fmt(f.pipeline_cpu_ms_per_batch, 2)} ms of CPU per batch, "
                f"while each step costs {_fmt(f.extra_cpu_ms_per_step, 1)} ms more CPU than the limit's; feed whole ready "
                "batches (one permutation per epoch, one gather per batch: `tfdata-gather`) or do per-example work ahead")
    if cause == analysis.WAITS_AT_BOUNDARY:
        return (f"waits {f.full_boundary.seconds:.1f} s at each full-size epoch's boundary; give fit one iterator: end the "
                "pipeline in `.repeat()` and pass `steps_per_epoch` (`tfdata-repeat`, `tfdata-gather`)")
    if cause == analysis.UNKNOWN_BATCH:
        against = (f"its steps take {_signed_percent(steps.ratio)} longer than the limit's" if steps is not None and
                   steps.verdict == stats.SLOWER else "its steps are not yet told apart from the limit's")
        return (f"slowed by batches of unknown size (its step traced for {f.batch_shape}, the diagnostic above): "
                f"{against}, while its pipeline alone needs {_fmt(f.pipeline_cpu_ms_per_batch, 2)} ms of CPU per "
                "batch; give its batches a static size")
    if cause == analysis.UNDECIDED_STEPS:
        return "its steps are not yet told apart from the limit's (more blocks would decide)"
    return cause


def _usage_lines(result: analysis.Analysis) -> list[str]:
    """The few lines a user copies into their own fit call, for the strategy recommended."""
    from inputs import registry

    lines = []
    for value in result.sweep_values:
        recommended = result.recommendations.get(value)
        if recommended is None:
            continue
        code = registry.get(recommended[0]).usage()
        if code and code not in "".join(lines):
            lines += ["", f"## How to feed `fit` like `{recommended[0]}`", "", "```python", code.rstrip(), "```"]
    return lines


def _short_epoch_lines(result: analysis.Analysis) -> list[str]:
    """The measured epochs' own end-to-end verdicts, and their idle boundary waits, as what they are."""
    lines = []
    base = result.baseline
    for value in result.sweep_values:
        where = "" if value is None else f"At {value}: "
        compared = [f for f in result.at(value) if f.vs_baseline is not None]
        groups = verdict_groups(compared, "vs_baseline")
        if compared:
            parts = [f"{verdict} than `{base}`: {_named(groups[verdict])}" for verdict in (stats.FASTER, stats.SLOWER) if groups[verdict]]
            lines += [f"{where}End to end in these epochs: " + ("; ".join(parts) if parts else
                      f"no strategy differs significantly from `{base}`") + ".", ""]
        lines += [sentence + "\n" for sentence in _stall_sentences(result.at(value), where)]
    return lines


def _stall_sentences(findings, where: str) -> list[str]:
    """Say in words when epochs carry a large idle boundary wait, and which measured strategies avoid it."""
    stalled = [f for f in findings if f.boundary.is_large_idle_wait()]
    if not stalled:
        return []
    clean = [f for f in findings if f.strategy != COMPUTE_BOUND and not f.boundary.is_large_idle_wait()]
    sentences = []
    for f in stalled:
        b = f.boundary
        sentences.append(
            f"{where}**`{f.strategy}` waits {b.wait_seconds:.1f} s per steady epoch at the epoch boundary** (median; "
            f"up to {b.max_wait_seconds:.1f} s; {_fmt(b.before_first_step_seconds)} s before the first step), "
            f"{b.wait_seconds / b.epoch_seconds:.0%} of its {_fmt(b.epoch_seconds)} s epoch, with the process "
            f"{b.busy_share:.0%} busy: an idle wait, not input work. That is {STALL_CAUSE}."
        )
    if clean:
        avoided = ", ".join(f"`{f.strategy}` ({f.boundary.wait_seconds:.1f} s)" for f in clean)
        sentences.append(f"{where}Measured in the same blocks without that wait (boundary per steady epoch): {avoided}.")
    return sentences


def _full_epoch_table(result: analysis.Analysis) -> list[str]:
    base = result.baseline
    lines = [
        f"| strategy | projected epoch s [95% CI] | in steps s | boundary s | boundary measured as | vs {base} (projected) "
        f"| per step vs {base} | per step vs limit | CPU per step above the limit ms | pipeline alone: CPU per batch ms "
        "| step traced for | why slower than the limit |",
        "|" + "---|" * 12,
    ]
    for value in result.sweep_values:
        for f in result.at(value):
            name = f.strategy if value is None else f"{f.strategy} @{value}"
            p = f.projected_seconds
            lines.append(
                f"| {name} | {_fmt(p.estimate)} [{_fmt(p.low)}, {_fmt(p.high)}] | {_fmt(f.projected_steps_seconds)} "
                f"| {_fmt(f.full_boundary.seconds, 2)} | {f.full_boundary.source} | {_ratio_cell(f.projected_vs_baseline)} "
                f"| {_ratio_cell(f.steps_vs_baseline)} | {_ratio_cell(f.steps_vs_limit)} | {_fmt(f.extra_cpu_ms_per_step, 1)} "
                f"| {_fmt(f.pipeline_cpu_ms_per_batch, 2)} | {f.batch_shape or '-'} | {f.regime} |"
            )
    return lines


def _probe_table(result: analysis.Analysis) -> list[str]:
    rows = [(value, f) for value in result.sweep_values for f in result.at(value)
            if f.full_boundary is not None and f.full_boundary.source == projection.PROBED]
    teardowns = [(value, f) for value in result.sweep_values for f in result.at(value)
                 if f.full_boundary is not None and f.full_boundary.teardown_probes]
    if not rows and not teardowns:
        return []
    lines = [
        "| strategy | probes | waited over 1 s | destroying the used iterator s (median / largest) | CPU busy while "
        "destroying | next iterator + first batch s | iterator age s | probe CPU while holding s (largest) |",
        "|" + "---|" * 8,
    ] if rows else []
    for value, f in rows:
        b = f.full_boundary
        name = f.strategy if value is None else f"{f.strategy} @{value}"
        busy = "-" if math.isnan(b.destroy_busy_share) else f"{b.destroy_busy_share:.0%}"
        lines.append(
            f"| {name} | {b.probes} | {b.waits} | {_fmt(b.destroy_seconds[0], 2)} / {_fmt(b.destroy_seconds[1], 2)} | {busy} "
            f"| {_fmt(b.next_iterator_seconds, 2)} | {_fmt(b.age_seconds)} | {_fmt(b.hold_cpu_seconds, 2)} |"
        )
    if teardowns:
        lines += ([""] if lines else []) + ["| strategy (one iterator for all of fit) | probes of fit's end | waited over 1 s | destroying it s "
                  "(median / largest) |", "|---|---|---|---|"]
        for value, f in teardowns:
            b = f.full_boundary
            name = f.strategy if value is None else f"{f.strategy} @{value}"
            lines.append(f"| {name} | {b.teardown_probes} | {b.teardown_waits} | {_fmt(b.teardown_seconds[0], 2)} / "
                         f"{_fmt(b.teardown_seconds[1], 2)} |")
    return lines


def _probe_errors(study: analysis.Study) -> list[str]:
    """The strategies whose probe could not run, with why (their trials themselves are measured)."""
    trials = study.ok_trials
    if "probe_error" not in trials.columns:
        return []
    failed = trials[trials["probe_error"].notna() & (trials["probe_error"].astype(str).str.strip() != "")]
    return ["", "Not probed (the short epochs' own boundary stands in): " + "; ".join(
        f"`{name}` ({errors.iloc[0]})" for name, errors in failed.groupby("strategy")["probe_error"])] if len(failed) else []


def _boundary_table(result: analysis.Analysis, config: StudyConfig) -> list[str]:
    lines = [
        "| strategy | steady epoch s | in steps s | before first step s | after last step s | largest wait s "
        "| CPU busy while waiting | fit teardown s (once) |",
        "|" + "---|" * 8,
    ]
    for value in result.sweep_values:
        for f in result.at(value):
            b = f.boundary
            name = f.strategy if value is None else f"{f.strategy} @{value}"
            busy = "-" if math.isnan(b.busy_share) else f"{b.busy_share:.0%}"
            lines.append(
                f"| {name} | {_fmt(b.epoch_seconds)} | {_fmt(b.in_steps_seconds)} | {_fmt(b.before_first_step_seconds, 2)} "
                f"| {_fmt(b.after_last_step_seconds, 2)} | {_fmt(b.max_wait_seconds, 2)} | {busy} | {_fmt(b.teardown_seconds, 2)} |"
            )
    return lines


def _table(result: analysis.Analysis, config: StudyConfig) -> list[str]:
    base = result.baseline
    head = (
        "| strategy | blocks | steady epoch s [95% CI] | ex/s training | ex/s pipeline alone | regime | "
        f"vs {base} (time) | vs {base} (CPU) | vs limit (time) | vs limit (CPU) | val acc |"
    )
    lines = []
    for value in result.sweep_values:
        if value is not None:
            lines += ["", f"**{config.sweep[0]} = {value}**", ""]
        lines += [head, "|" + "---|" * 11]
        for f in result.at(value):
            e = f.epoch_seconds
            lines.append(
                f"| {f.strategy} | {f.blocks} | {_fmt(e.estimate)} [{_fmt(e.low)}, {_fmt(e.high)}] | {_fmt(f.examples_per_second, 0)} "
                f"| {_fmt(f.pipeline_examples_per_second, 0)} | {f.regime} | {_ratio_cell(f.vs_baseline)} | {_ratio_cell(f.cpu_vs_baseline)} "
                f"| {_ratio_cell(f.vs_limit)} | {_ratio_cell(f.cpu_vs_limit)} | {_fmt(f.val_accuracy, 4)} |"
            )
    return lines


def _where_the_time_goes(study: analysis.Study, order: list) -> list[str]:
    """Per strategy: step-time percentiles (steady epochs), the first step of each steady epoch (waiting for the
    first batch plus one step), time outside steps, the pipeline's own time to its first batch, and the trial's
    resources."""
    sweep = study.config.sweep
    setting = f" {sweep[0]} |" if sweep else ""
    lines = [
        f"| strategy |{setting} step median ms | p90 ms | p99 ms | first step of an epoch ms | outside steps per epoch s (median / max) "
        "| pipeline first batch ms | trial wall s | CPU user s | CPU system s | CPU utilisation | peak RSS MB |",
        "|" + "---|" * (13 if sweep else 12),
    ]
    for row in tables.time_breakdown(study, order):
        median, p90, p99 = row.step_ms
        gap_median, gap_max = row.outside_seconds
        lines.append(
            f"| {row.strategy} |{'' if row.sweep_value is None else f' {row.sweep_value} |'} {_fmt(median)} | {_fmt(p90)} "
            f"| {_fmt(p99)} | {_fmt(row.first_step_ms)} | {_fmt(gap_median)} / {_fmt(gap_max)} "
            f"| {_fmt(row.pipeline_first_batch_ms)} "
            f"| {_fmt(row.wall_seconds)} | {_fmt(row.cpu_user_seconds)} | {_fmt(row.cpu_system_seconds)} "
            f"| {row.cpu_utilisation:.2f} cores | {_fmt(row.peak_rss_mb, 0)} |"
        )
    return lines


def _verdicts(result: analysis.Analysis, config: StudyConfig) -> list[str]:
    lines = []
    for value in result.sweep_values:
        prefix = "" if value is None else f"[{config.sweep[0]} = {value}] "
        for f in result.at(value):
            for comparison, unit in ((f.projected_vs_baseline, "the projected full-size epoch"), (f.vs_baseline, "the measured epochs"),
                                     (f.steps_vs_baseline, "time in steps"), (f.steps_vs_limit, "time in steps"),
                                     (f.cpu_vs_baseline, "CPU time")):
                if comparison is not None:
                    lines.append(f"- {prefix}{words.comparison_sentence(comparison, unit)}")
    return lines


def _regime_lines(result: analysis.Analysis, config: StudyConfig) -> list[str]:
    if not config.sweep:
        return []
    lines = ["", "## Regimes across the sweep", ""]
    for strategy, regimes, crossover in regimes_across_sweep(result):
        words = ", ".join(f"{value}: {regime}" for value, regime in regimes)
        tail = f"; it changes regime at {config.sweep[0]} = {crossover}" if crossover is not None else ""
        lines.append(f"- **{strategy}**: {words}{tail}.")
    return lines


def _warmup_note(result: analysis.Analysis) -> str:
    steps = [f.warmup_steps for f in result.findings if not math.isnan(f.warmup_steps)]
    return f": warm-up took a median of {float(np.median(steps)):.0f} steps per trial" if steps else ""


def _budget_lines(study: analysis.Study, config: StudyConfig) -> list[str]:
    """How the budget was planned, what was cut, and how the study ended against it (plan.json)."""
    record = study.plan_record
    if not record:
        return []
    lines = ["", "## Plan and budget", ""]
    planned = None
    if "plan" in record:
        planned = budget.Plan(**{**record["plan"], "cuts": tuple(record["plan"]["cuts"])})
        calibration = record["calibration"]
        trials_per_block = (len(config.strategies) + 1) * len(config.sweep_values())
        lines += [f"Calibration on this machine: a trial costs {calibration['trial_overhead_seconds']:.0f} s outside its "
                  f"epochs and a training step {calibration['step_seconds'] * 1000:.1f} ms (one short `compute-bound` "
                  "trial).", "", planned.describe(trials_per_block)]
    else:
        lines += ["Epochs, blocks and data size were all set on the command line: nothing was planned."]
    ending = record.get("ending")
    if ending:
        minutes = ending["seconds_before_report"] / 60
        over = minutes - config.budget_minutes
        verdict = (f"over the {config.budget_minutes:g}-minute budget by {over:.1f} min" if over > 0
                   else f"within the {config.budget_minutes:g}-minute budget")
        lines += ["", f"The study ran {ending['blocks_run']} blocks and stopped because {ending['stopped']}; "
                  f"{minutes:.1f} min had passed before the report was drawn ({verdict})."]
        if over > 0 and planned is not None:
            lines[-1] += (" Trials took longer than calibrated (the machine was slower or busier than during the "
                          "calibration, or the settings you fixed cost more than the budget): compare trials.csv's "
                          f"wall_seconds with the planned {planned.trial_seconds:.0f} s per trial.")
        if ending.get("seconds_in_epochs") and ending["seconds_before_report"] > 0:
            share = ending["seconds_in_epochs"] / ending["seconds_before_report"]
            lines[-1] += (f" {ending['seconds_in_epochs'] / 60:.1f} min of it ({share:.0%}) were spent inside measured "
                          "epochs (warm-up epochs included); the rest went to starting processes, building the model, "
                          "evaluation, the pipeline-alone pass, the boundary probes' full-size draws and the calibration.")
    return lines


def write_summary(out: Path, study: analysis.Study, result: analysis.Analysis, plots: list, order: list) -> Path:
    config = study.config
    lines = ["# Input-pipeline study: which way of feeding `model.fit` is fastest?", ""]
    head, details = _answer(result, config)
    for paragraph in head:
        lines += [paragraph, ""]
    answering = next((path for path in plots if path.stem == ANSWERING_PLOT), None)
    if answering is not None:  # right under the answer: the picture of it, before any detail
        lines += [f"![{ANSWERING_CAPTION}]({answering.name})", "", ANSWERING_LEGEND, ""]
    for paragraph in filter(None, details):
        lines += [paragraph] if paragraph.startswith("- ") else [paragraph, ""]
    if details and details[-1].startswith("- "):
        lines.append("")
    lines += _usage_lines(result)
    lines += ["", "## The full-size epoch", "",
              "Per block, the projected steady epoch is the full epoch's steps times the trial's steady time per step, "
              "plus the boundary at full age: for a strategy whose fit makes a new input iterator every epoch, what its "
              "probe measured - the next epoch's iterator made and its first batch drawn on the whole training split, and "
              "the used iterator destroyed once it was as old as a full epoch lasts (study/boundary_probe.py); for one "
              "that keeps one iterator, its own epochs' boundary. Ratios are paired within blocks like every verdict "
              "here. *CPU per step above the limit* is the process CPU per training step minus the limit's in the same "
              "block; *pipeline alone* is the strategy's pipeline drawn with no model; *step traced for* is the input "
              "shape Keras traced the training step for (`?`: any batch size).", ""]
    lines += _full_epoch_table(result)
    probes = _probe_table(result) + _probe_errors(study)
    if probes:
        lines += ["", "## The boundary at a full epoch's age", "",
                  "Each probe held a used iterator, idle, until it was as old as a full epoch of its trial's pace, then "
                  "destroyed it, timed, with the process CPU over it (near 0%: idle waiting). Its CPU while holding shows "
                  "what it cost the trials it overlapped.", ""] + probes
    lines += ["", "## Measured at the shortened epoch" if config.epochs_shortened else "## Steady-state results", "",
              "Steady epochs are every epoch after the first of each trial (end to end, boundaries included); the time "
              "in steps is each trial's mean step after its warm-up, where the step times settle (MSER-5 on the "
              f"per-step times{_warmup_note(result)}). Ratios are paired within blocks (geometric mean over blocks); "
              "below 1 is faster. Their 95% intervals are t intervals over blocks at the level a sequential plan "
              "needs, so that looking after every block keeps the 5% error rate (Pocock's repeated t test; "
              f"study/stats.py). Verdicts: faster, slower, equivalent within ±{config.margin:.0%}, or undecided. "
              "Epoch times carry a 95% bootstrap interval. *Limit* is the compute-bound limit, `compute-bound`: "
              "the model fed one ready batch over and over."
              + (" These epochs are shorter than the one you train: their boundaries happen at the wrong age, so "
                 "their end-to-end figures answer for them only." if config.epochs_shortened else ""), ""]
    lines += _table(result, config)
    lines += [""] + _short_epoch_lines(result)
    lines += ["", "## Where the time goes", "",
              "Medians over trials; step times from steady epochs. *Outside steps* is an epoch's wall time minus the sum "
              "of its step times: time spent between epochs' batches rather than in training steps. CPU utilisation = "
              "(user + system) / wall time of the trial process; pipeline figures are the input pipeline alone, with no model.", ""]
    lines += _where_the_time_goes(study, order)
    lines += ["", "## Epoch boundaries", "",
              "A steady epoch's time in training steps against the waits at its boundaries (medians over steady epochs), "
              "the share of those waits the process spent on the CPU (near 0%: idle waiting, not input work), and fit's "
              "teardown after its last epoch (once per trial, outside every epoch). Keras makes a new input iterator "
              "every epoch for a finite dataset, and keeps one for all of fit when the data is endless and "
              "`steps_per_epoch` is given.", ""]
    lines += _boundary_table(result, config)
    lines += ["", "## Verdicts", ""] + _verdicts(result, config)
    lines += _regime_lines(result, config)
    lines += _budget_lines(study, config)
    if len(result.failures):
        lines += ["", "## Failed trials", "", "| strategy | block | setting | status | error |", "|---|---|---|---|---|"]
        for row in result.failures.itertuples():
            setting = "" if row.sweep_value is None else row.sweep_value
            lines.append(f"| {row.strategy} | {row.repeat} | {setting} | {row.status} | {str(row.error).replace('|', '/')} |")
    lines += ["", "## More plots", ""] + [f"![{path.stem}]({path.name})" for path in plots if path.stem != ANSWERING_PLOT]
    lines += ["", "## Settings", "", "| setting | value |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in config.measured_settings().items()]
    finished = f"{len(study.ok_trials)} of {len(study.trials)} ({tables.trial_minutes(study):.1f} min of trial time)"
    lines += [f"| trials finished | {finished} |"]
    lines += ["", "## Environment", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in study.environment.items()]
    path = out / "summary.md"
    results_files.write_atomic(path, "\n".join(lines) + "\n")
    return path


def write_failures_summary(out: Path, study: analysis.Study) -> Path:
    """summary.md for a study in which no trial finished: each failure and its cause, the settings and the
    environment - so that a study that measured nothing still says why."""
    failures = study.trials[study.trials["status"] != "ok"]
    lines = ["# Input-pipeline study: no trial finished", "",
             f"All {len(failures)} trial(s) failed, so there is nothing to compare; each one and its cause below. "
             "Fix the cause and rerun the same command with --resume (finished trials are kept).", "",
             "## Failed trials", "", "| strategy | block | setting | status | error |", "|---|---|---|---|---|"]
    for row in failures.itertuples():
        setting = "" if row.sweep_value is None or row.sweep_value != row.sweep_value else row.sweep_value
        lines.append(f"| {row.strategy} | {row.repeat} | {setting} | {row.status} | {str(row.error).replace('|', '/')} |")
    lines += ["", "## Settings", "", "| setting | value |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in study.config.measured_settings().items()]
    lines += ["", "## Environment", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in study.environment.items()]
    path = out / "summary.md"
    results_files.write_atomic(path, "\n".join(lines) + "\n")
    return path
