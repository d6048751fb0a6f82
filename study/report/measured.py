"""The measured epochs in words: their end-to-end verdicts and idle boundary waits, every verdict as a sentence,
the regimes across a sweep, the warm-up."""

from __future__ import annotations

import math

from study import analysis, stats
from study.analysis.causes import regimes_across_sweep
from study.analysis.result import verdict_groups
from study.config import StudyConfig
from study.report import words
from study.report.why import STALL_CAUSE
from study.schema import COMPUTE_BOUND


def short_epoch_lines(result: analysis.Analysis) -> list[str]:
    """The measured epochs' own end-to-end verdicts, and their idle boundary waits, as what they are."""
    lines = []
    base = result.baseline
    for value in result.sweep_values:
        where = "" if value is None else f"At {value}: "
        compared = [f for f in result.at(value) if f.vs_baseline is not None]
        groups = verdict_groups(compared, "vs_baseline")
        if compared:
            parts = [f"{verdict} than `{base}`: {words.named(groups[verdict])}" for verdict in (stats.FASTER, stats.SLOWER) if groups[verdict]]
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
            f"up to {b.max_wait_seconds:.1f} s; {words.fmt(b.before_first_step_seconds)} s before the first step), "
            f"{b.wait_seconds / b.epoch_seconds:.0%} of its {words.fmt(b.epoch_seconds)} s epoch, with the process "
            f"{b.busy_share:.0%} busy: an idle wait, not input work. That is {STALL_CAUSE}."
        )
    if clean:
        avoided = ", ".join(f"`{f.strategy}` ({f.boundary.wait_seconds:.1f} s)" for f in clean)
        sentences.append(f"{where}Measured in the same blocks without that wait (boundary per steady epoch): {avoided}.")
    return sentences


def verdict_lines(result: analysis.Analysis, config: StudyConfig) -> list[str]:
    """Every comparison of every finding as a sentence, one list item each."""
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


def setting_effect_lines(result: analysis.Analysis, config: StudyConfig) -> list[str]:
    """A sweep's section: each strategy's steps and CPU per step at every swept value against its own at the first."""
    if not result.setting_effects:
        return []
    name = config.sweep[0]
    lines = ["", f"## What {name} itself does", "",
             "Each strategy against itself at the first value, paired within blocks: its steady time per training step "
             "and its process CPU per training step (boundaries left out).", ""]
    for effect in result.setting_effects:
        for comparison, unit in ((effect.steps, "time in steps"), (effect.cpu, "CPU per step")):
            lines.append(f"- {words.comparison_sentence(comparison, unit)}")
    return lines


def regime_lines(result: analysis.Analysis, config: StudyConfig) -> list[str]:
    """A sweep's section: each strategy's regime at each swept value, and where it changes."""
    if not config.sweep:
        return []
    lines = ["", "## Regimes across the sweep", ""]
    for strategy, regimes, crossover in regimes_across_sweep(result):
        by_value = ", ".join(f"{value}: {regime}" for value, regime in regimes)
        tail = f"; it changes regime at {config.sweep[0]} = {crossover}" if crossover is not None else ""
        lines.append(f"- **{strategy}**: {by_value}{tail}.")
    return lines


def warmup_note(result: analysis.Analysis) -> str:
    steps = result.median_warmup_steps
    return "" if math.isnan(steps) else f": warm-up took a median of {steps:.0f} steps per trial"
