"""summary.md: the answer in a sentence or two, the tables, the verdicts, the plots, the settings and the
environment, all worded from the analysis; no statistics here."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from study import analysis, budget, results_files, stats
from study.config import StudyConfig
from study.schema import COMPUTE_BOUND


def _fmt(value, digits=1) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.{digits}f}"


def _ratio_cell(comparison) -> str:
    if comparison is None:
        return "-"
    r = comparison.ratio
    interval = "[too few blocks]" if math.isnan(r.low) else f"[{r.low:.3f}, {r.high:.3f}]"
    return f"{r.estimate:.3f} {interval}"


STALL_CAUSE = (
    "the likely cause: Keras' fit makes a new input iterator every epoch for a finite dataset, and destroying the "
    "used tf.data iterator waits, idle, for tf.data's autotune thread to wake up (benchmarks/iterator_teardown.py "
    "reproduces it without Keras)"
)


def _named(findings) -> str:
    return ", ".join(f"`{f.strategy}`" for f in findings)


def _answer(result: analysis.Analysis, config: StudyConfig) -> list[str]:
    """The headline: a strategy is called fastest only when its verdict against the baseline is significant, and
    two questions stay apart - what a steady epoch costs end to end, and how fast the feed trains (its steps)."""
    lines = []
    base = result.baseline
    for value in result.sweep_values:
        findings = [f for f in result.at(value) if f.strategy != COMPUTE_BOUND]
        where = "" if value is None else f"At {config.sweep[0]} = {value}: "
        if not findings:
            lines.append(f"{where}no strategy finished a trial, so there is no answer yet.")
            continue
        compared = [f for f in findings if f.vs_baseline is not None]
        end_to_end = analysis.verdict_groups(compared, "vs_baseline")
        faster, slower = end_to_end[stats.FASTER], end_to_end[stats.SLOWER]
        if faster:
            best = faster[0]
            sentence = (f"{where}End to end, **{best.strategy}** has the shortest steady epochs "
                        f"({_fmt(best.epoch_seconds.estimate)} s): {best.vs_baseline.sentence()}.")
            if len(faster) > 1:
                sentence += f" Also significantly faster than `{base}`: {_named(faster[1:])}."
        elif compared:
            sentence = f"{where}End to end, no strategy is significantly faster than `{base}` per steady epoch."
        else:
            sentence = f"{where}Only `{base}` was measured; there is nothing to compare it with."
        if slower:
            sentence += f" Significantly slower than `{base}`: {_named(slower)}."
        in_steps = analysis.verdict_groups(compared, "steps_vs_baseline")
        step_faster, step_slower = in_steps[stats.FASTER], in_steps[stats.SLOWER]
        if compared:
            sentence += " In training steps alone (epoch boundaries left out): "
            if not step_faster and not step_slower:
                sentence += f"no strategy differs significantly from `{base}`."
            else:
                parts = ([f"faster than `{base}`: {_named(step_faster)}"] if step_faster else []) + (
                    [f"slower: {_named(step_slower)}"] if step_slower else [])
                sentence += "; ".join(parts) + "."
        sentence += _recommendation(result.recommendations.get(value), base)
        input_bound = [f.strategy for f in findings if f.regime == analysis.INPUT_BOUND]
        if input_bound:
            sentence += f" Input-bound (the pipeline alone is slower than the model consumes): {', '.join(input_bound)}."
        else:
            sentence += " Every strategy's pipeline alone outruns the model: the run is compute-bound."
        lines.append(sentence)
        lines += _stall_sentences(result.at(value), where)
    if len(result.failures):
        lines.append(f"**{len(result.failures)} trial(s) failed** and are listed below; their strategies' figures use the remaining trials.")
    return lines


def _saving(comparison) -> str:
    """What the recommended strategy saves against one alternative, from `alternative / recommended`."""
    r = comparison.ratio
    if comparison.verdict in (stats.FASTER, stats.SLOWER):
        saving = lambda ratio: (1 - 1 / ratio) * 100  # noqa: E731 - share of the alternative's epoch saved
        return f"`{comparison.strategy}` {saving(r.estimate):+.0f}% [95% CI {saving(r.low):+.0f}% to {saving(r.high):+.0f}%]"
    if comparison.verdict == stats.EQUIVALENT:
        return f"`{comparison.strategy}` equivalent within ±{comparison.margin:.0%}"
    return f"`{comparison.strategy}` undecided"


def _recommendation(recommended, base: str) -> str:
    """Use what the verdicts support: the baseline unless a strategy is significantly faster end to end."""
    if recommended is None:
        return ""
    name, against = recommended
    if not against:
        return ""
    if name == base:
        head = f" **Keep `{name}`**: no alternative is significantly faster end to end."
    else:
        head = f" **Use `{name}` on this machine.**"
    return head + " Epoch time it saves against each alternative: " + "; ".join(_saving(c) for c in against) + "."


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
    for row in analysis.time_breakdown(study, order):
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
            for comparison, unit in ((f.vs_baseline, ""), (f.steps_vs_baseline, "time in steps"), (f.cpu_vs_baseline, "CPU time")):
                if comparison is not None:
                    lines.append(f"- {prefix}{comparison.sentence(unit)}")
    return lines


def _regime_lines(result: analysis.Analysis, config: StudyConfig) -> list[str]:
    if not config.sweep:
        return []
    lines = ["", "## Regimes across the sweep", ""]
    for strategy, regimes, crossover in analysis.regimes_across_sweep(result):
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
    return lines


def write_summary(out: Path, study: analysis.Study, result: analysis.Analysis, plots: list, order: list) -> Path:
    config = study.config
    lines = ["# Input-pipeline study: which way of feeding `model.fit` is fastest?", ""]
    for paragraph in _answer(result, config):
        lines += [paragraph, ""]
    lines += ["## Steady-state results", "",
              "Steady epochs are every epoch after the first of each trial (end to end, boundaries included); the time "
              "in steps is each trial's mean step after its warm-up, where the step times settle (MSER-5 on the "
              f"per-step times{_warmup_note(result)}). Ratios are paired within blocks (geometric mean over blocks); "
              "below 1 is faster. Their 95% intervals are t intervals over blocks at the level a sequential plan "
              "needs, so that looking after every block keeps the 5% error rate (Pocock's repeated t test; "
              f"study/stats.py). Verdicts: faster, slower, equivalent within ±{config.margin:.0%}, or undecided. "
              "Epoch times carry a 95% bootstrap interval. *Limit* is the compute-bound limit, `compute-bound`: "
              "the model fed one ready batch over and over.", ""]
    lines += _table(result, config)
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
    lines += ["", "## Plots", ""] + [f"![{path.stem}]({path.name})" for path in plots]
    lines += ["", "## Settings", "", "| setting | value |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in config.measured_settings().items()]
    finished = f"{len(study.ok_trials)} of {len(study.trials)} ({analysis.trial_minutes(study):.1f} min of trial time)"
    lines += [f"| trials finished | {finished} |"]
    lines += ["", "## Environment", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in study.environment.items()]
    path = out / "summary.md"
    results_files.write_atomic(path, "\n".join(lines) + "\n")
    return path
