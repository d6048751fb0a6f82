"""summary.md's tables, one function each: the columns and each finding's cells, from the analysis."""

from __future__ import annotations

from study import analysis, projection
from study.analysis import tables as analysis_tables
from study.config import StudyConfig
from study.report import words
from study.report.words import fmt, ratio_cell


def _markdown(columns: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)] + ["| " + " | ".join(row) + " |" for row in rows]


def _each_finding(result: analysis.Analysis) -> list:
    """(swept value, finding) for every finding, in sweep order then fastest first."""
    return [(value, f) for value in result.sweep_values for f in result.at(value)]


def _name(finding, value) -> str:
    return finding.strategy if value is None else f"{finding.strategy} @{value}"


def _interval(interval, digits=1) -> str:
    return f"{fmt(interval.estimate, digits)} [{fmt(interval.low, digits)}, {fmt(interval.high, digits)}]"


def full_epoch_table(result: analysis.Analysis) -> list[str]:
    """Per finding: its projected full-size epoch, its parts and comparisons, and why it is slower than the limit."""
    base = result.baseline
    columns = ["strategy", "projected epoch s [95% CI]", "in steps s", "boundary s", "boundary measured as",
               f"vs {base} (projected)", f"per step vs {base}", "per step vs limit", "CPU per step above the limit ms",
               "pipeline alone: CPU per batch ms", "step traced for", "page faults per step", "why slower than the limit"]
    return _markdown(columns, [
        [_name(f, value), _interval(f.projected_seconds), fmt(f.projected_steps_seconds), fmt(f.full_boundary.seconds, 2),
         f.full_boundary.source, ratio_cell(f.projected_vs_baseline), ratio_cell(f.steps_vs_baseline),
         ratio_cell(f.steps_vs_limit), fmt(f.extra_cpu_ms_per_step, 1), fmt(f.pipeline_cpu_ms_per_batch, 2),
         f.batch_shape or "-", fmt(f.page_faults_per_step, 0), f.regime]
        for value, f in _each_finding(result)
    ])


def probe_table(result: analysis.Analysis) -> list[str]:
    """The boundary probes at full age: between epochs, and fit's teardown at the end of a full-size fit."""
    probed = [(value, f) for value, f in _each_finding(result)
              if f.full_boundary is not None and f.full_boundary.source == projection.PROBED]
    teardowns = [(value, f) for value, f in _each_finding(result)
                 if f.full_boundary is not None and (f.full_boundary.teardown_probes or f.full_boundary.teardown.fits)]
    lines = _markdown(
        ["strategy", "short epochs' boundaries that waited idle", "full age to the next autotune wake-up s (median)",
         "probes", "probes that waited over 1 s", "destroying the used iterator s (median / largest)",
         "CPU busy while destroying", "next iterator + first batch s", "iterator age s", "probe CPU while holding s (largest)"],
        [[_name(f, value), f"{b.missed} of {b.boundaries}", fmt(b.miss_seconds, 1), str(b.probes), str(b.waits),
          f"{fmt(b.destroy_seconds[0], 2)} / {fmt(b.destroy_seconds[1], 2)}",
          words.share(b.destroy_busy_share), fmt(b.next_iterator_seconds, 2), fmt(b.age_seconds), fmt(b.hold_cpu_seconds, 2)]
         for value, f in probed for b in [f.full_boundary]],
    ) if probed else []
    if teardowns:
        lines += ([""] if lines else []) + _markdown(
            ["strategy: fit's teardown", "this study's fits whose teardown waited idle", "iterator's age at a full-size fit's end s",
             "autotune wake-ups there, s apart (median)",
             "a wait there s (kept iterator: the mean over that interval; else that age to the next wake-up)",
             "on average per full-size fit s",
             "one kept iterator: probes of fit's end (waited over 1 s)", "their own destruction s (median / largest)"],
            [[_name(f, value), f"{t.waits} of {t.fits}", fmt(t.age_seconds), fmt(t.interval_seconds, 0), fmt(t.miss_seconds, 1),
              fmt(t.seconds, 1),
              f"{b.teardown_probes} ({b.teardown_waits})" if b.teardown_probes else "-",
              f"{fmt(b.teardown_seconds[0], 2)} / {fmt(b.teardown_seconds[1], 2)}" if b.teardown_probes else "-"]
             for value, f in teardowns for b in [f.full_boundary] for t in [b.teardown]],
        )
    return lines


