"""The report, drawn and written from `study.analysis` alone, which reads only the saved result files, so
`--report-only` can redraw it without training. Nothing here computes a statistic.

    plots.py     the seaborn plots, each from an analysis table
    summary.py   summary.md: its sections in order
    answer.py    the answer at the top: what to use, the per-step verdicts, the boundary, how to feed fit
    why.py       why each strategy is slower than the limit, and what to change
    measured.py  the measured epochs in words: end-to-end verdicts, idle waits, every verdict, the regimes
    tables.py    summary.md's tables
    record.py    how the study ran: plan and budget, failed trials, settings, environment
    words.py     how numbers are worded: figures, ratios, percentages, a verdict as a sentence
"""

from __future__ import annotations

from pathlib import Path

from study import analysis, schema
from study.report import plots as draw
from study.report.summary import write_failures_summary, write_summary
from study.results_files import ResultsError


def build(out: Path) -> list[Path]:
    """All plots and summary.md from the files in `out`; returns the paths written."""
    out = Path(out)
    study = analysis.load(out)
    if study.results.empty and not study.trials.empty:  # every trial failed: say which and why
        return [write_failures_summary(out, study)]
    if study.results.empty:
        raise ResultsError(f"{out} holds no finished trial yet: nothing to report")
    config, results, ok = study.config, study.results, study.ok_trials
    result = analysis.analyse_study(study)
    order = result.strategy_order()
    full = analysis.FullSetting.of(config)
    draws = {
        schema.FULL_EPOCH_PLOT: lambda path: draw.plot_full_epoch(result.findings, order, config, max(full.steps.values()), path),
        schema.EPOCH_TIME_PLOT: lambda path: draw.plot_epoch_time(results, result.findings, order, config, path),
        schema.BOUNDARIES_PLOT: lambda path: draw.plot_boundaries(result.findings, order, config, path),
        schema.STEP_TIME_PLOT: lambda path: draw.plot_step_time(study.steps, order, config, path),
        schema.THROUGHPUT_PLOT: lambda path: draw.plot_throughput(result.findings, order, config, path),
        schema.RESOURCES_PLOT: lambda path: draw.plot_resources(ok, order, config, path),
        schema.ACCURACY_PLOT: lambda path: draw.plot_accuracy(ok, order, config, path),
        schema.TIMELINE_PLOT: lambda path: draw.plot_timeline(results, order, config, path),
        schema.SCALING_PLOT: lambda path: draw.plot_scaling(result.findings, order, config, path),
        schema.MEMORY_SCALING_PLOT: lambda path: draw.plot_memory_scaling(ok, order, config, path),
    }
    plots = [draws[name](out / name) for name in schema.plots_drawn(config.sweep[0] if config.sweep else None)]
    return plots + [write_summary(out, study, result, plots, order)]
