"""summary.md: the answer in a sentence or two, the tables, the verdicts, the plots, the settings and the
environment, all worded from the analysis; no statistics here."""

from __future__ import annotations

import math
from pathlib import Path

from study import analysis, results_files
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


def _answer(result: analysis.Analysis, config: StudyConfig) -> list[str]:
    lines = []
    for value in result.sweep_values:
        findings = [f for f in result.at(value) if f.strategy != COMPUTE_BOUND]
        where = "" if value is None else f"At {config.sweep[0]} = {value}: "
        if not findings:
            lines.append(f"{where}no strategy finished a trial, so there is no answer yet.")
            continue
        best = findings[0]
        sentence = f"{where}**{best.strategy}** is the fastest strategy, {_fmt(best.epoch_seconds.estimate)} s per steady epoch"
        if best.vs_limit is not None:
            limit = best.vs_limit.ratio
            overhead = (limit.estimate - 1) * 100
            interval = " (one block: no interval)" if math.isnan(limit.low) else f" (95% CI {limit.low:.3f}-{limit.high:.3f})"
            sentence += f", {limit.estimate:.3f}{interval} times the compute-bound limit (input overhead {overhead:+.1f}%)"
        sentence += "."
        if best.vs_baseline is not None:
            sentence += f" Against the baseline `{result.baseline}`: {best.vs_baseline.sentence()}."
        others = [f for f in findings[1:] if f.vs_baseline is not None]
        decided = [f for f in others if f.vs_baseline.verdict != "no significant difference"]
        if others and not decided:
            sentence += f" No other strategy differs significantly from `{result.baseline}` in epoch time."
        input_bound = [f.strategy for f in findings if f.regime == analysis.INPUT_BOUND]
        if input_bound:
            sentence += f" Input-bound (the pipeline alone is slower than the model consumes): {', '.join(input_bound)}."
        else:
            sentence += " Every strategy's pipeline alone outruns the model: the run is compute-bound."
        noisy = result.noise_above_effects(value)
        if noisy:
            noise, smallest = noisy
            sentence += (
                f" Caution: the compute-bound limit's own epochs varied by {noise * 100:.1f}% within a trial, more than "
                f"the smallest gap reported ({smallest * 100:.1f}%); gaps below that noise are called no significant difference."
            )
        lines.append(sentence)
    if len(result.failures):
        lines.append(f"**{len(result.failures)} trial(s) failed** and are listed below; their strategies' figures use the remaining trials.")
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
    large = analysis.large_outside_steps(study)
    if large:
        listed = "; ".join(f"{name} up to {gap:.1f} s of a {epoch:.1f} s median epoch" for name, gap, epoch in large)
        lines += ["", f"Some epochs spent a large share of their wall time outside training steps: {listed}. That time "
                  "is not in any step, so the strategy's step times, not its epoch times, show its training speed; "
                  "where results.csv has `before_first_step_seconds` and `after_last_step_seconds`, they say where it fell."]
    return lines


def _verdicts(result: analysis.Analysis, config: StudyConfig) -> list[str]:
    lines = []
    for value in result.sweep_values:
        prefix = "" if value is None else f"[{config.sweep[0]} = {value}] "
        for f in result.at(value):
            for comparison, unit in ((f.vs_baseline, ""), (f.cpu_vs_baseline, "CPU time")):
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


def write_summary(out: Path, study: analysis.Study, result: analysis.Analysis, plots: list, order: list) -> Path:
    config = study.config
    lines = ["# Input-pipeline study: which way of feeding `model.fit` is fastest?", ""]
    lines += _answer(result, config)
    lines += ["", "## Steady-state results", "",
              "Steady epochs are every epoch after the first of each trial. Ratios are paired within blocks (geometric mean "
              "over blocks, 95% Student t interval over blocks); below 1 is faster. Epoch times carry a 95% bootstrap interval. *Limit* is the compute-bound limit, `compute-bound`: "
              "the model fed one ready batch over and over.", ""]
    lines += _table(result, config)
    lines += ["", "## Where the time goes", "",
              "Medians over trials; step times from steady epochs. *Outside steps* is an epoch's wall time minus the sum "
              "of its step times: time spent between epochs' batches rather than in training steps. CPU utilisation = "
              "(user + system) / wall time of the trial process; pipeline figures are the input pipeline alone, with no model.", ""]
    lines += _where_the_time_goes(study, order)
    lines += ["", "## Verdicts", ""] + _verdicts(result, config)
    lines += _regime_lines(result, config)
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
