"""Seaborn plots and summary.md, built from the saved results files alone (so `--report-only` can redraw them).

Every file is written to a temporary name and renamed, so an interrupted report never leaves half a PNG.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from study import analysis, results_files, stats  # noqa: E402
from study.analysis import REFERENCE  # noqa: E402
from study.config import StudyConfig  # noqa: E402
from study.results_files import RESULTS, STEPS, TRIALS, ResultsError  # noqa: E402

SWEEP_LABELS = {
    "preprocess-cost": "extra preprocessing per example (µs)",
    "scale": "corpus size (copies of the training split)",
    "service-workers": "tf.data service workers",
}


def _save(figure, path: Path) -> Path:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    results_files.write_atomic(path, buffer.getvalue())
    return path


def _strategy_order(findings) -> list:
    """Fastest first, the reference last."""
    seen = []
    for finding in findings:
        if finding.strategy not in seen and finding.strategy != REFERENCE:
            seen.append(finding.strategy)
    return seen + [REFERENCE]


def _sweep_title(config: StudyConfig) -> str:
    return f" ({config.sweep[0]} sweep)" if config.sweep else ""


# --- plots -----------------------------------------------------------------------------------------------


def plot_epoch_time(results, order, config, path) -> Path:
    results = results.assign(kind=np.where(results["warmup"].astype(bool), "first epoch (warm-up)", "steady epoch"))
    values = [None] if not config.sweep else sorted(results["sweep_value"].dropna().unique())
    figure, axes = plt.subplots(1, len(values), figsize=(max(7, 4.2 * len(values)), 4.6), squeeze=False, sharey=True)
    for axis, value in zip(axes[0], values):
        rows = results if value is None else results[results["sweep_value"] == value]
        steady = rows[rows["kind"] == "steady epoch"]
        present = [name for name in order if name in set(rows["strategy"])]
        sns.boxplot(data=steady, y="strategy", x="epoch_seconds", order=present, color="#dddddd", showfliers=False, ax=axis)
        sns.stripplot(
            data=rows, y="strategy", x="epoch_seconds", order=present, hue="kind",
            hue_order=["steady epoch", "first epoch (warm-up)"], palette=["#1f77b4", "#ff7f0e"],
            jitter=0.2, size=5, ax=axis,
        )
        limit = steady.loc[steady["strategy"] == REFERENCE, "epoch_seconds"]
        if len(limit):
            axis.axvline(limit.median(), color="#2ca02c", linestyle="--", label="compute-bound limit (median)")
        axis.set_xlabel("epoch time (s)")
        axis.set_ylabel("")
        if value is not None:
            axis.set_title(f"{config.sweep[0]} = {value:g}")
        handles, labels = axis.get_legend_handles_labels()
        axis.get_legend().remove()
    figure.legend(handles, labels, loc="lower center", ncol=3, fontsize=8, bbox_to_anchor=(0.5, -0.06))
    figure.suptitle(f"Epoch time per feed strategy{_sweep_title(config)} - lower is faster")
    return _save(figure, path)


BOUNDARY_PARTS = (  # (Boundary attribute, legend label, colour): the stacked pieces of one steady epoch
    ("in_steps_seconds", "in training steps", "#4c72b0"),
    ("before_first_step_seconds", "waiting before the first step", "#dd8452"),
    ("after_last_step_seconds", "after the last step", "#c44e52"),
    ("other_seconds", "between steps (callbacks, Keras' loop)", "#bbbbbb"),
)


def plot_boundaries(findings, order, config, path) -> Path:
    """Each strategy's median steady epoch split into time in steps and time at the epoch's boundaries, with
    fit's one-off teardown beside it: a long boundary is a stall, not the feed's speed."""
    rows = []
    for f in findings:
        b = f.boundary
        label = f.strategy if f.sweep_value is None else f"{f.strategy} @{f.sweep_value:g}"
        parts = {name: getattr(b, name) for name, _, _ in BOUNDARY_PARTS if name != "other_seconds"}
        parts = {name: (0.0 if math.isnan(value) else value) for name, value in parts.items()}
        parts["other_seconds"] = max(0.0, b.epoch_seconds - sum(parts.values()))
        rows.append({"label": label, "strategy": f.strategy, "teardown": b.teardown_seconds, **parts})
    table = pd.DataFrame(rows)
    rank = {name: index for index, name in enumerate(order)}
    table = table.sort_values("label", key=lambda labels: [rank.get(s, len(rank)) for s in table["strategy"]], kind="stable")
    figure, (axis, teardown_axis) = plt.subplots(
        1, 2, figsize=(11, 0.5 * len(table) + 2.2), sharey=True, gridspec_kw={"width_ratios": [3, 1]}
    )
    left = np.zeros(len(table))
    for name, label, colour in BOUNDARY_PARTS:
        axis.barh(table["label"], table[name], left=left, color=colour, label=label)
        left += table[name].to_numpy(float)
    axis.invert_yaxis()
    axis.set_xlabel("median steady epoch (s)")
    axis.set_title("Where a steady epoch's time goes")
    axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
    teardown_axis.barh(table["label"], table["teardown"].fillna(0.0), color="#8172b3")
    teardown_axis.set_xlabel("fit's teardown after the last epoch (s)")
    teardown_axis.set_title("once per trial")
    figure.suptitle(f"Epoch boundaries: time in steps vs waiting at the boundary{_sweep_title(config)}")
    return _save(figure, path)


def plot_step_time(steps, order, config, path) -> Path:
    steps = steps[steps["epoch"] > 1] if (steps["epoch"] > 1).any() else steps
    figure, axis = plt.subplots(figsize=(8, 4.6))
    present = [name for name in order if name in set(steps["strategy"])]
    sns.ecdfplot(data=steps, x="step_seconds", hue="strategy", hue_order=present, log_scale=True, ax=axis)
    axis.set_xlabel("training step time (s, log scale)")
    axis.set_ylabel("fraction of steps at most this long")
    axis.set_title(f"Step-time distribution (steady epochs){_sweep_title(config)}")
    return _save(figure, path)


def plot_throughput(findings, order, config, path) -> Path:
    rows = []
    for finding in findings:
        rows.append({"strategy": finding.strategy, "measure": "in training", "rate": finding.examples_per_second, "value": finding.sweep_value})
        if not math.isnan(finding.pipeline_examples_per_second):
            rows.append({"strategy": finding.strategy, "measure": "input pipeline alone", "rate": finding.pipeline_examples_per_second, "value": finding.sweep_value})
    table = pd.DataFrame(rows)
    figure, axis = plt.subplots(figsize=(8.5, 4.6))
    if config.sweep:
        table["strategy"] = table["strategy"] + " @" + table["value"].map(lambda v: f"{v:g}")
        present = list(dict.fromkeys(table["strategy"]))
    else:
        present = [name for name in order if name in set(table["strategy"])]
    sns.barplot(data=table, y="strategy", x="rate", hue="measure", order=present, hue_order=["in training", "input pipeline alone"], ax=axis)
    axis.set_xscale("log")
    axis.set_xlabel("examples per second (log scale)")
    axis.set_ylabel("")
    axis.set_title("Input capacity vs what the model consumes\n(a pipeline slower than the compute-bound rate makes training input-bound)")
    return _save(figure, path)


def plot_resources(trials, order, config, path) -> Path:
    trials = trials.assign(cpu_seconds=trials["cpu_user_seconds"] + trials["cpu_system_seconds"])
    present = [name for name in order if name in set(trials["strategy"])]
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    for axis, column, label in (
        (axes[0], "peak_rss_mb", "peak resident memory of the trial process (MB)"),
        (axes[1], "cpu_seconds", "CPU seconds of the trial process (user + system)"),
    ):
        sns.barplot(data=trials, y="strategy", x=column, order=present, color="#9ecae1", errorbar=None, ax=axis)
        sns.stripplot(data=trials, y="strategy", x=column, order=present, color="#08519c", size=5, ax=axis)
        axis.set_xlabel(label)
        axis.set_ylabel("")
    figure.suptitle(f"Resources per trial (bar = mean, dots = trials){_sweep_title(config)}")
    return _save(figure, path)


def plot_accuracy(trials, order, config, path) -> Path:
    present = [name for name in order if name in set(trials["strategy"])]
    figure, axis = plt.subplots(figsize=(8, 4.2))
    sns.stripplot(data=trials, y="strategy", x="val_accuracy", order=present, size=7, color="#6a3d9a", ax=axis)
    axis.set_xlabel("validation accuracy after the last epoch")
    axis.set_ylabel("")
    axis.set_title("Every strategy trains the same model: final validation accuracy per trial")
    return _save(figure, path)


def plot_timeline(results, order, config, path) -> Path:
    start = results["started_at"].min()
    table = results.assign(
        minutes=(results["started_at"] - start) / 60,
        kind=np.where(results["warmup"].astype(bool), "first epoch", "steady epoch"),
    )
    present = [name for name in order if name in set(table["strategy"])]
    figure, axis = plt.subplots(figsize=(10, 4.6))
    sns.scatterplot(data=table, x="minutes", y="epoch_seconds", hue="strategy", hue_order=present, style="kind",
                    style_order=["steady epoch", "first epoch"], s=45, ax=axis)
    axis.set_xlabel("minutes since the study started")
    axis.set_ylabel("epoch time (s)")
    axis.set_title("Timeline: did the machine's pace change during the study? (compute-bound should be flat)")
    axis.legend(fontsize=8, bbox_to_anchor=(1.01, 1), loc="upper left")
    return _save(figure, path)


def plot_scaling(findings, order, config, path) -> Path:
    table = pd.DataFrame(
        [{"strategy": f.strategy, "value": f.sweep_value, "seconds": f.epoch_seconds.estimate, "low": f.epoch_seconds.low, "high": f.epoch_seconds.high} for f in findings]
    )
    figure, axis = plt.subplots(figsize=(8.5, 4.8))
    for strategy in [name for name in order if name in set(table["strategy"])]:
        rows = table[table["strategy"] == strategy].sort_values("value")
        style = {"linestyle": "--", "color": "black"} if strategy == REFERENCE else {}
        axis.errorbar(rows["value"], rows["seconds"], yerr=[rows["seconds"] - rows["low"], rows["high"] - rows["seconds"]],
                      marker="o", capsize=3, label=strategy + (" (limit)" if strategy == REFERENCE else ""), **style)
    axis.set_xlabel(SWEEP_LABELS.get(config.sweep[0], config.sweep[0]))
    axis.set_ylabel("median steady epoch time (s)")
    axis.set_title("Steady epoch time vs the swept setting (bars: 95% interval)")
    if min(table["value"]) > 0 and max(table["value"]) / max(min(table["value"]), 1) >= 10:
        axis.set_xscale("log")
    axis.legend(fontsize=8)
    return _save(figure, path)


def plot_memory_scaling(trials, order, config, path) -> Path:
    present = [name for name in order if name in set(trials["strategy"]) and name != REFERENCE]
    trials = trials[trials["strategy"].isin(present)]
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    sns.lineplot(data=trials, x="sweep_value", y="peak_rss_mb", hue="strategy", hue_order=present, marker="o", ax=axes[0])
    sns.lineplot(data=trials, x="sweep_value", y="pipeline_first_batch_seconds", hue="strategy", hue_order=present, marker="o", ax=axes[1])
    axes[0].set_ylabel("peak resident memory (MB)")
    axes[1].set_ylabel("time to the first batch, pipeline alone (s)")
    for axis in axes:
        axis.set_xlabel(SWEEP_LABELS["scale"])
    figure.suptitle("Memory and start-up vs corpus size: in-memory strategies grow, streaming ones stay flat")
    return _save(figure, path)


# --- summary.md ------------------------------------------------------------------------------------------


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
        findings = [f for f in result.at(value) if f.strategy != REFERENCE]
        where = "" if value is None else f"At {config.sweep[0]} = {value}: "
        if not findings:
            lines.append(f"{where}no strategy finished a trial, so there is no answer yet.")
            continue
        compared = [f for f in findings if f.vs_baseline is not None]
        faster = sorted((f for f in compared if f.vs_baseline.verdict == stats.FASTER), key=lambda f: f.vs_baseline.ratio.estimate)
        slower = [f for f in compared if f.vs_baseline.verdict == stats.SLOWER]
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
        step_faster = [f for f in compared if f.steps_vs_baseline is not None and f.steps_vs_baseline.verdict == stats.FASTER]
        step_slower = [f for f in compared if f.steps_vs_baseline is not None and f.steps_vs_baseline.verdict == stats.SLOWER]
        if compared:
            sentence += " In training steps alone (epoch boundaries left out): "
            if not step_faster and not step_slower:
                sentence += f"no strategy differs significantly from `{base}`."
            else:
                parts = ([f"faster than `{base}`: {_named(step_faster)}"] if step_faster else []) + (
                    [f"slower: {_named(step_slower)}"] if step_slower else [])
                sentence += "; ".join(parts) + "."
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


def _stall_sentences(findings, where: str) -> list[str]:
    """Say in words when epochs carry a large idle boundary wait, and which measured strategies avoid it."""
    stalled = [f for f in findings if f.boundary.is_large_idle_wait()]
    if not stalled:
        return []
    clean = [f for f in findings if f.strategy != REFERENCE and not f.boundary.is_large_idle_wait()]
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


def _where_the_time_goes(results, steps, trials, order, config) -> list[str]:
    """Per strategy: step-time percentiles (steady epochs), the first step of each steady epoch (waiting for the
    first batch plus one step), time outside steps, the pipeline's own time to its first batch, and the trial's
    resources."""
    steady = steps[steps["epoch"] > 1] if (steps["epoch"] > 1).any() else steps
    outside = analysis.epoch_parts(results, steps)
    outside = outside.assign(outside_seconds=outside["epoch_seconds"] - outside["in_steps_seconds"])
    outside = outside[outside["epoch"] > 1] if (outside["epoch"] > 1).any() else outside
    ok = trials[trials["status"] == "ok"]
    setting = f" {config.sweep[0]} |" if config.sweep else ""
    lines = [
        f"| strategy |{setting} step median ms | p90 ms | p99 ms | first step of an epoch ms | outside steps per epoch s (median / max) "
        "| pipeline first batch ms | trial wall s | CPU user s | CPU system s | CPU utilisation | peak RSS MB |",
        "|" + "---|" * (13 if config.sweep else 12),
    ]
    for strategy in order:
        for value in sorted(set(ok.loc[ok["strategy"] == strategy, "sweep_value"]), key=lambda v: (v is None, v)):
            mine = analysis.rows_at(steady[steady["strategy"] == strategy], value)
            runs = analysis.rows_at(ok[ok["strategy"] == strategy], value)
            if mine.empty or runs.empty:
                continue
            milliseconds = mine["step_seconds"].astype(float) * 1000
            first = mine.loc[mine["step"] == 1, "step_seconds"].astype(float).median() * 1000
            gaps = analysis.rows_at(outside[outside["strategy"] == strategy], value)["outside_seconds"]
            cpu = runs["cpu_user_seconds"] + runs["cpu_system_seconds"]
            utilisation = (cpu / runs["wall_seconds"]).median()
            lines.append(
                f"| {strategy} |{'' if value is None else f' {value} |'} {_fmt(milliseconds.median())} | {_fmt(milliseconds.quantile(0.9))} "
                f"| {_fmt(milliseconds.quantile(0.99))} | {_fmt(first)} | {_fmt(gaps.median())} / {_fmt(gaps.max())} "
                f"| {_fmt(runs['pipeline_first_batch_seconds'].astype(float).median() * 1000)} "
                f"| {_fmt(runs['wall_seconds'].median())} | {_fmt(runs['cpu_user_seconds'].median())} | {_fmt(runs['cpu_system_seconds'].median())} "
                f"| {utilisation:.2f} cores | {_fmt(runs['peak_rss_mb'].median(), 0)} |"
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
    strategies = [s for s in dict.fromkeys(f.strategy for f in result.findings) if s != REFERENCE]
    for strategy in strategies:
        regimes = [(f.sweep_value, f.regime) for f in result.findings if f.strategy == strategy]
        words = ", ".join(f"{value}: {regime}" for value, regime in regimes)
        crossover = next((value for (value, regime), (_, before) in zip(regimes[1:], regimes) if regime != before), None)
        tail = f"; it changes regime at {config.sweep[0]} = {crossover}" if crossover is not None else ""
        lines.append(f"- **{strategy}**: {words}{tail}.")
    return lines


def write_summary(out: Path, result, config, environment, plots, results, trials, steps, order) -> Path:
    lines = ["# Input-pipeline study: which way of feeding `model.fit` is fastest?", ""]
    for paragraph in _answer(result, config):
        lines += [paragraph, ""]
    lines += ["## Steady-state results", "",
              "Steady epochs are every epoch after the first of each trial. Ratios are paired within blocks (geometric mean "
              "over blocks, 95% Student t interval over blocks); below 1 is faster. Epoch times carry a 95% bootstrap interval. *Limit* is the compute-bound reference: "
              "the model fed one ready batch over and over.", ""]
    lines += _table(result, config)
    lines += ["", "## Where the time goes", "",
              "Medians over trials; step times from steady epochs. *Outside steps* is an epoch's wall time minus the sum "
              "of its step times: time spent between epochs' batches rather than in training steps. CPU utilisation = "
              "(user + system) / wall time of the trial process; pipeline figures are the input pipeline alone, with no model.", ""]
    lines += _where_the_time_goes(results, steps, trials, order, config)
    lines += ["", "## Epoch boundaries", "",
              "A steady epoch's time in training steps against the waits at its boundaries (medians over steady epochs), "
              "the share of those waits the process spent on the CPU (near 0%: idle waiting, not input work), and fit's "
              "teardown after its last epoch (once per trial, outside every epoch). Keras makes a new input iterator "
              "every epoch for a finite dataset, and keeps one for all of fit when the data is endless and "
              "`steps_per_epoch` is given.", ""]
    lines += _boundary_table(result, config)
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
    ok = trials[trials["status"] == "ok"]
    wall = ok["wall_seconds"].astype(float).sum()
    lines += [f"| trials finished | {len(ok)} of {len(trials)} ({wall / 60:.1f} min of trial time) |"]
    lines += ["", "## Environment", "", "| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in environment.items()]
    path = out / "summary.md"
    results_files.write_atomic(path, "\n".join(lines) + "\n")
    return path


# --- entry -----------------------------------------------------------------------------------------------


def load(out: Path):
    if not (out / results_files.CONFIG).exists():
        raise ResultsError(f"{out} holds no study (no {results_files.CONFIG}); run one first or point --out at one")
    config = StudyConfig.from_dict(results_files.read_json(out / results_files.CONFIG))
    environment = results_files.read_json(out / results_files.ENVIRONMENT) if (out / results_files.ENVIRONMENT).exists() else {}
    trials = analysis.normalize_sweep_column(results_files.read_table(out / TRIALS, ["strategy", "repeat", "status"]))
    ok_keys = {(r.strategy, int(r.repeat), r.sweep_value) for r in trials.itertuples() if r.status == "ok"}

    def finished(table):
        table = analysis.normalize_sweep_column(table)
        mask = [(s, int(r), v) in ok_keys for s, r, v in zip(table["strategy"], table["repeat"], table["sweep_value"])]
        return table[mask] if len(table) else table

    results = finished(results_files.read_table(out / RESULTS, ["strategy", "repeat", "epoch", "epoch_seconds"]))
    steps = finished(results_files.read_table(out / STEPS, ["strategy", "repeat", "epoch", "step_seconds"]))
    return config, environment, results, steps, trials


def build(out: Path) -> list[Path]:
    """All plots and summary.md from the files in `out`; returns the paths written."""
    out = Path(out)
    config, environment, results, steps, trials = load(out)
    if results.empty:
        raise ResultsError(f"{out} holds no finished trial yet: nothing to report")
    result = analysis.analyse(results, trials, analysis.baseline_of(config.strategies), seed=config.seed, steps=steps)
    order = _strategy_order(result.findings)
    ok = trials[trials["status"] == "ok"]
    plots = [
        plot_epoch_time(results, order, config, out / "epoch_time.png"),
        plot_boundaries(result.findings, order, config, out / "boundaries.png"),
        plot_step_time(steps, order, config, out / "step_time.png"),
        plot_throughput(result.findings, order, config, out / "throughput.png"),
        plot_resources(ok, order, config, out / "resources.png"),
        plot_accuracy(ok, order, config, out / "accuracy.png"),
        plot_timeline(results, order, config, out / "timeline.png"),
    ]
    if config.sweep:
        plots.append(plot_scaling(result.findings, order, config, out / "scaling.png"))
        if config.sweep[0] == "scale":
            plots.append(plot_memory_scaling(ok, order, config, out / "memory_scaling.png"))
    return plots + [write_summary(out, result, config, environment, plots, results, trials, steps, order)]
