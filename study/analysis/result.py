"""A study's Analysis: per swept value, every strategy's Finding (fastest first), the strategy to use for the
full setting with each alternative compared with it, and the limit's diagnostic; the failed trials.

The baseline is `arrays` (the reference study's `fit`) when the study has it, else its first listed strategy.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from study import schema, stats
from study.analysis import causes as why
from study.analysis.deciding import deciding
from study.analysis.epochs import with_step_times
from study.analysis.files import Study
from study.analysis.findings import Context, finding
from study.analysis.full_size import FullSetting, probe_table, projected
from study.analysis.setting_effects import setting_effects
from study.schema import COMPUTE_BOUND

BASELINE = "arrays"


def baseline_of(strategies) -> str:
    return BASELINE if BASELINE in strategies else strategies[0]


@dataclasses.dataclass(frozen=True)
class Recommendation:
    """What to use for the full setting, and how sure: the baseline unless an alternative is significantly faster
    with all the alternatives counted (the choice is of the best-looking among them: study/stats.py)."""

    strategy: str
    against: list  # every other strategy compared with it end to end (ratio = alternative / it), each at 95%
    alternatives: int  # strategies compared with the baseline to choose
    switch: stats.Comparison | None = None  # when not the baseline: it against the baseline, family-wise
    faster_alone: list = dataclasses.field(default_factory=list)  # faster than the baseline on their own 95% only


@dataclasses.dataclass(frozen=True)
class Analysis:
    """A study analysed: its findings, failed trials, baseline, recommendations and the limit's diagnostics."""

    findings: list  # Finding, in sweep order then fastest first
    failures: pd.DataFrame  # trials that failed or timed out
    baseline: str
    recommendations: dict = dataclasses.field(default_factory=dict)  # sweep_value -> Recommendation
    diagnostics: dict = dataclasses.field(default_factory=dict)  # sweep_value -> the limit's Diagnostic (or None)
    deciding: dict = dataclasses.field(default_factory=dict)  # sweep_value -> what would decide its open per-step verdicts (or None)
    setting_effects: list = dataclasses.field(default_factory=list)  # SettingEffect: the swept setting's own effect

    def at(self, sweep_value) -> list:
        return [finding for finding in self.findings if schema.same_sweep_value(finding.sweep_value, sweep_value)]

    @property
    def sweep_values(self) -> list:
        return list(dict.fromkeys(finding.sweep_value for finding in self.findings))

    @property
    def median_warmup_steps(self) -> float:
        """The median over findings of their trials' warm-up steps (MSER-5); nan when none is known."""
        steps = [f.warmup_steps for f in self.findings if not math.isnan(f.warmup_steps)]
        return float(np.median(steps)) if steps else math.nan

    def strategy_order(self) -> list:
        """Fastest first, the limit last."""
        return [*dict.fromkeys(f.strategy for f in self.findings if f.strategy != COMPUTE_BOUND), COMPUTE_BOUND]


def analyse_study(study: Study) -> Analysis:
    """`analyse` with everything the study's own files say: its config, steps, probes and statistics plan."""
    config = study.config
    return analyse(
        study.results, study.trials, baseline_of(config.strategies), seed=config.seed, steps=study.steps,
        planned_blocks=config.planned_blocks, margin=config.margin, boundary=study.boundary,
        full=FullSetting.of(config), plan_record=study.plan_record,
    )


