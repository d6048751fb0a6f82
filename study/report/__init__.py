"""The report: seaborn plots (`plots`) and summary.md (`summary`), drawn from `study.analysis` alone, which
reads only the saved result files, so `--report-only` can redraw them without training."""

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