def probe_errors(study: analysis.Study) -> list[str]:
    """The strategies whose probe could not run, with why (their trials themselves are measured)."""
    errors = analysis_tables.probe_errors(study)
    return ["", "Not probed (the short epochs' own boundary stands in): " + "; ".join(
        f"`{name}` ({error})" for name, error in errors.items())] if errors else []


def boundary_table(result: analysis.Analysis) -> list[str]:
    """Per finding: its steady epoch, in steps and at its boundaries, the CPU over the waits, fit's teardown."""
    columns = ["strategy", "steady epoch s", "in steps s", "before first step s", "after last step s", "largest wait s",
               "CPU busy while waiting", "fit teardown s (once)"]
    return _markdown(columns, [
        [_name(f, value), fmt(b.epoch_seconds), fmt(b.in_steps_seconds), fmt(b.before_first_step_seconds, 2),
         fmt(b.after_last_step_seconds, 2), fmt(b.max_wait_seconds, 2), words.share(b.busy_share), fmt(b.teardown_seconds, 2)]
        for value, f in _each_finding(result) for b in [f.boundary]
    ])


def steady_table(result: analysis.Analysis, config: StudyConfig) -> list[str]:
    """Per finding: the measured steady epoch, throughput, regime and its ratios to the baseline and the limit; one
    table per swept value."""
    base = result.baseline
    columns = ["strategy", "blocks", "steady epoch s [95% CI]", "ex/s training", "ex/s pipeline alone", "regime",
               f"vs {base} (time)", f"vs {base} (CPU)", "vs limit (time)", "vs limit (CPU)", "val acc"]
    lines = []
    for value in result.sweep_values:
        if value is not None:
            lines += ["", f"**{config.sweep[0]} = {value}**", ""]
        lines += _markdown(columns, [
            [f.strategy, str(f.blocks), _interval(f.epoch_seconds), fmt(f.examples_per_second, 0),
             fmt(f.pipeline_examples_per_second, 0), f.regime, ratio_cell(f.vs_baseline), ratio_cell(f.cpu_vs_baseline),
             ratio_cell(f.vs_limit), ratio_cell(f.cpu_vs_limit), fmt(f.val_accuracy, 4)]
            for f in result.at(value)
        ])
    return lines


def where_the_time_goes(study: analysis.Study, order: list) -> list[str]:
    """Per strategy: step-time percentiles (steady epochs), the first step of each steady epoch (waiting for the
    first batch plus one step), time outside steps, the pipeline's own time to its first batch, and the trial's
    resources."""
    sweep = study.config.sweep
    columns = ["strategy", *(sweep[:1] if sweep else []), "step median ms", "p90 ms", "p99 ms", "first step of an epoch ms",
               "outside steps per epoch s (median / max)", "pipeline first batch ms", "trial wall s", "CPU user s",
               "CPU system s", "CPU utilisation", "peak RSS MB"]
    rows = []
    for row in analysis_tables.time_breakdown(study, order):
        median, p90, p99 = row.step_ms
        gap_median, gap_max = row.outside_seconds
        setting = [] if row.sweep_value is None else [str(row.sweep_value)]
        rows.append([row.strategy, *setting, fmt(median), fmt(p90), fmt(p99), fmt(row.first_step_ms),
                     f"{fmt(gap_median)} / {fmt(gap_max)}", fmt(row.pipeline_first_batch_ms), fmt(row.wall_seconds),
                     fmt(row.cpu_user_seconds), fmt(row.cpu_system_seconds), f"{row.cpu_utilisation:.2f} cores",
                     fmt(row.peak_rss_mb, 0)])
    return _markdown(columns, rows)