def analyse(
    results: pd.DataFrame, trials: pd.DataFrame, baseline: str, seed: int = 0, steps=None,
    planned_blocks: int | None = None, margin: float = stats.MARGIN, boundary: pd.DataFrame | None = None,
    full: FullSetting | None = None, plan_record: dict | None = None,
) -> Analysis:
    """`steps` (steps.csv) adds the time in steps to every epoch and each trial's steady step time; without
    it, an epoch's steps are its whole time. `planned_blocks` and `margin` are the study's (StudyConfig): the
    statistics' last planned look and the equivalence margin. `boundary` (boundary.csv) and `full` give the
    projected full-size epoch (study/projection.py); without `full` the epochs measured count as full-size.
    `plan_record` (plan.json) gives the study's pace, for what would decide the open per-step verdicts."""
    results = with_step_times(results, steps)
    statistics = {"planned_blocks": planned_blocks, "margin": margin}
    trials = schema.normalize_sweep_column(trials)
    ok_trials = trials[trials["status"] == schema.OK]
    probes = probe_table(boundary)
    steady = schema.steady(results)
    findings, recommendations, diagnostics, open_steps = [], {}, {}, {}
    for value in sorted(set(results["sweep_value"]), key=schema.sweep_order):
        at_value = schema.rows_at(steady, value)
        trials_at = schema.rows_at(ok_trials, value)
        blocks = sorted(at_value["repeat"].unique())
        limit = at_value[at_value["strategy"] == COMPUTE_BOUND]
        model_rate = float(limit["examples_per_second"].median()) if not limit.empty else math.nan
        full_steps = full.steps.get(value) if full is not None else None
        shortened = full.shortened if full is not None else False
        projections = {
            strategy: projected(rows, trials_at, schema.rows_at(probes, value), strategy, full_steps, shortened)
            for strategy, rows in at_value.groupby("strategy", sort=False)
        }
        diagnostics[value] = why.diagnostic(trials_at[trials_at["strategy"] == COMPUTE_BOUND], blocks, statistics)
        context = Context(at_value, trials_at, blocks, model_rate, baseline, seed, statistics, projections, diagnostics[value])
        found = [finding(strategy, value, rows, context) for strategy, rows in at_value.groupby("strategy", sort=False)]
        findings += found
        recommendations[value] = _recommend(found, context)
        open_comparisons = [f.steps_vs_baseline for f in found if f.steps_vs_baseline is not None
                            and f.steps_vs_baseline.verdict == stats.UNDECIDED]
        open_steps[value] = deciding(open_comparisons, len(blocks), plan_record)
    findings.sort(key=lambda f: (*schema.sweep_order(f.sweep_value), _sort_seconds(f)))
    failures = trials[trials["status"] != schema.OK]
    return Analysis(findings, failures, baseline, recommendations, diagnostics, open_steps, setting_effects(steady, statistics))


def _sort_seconds(finding) -> float:
    """Fastest first: by the projected full-size epoch, else by the measured one."""
    projected_seconds = finding.projected_seconds
    if projected_seconds is not None and not math.isnan(projected_seconds.estimate):
        return projected_seconds.estimate
    return finding.epoch_seconds.estimate


def _recommend(findings, context: Context) -> Recommendation | None:
    """What to use for the full setting: the strategy with the shortest projected epochs among the baseline and
    those significantly faster than it there with every alternative counted (family-wise: so the baseline unless
    the verdicts say otherwise), with every other strategy compared with it; None when the baseline was not measured."""
    by_name = {f.strategy: f for f in findings if f.strategy != COMPUTE_BOUND}
    if context.baseline not in by_name:
        return None
    alternatives = [name for name in by_name if name != context.baseline]
    confidence = stats.familywise_confidence(len(alternatives))
    switches = {name: context.compare_projected(name, context.baseline, confidence) for name in alternatives}
    faster = {name for name, c in switches.items() if c is not None and c.verdict == stats.FASTER}
    chosen = min([by_name[context.baseline]] + [by_name[name] for name in faster], key=_sort_seconds).strategy
    against = [context.compare_projected(name, chosen) for name in by_name if name != chosen]
    faster_alone = [by_name[name].projected_vs_baseline for name in alternatives if name not in faster
                    and by_name[name].projected_vs_baseline is not None
                    and by_name[name].projected_vs_baseline.verdict == stats.FASTER]
    return Recommendation(chosen, [c for c in against if c is not None], len(alternatives), switches.get(chosen),
                          sorted(faster_alone, key=lambda c: c.ratio.estimate))


def verdict_groups(findings, comparison: str) -> dict:
    """The findings whose `comparison` (a Finding field, e.g. "vs_baseline") is faster, slower: faster ones
    by their ratio, the largest gain first."""
    decided = [f for f in findings if getattr(f, comparison) is not None]
    return {
        stats.FASTER: sorted(
            (f for f in decided if getattr(f, comparison).verdict == stats.FASTER),
            key=lambda f: getattr(f, comparison).ratio.estimate,
        ),
        stats.SLOWER: [f for f in decided if getattr(f, comparison).verdict == stats.SLOWER],
    }
