"""The report: seaborn plots (`plots`) and summary.md (`summary`), drawn from `study.analysis` alone, which
reads only the saved result files, so `--report-only` can redraw them without training."""

from __future__ import annotations

from pathlib import Path

from study import analysis
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
    plots = [
        draw.plot_full_epoch(result.findings, order, config, max(full.steps.values()), out / "full_epoch.png"),
        draw.plot_epoch_time(results, order, config, out / "epoch_time.png"),
        draw.plot_boundaries(result.findings, order, config, out / "boundaries.png"),
        draw.plot_step_time(study.steps, order, config, out / "step_time.png"),
        draw.plot_throughput(result.findings, order, config, out / "throughput.png"),
        draw.plot_resources(ok, order, config, out / "resources.png"),
        draw.plot_accuracy(ok, order, config, out / "accuracy.png"),
        draw.plot_timeline(results, order, config, out / "timeline.png"),
    ]
    if config.sweep:
        plots.append(draw.plot_scaling(result.findings, order, config, out / "scaling.png"))
        if config.sweep[0] == "scale":
            plots.append(draw.plot_memory_scaling(ok, order, config, out / "memory_scaling.png"))
    return plots + [write_summary(out, study, result, plots, order)]
