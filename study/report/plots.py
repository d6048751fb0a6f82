"""The report's seaborn plots, each drawn from the analysis' tables and findings; no statistics here.

Every file is written to a temporary name and renamed, so an interrupted report never leaves half a PNG.
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: never needs a display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402

from study import results_files, schema  # noqa: E402
from study.analysis import tables  # noqa: E402
from study.analysis.boundary import BOUNDARY_PARTS  # noqa: E402
from study.schema import COMPUTE_BOUND  # noqa: E402

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


def _present(order, table) -> list:
    """The strategies of `order` that have rows in `table`, in that order."""
    return [name for name in order if name in set(table["strategy"])]


def _sweep_title(config) -> str:
    return f" ({config.sweep[0]} sweep)" if config.sweep else ""


# --- plots -----------------------------------------------------------------------------------------------


def plot_epoch_time(results, findings, order, config, path) -> Path:
    """Per strategy, the steady epochs (dots) and their median with its 95% interval (the analysis' findings:
    the figures of summary.md's table), against the compute-bound limit (the dashed line and its band)."""
    results = schema.normalize_sweep_column(results)
    table = tables.epoch_time_table(findings)
    values = [None] if not config.sweep else sorted(set(results["sweep_value"].dropna()))
    steady_all = schema.steady(results)
    present_all = _present(order, steady_all)
    figure, axes = plt.subplots(
        1, len(values), figsize=(max(7.5, 4.6 * len(values)), 0.55 * len(present_all) + 2.2), squeeze=False, sharey=True,
        layout="constrained",
    )
    for axis, value in zip(axes[0], values):
        steady = steady_all if value is None else schema.rows_at(steady_all, value)
        present = [name for name in present_all if name in set(steady["strategy"])]
        rows = range(len(present))
        intervals = table[[schema.same_sweep_value(v, value) for v in table["value"]]].set_index("strategy").loc[present]
        if COMPUTE_BOUND in present:
            limit = intervals.loc[COMPUTE_BOUND]
            axis.axvspan(limit["low"], limit["high"], color="#2ca02c", alpha=0.12, lw=0)
            axis.axvline(limit["seconds"], color="#2ca02c", linestyle="--", label="compute-bound limit: no feed can beat it")
        sns.stripplot(data=steady, y="strategy", x="epoch_seconds", order=present, color="#9ecae1", jitter=0.15,
                      size=4, ax=axis, label="one steady epoch")
        medians = intervals["seconds"].to_numpy(float)
        xerr = [medians - intervals["low"].to_numpy(float), intervals["high"].to_numpy(float) - medians]
        axis.errorbar(medians, rows, xerr=xerr, fmt="o", color="black", capsize=4, markersize=6,
                      label="median, 95% interval")
        for row, (median, high) in enumerate(zip(medians, intervals["high"])):
            axis.annotate(f"{median:.1f} s", (high, row), xytext=(6, 4), textcoords="offset points", fontsize=8)
        axis.set_xlabel("steady epoch time (s)")
        axis.set_ylabel("")
        axis.set_xlim(0, intervals["high"].max() * 1.15)  # from 0: lengths compare as ratios
        if value is not None:
            axis.set_title(f"{config.sweep[0]} = {value:g}")
    handles, labels = axes[0][0].get_legend_handles_labels()
    unique = dict(zip(labels, handles))  # stripplot labels each category; keep one entry per kind
    for axis in axes[0]:
        if axis.get_legend():
            axis.get_legend().remove()
    figure.legend(unique.values(), unique.keys(), loc="outside lower center", ncol=3, fontsize=8)
    figure.suptitle(f"Steady epoch time per feed strategy{_sweep_title(config)} - lower is faster\n"
                    "(first epochs, the warm-up, left out: see timeline.png)", fontsize=11)
    return _save(figure, path)


def plot_full_epoch(findings, order, config, steps_per_epoch, path) -> Path:
    """The plot that answers the question for the user's epoch: per strategy, the projected full-size steady
    epoch, stacked into its time in steps and its wait at the boundary at full age, with the interval of the
    whole; the compute-bound limit's projection as the dashed line."""
    table = tables.full_epoch_table(findings, order)
    figure, axis = plt.subplots(figsize=(10, 0.5 * max(len(table), 1) + 2.2))
    axis.barh(table["label"], table["steps_seconds"], color="#4c72b0", label="time in training steps")
    axis.barh(table["label"], table["boundary_seconds"].clip(lower=0), left=table["steps_seconds"], color="#dd8452",
              label="waiting at the epoch boundary (at a full epoch's age)")
    axis.errorbar(table["estimate"], np.arange(len(table)), xerr=[table["estimate"] - table["low"], table["high"] - table["estimate"]],
                  fmt="o", color="black", markersize=4, capsize=3, label="projected epoch: median and 95% interval")
    limit = table[table["strategy"] == COMPUTE_BOUND]
    if len(limit):
        axis.axvline(float(limit["estimate"].iloc[0]), color="black", linestyle="--", linewidth=1, label="compute-bound limit")
    axis.invert_yaxis()
    axis.set(xlabel=f"projected steady epoch of {steps_per_epoch:,} steps (s)",
             title=f"The full-size epoch per strategy (lower is faster){_sweep_title(config)}")
    axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2)
    return _save(figure, path)


BOUNDARY_LOOK = {  # BOUNDARY_PARTS -> (legend label, colour): the stacked pieces of one steady epoch
    "in_steps_seconds": ("in training steps", "#4c72b0"),
    "before_first_step_seconds": ("waiting before the first step", "#dd8452"),
    "after_last_step_seconds": ("after the last step", "#c44e52"),
    "other_seconds": ("between steps (callbacks, Keras' loop)", "#bbbbbb"),
}


def plot_boundaries(findings, order, config, path) -> Path:
    """Each strategy's mean steady epoch split into time in steps and time at the epoch's boundaries, with
    fit's one-off teardown beside it: a long boundary is a stall, not the feed's speed."""
    table = tables.boundary_table(findings, order)
    figure, (axis, teardown_axis) = plt.subplots(
        1, 2, figsize=(11, 0.5 * len(table) + 2.2), sharey=True, gridspec_kw={"width_ratios": [3, 1]}
    )
    left = np.zeros(len(table))
    for name in BOUNDARY_PARTS:
        label, colour = BOUNDARY_LOOK[name]
        axis.barh(table["label"], table[name], left=left, color=colour, label=label)
        left += table[name].to_numpy(float)
    axis.invert_yaxis()
    axis.set(xlabel="mean steady epoch (s)", title="Where a steady epoch's time goes")
    axis.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
    teardown_axis.barh(table["label"], table["teardown"].fillna(0.0), color="#8172b3")
    teardown_axis.set(xlabel="fit's teardown after the last epoch (s)", title="once per trial")
    figure.suptitle(f"Epoch boundaries: time in steps vs waiting at the boundary{_sweep_title(config)}")
    return _save(figure, path)


def plot_step_time(steps, order, config, path) -> Path:
    steps = schema.steady(steps)
    figure, axis = plt.subplots(figsize=(8, 4.6))
    present = _present(order, steps)
    sns.ecdfplot(data=steps, x="step_seconds", hue="strategy", hue_order=present, log_scale=True, ax=axis)
    axis.set(
        xlabel="training step time (s, log scale)", ylabel="fraction of steps at most this long",
        title=f"Step-time distribution (steady epochs){_sweep_title(config)}",
    )
    return _save(figure, path)


def plot_throughput(findings, order, config, path) -> Path:
    table = tables.throughput_table(findings)
    figure, axis = plt.subplots(figsize=(8.5, 4.6))
    if config.sweep:
        table["strategy"] = table["strategy"] + " @" + table["value"].map(lambda v: f"{v:g}")
        present = list(dict.fromkeys(table["strategy"]))
    else:
        present = _present(order, table)
    sns.barplot(data=table, y="strategy", x="rate", hue="measure", order=present, hue_order=["in training", "input pipeline alone"], ax=axis)
    axis.set_xscale("log")
    axis.set_xlabel("examples per second (log scale)")
    axis.set_ylabel("")
    axis.set_title("Input capacity vs what the model consumes\n(a pipeline slower than the compute-bound rate makes training input-bound)")
    return _save(figure, path)


def plot_resources(trials, order, config, path) -> Path:
    trials = tables.with_cpu_seconds(trials)
    present = _present(order, trials)
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    shared = config.process_per == "block"  # one process per block: its peak grows trial by trial
    memory = ("peak resident memory of the block's process so far (MB)" if shared
              else "peak resident memory of the trial process (MB)")
    for axis, column, label in (
        (axes[0], "peak_rss_mb", memory),
        (axes[1], "cpu_seconds", "CPU seconds of the trial (user + system)" if shared
         else "CPU seconds of the trial process (user + system)"),
    ):
        sns.barplot(data=trials, y="strategy", x=column, order=present, color="#9ecae1", errorbar=None, ax=axis)
        sns.stripplot(data=trials, y="strategy", x=column, order=present, color="#08519c", size=5, ax=axis)
        axis.set_xlabel(label)
        axis.set_ylabel("")
    figure.suptitle(f"Resources per trial (bar = mean, dots = trials){_sweep_title(config)}")
    return _save(figure, path)


def plot_accuracy(trials, order, config, path) -> Path:
    present = _present(order, trials)
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
    present = _present(order, table)
    figure, axis = plt.subplots(figsize=(10, 4.6))
    sns.scatterplot(data=table, x="minutes", y="epoch_seconds", hue="strategy", hue_order=present, style="kind",
                    style_order=["steady epoch", "first epoch"], s=45, ax=axis)
    axis.set_xlabel("minutes since the study started")
    axis.set_ylabel("epoch time (s)")
    axis.set_title("Timeline: did the machine's pace change during the study? (compute-bound should be flat)")
    axis.legend(fontsize=8, bbox_to_anchor=(1.01, 1), loc="upper left")
    return _save(figure, path)


def plot_scaling(findings, order, config, path) -> Path:
    table = tables.epoch_time_table(findings)
    figure, axis = plt.subplots(figsize=(8.5, 4.8))
    for strategy in _present(order, table):
        rows = table[table["strategy"] == strategy].sort_values("value")
        style = {"linestyle": "--", "color": "black"} if strategy == COMPUTE_BOUND else {}
        axis.errorbar(rows["value"], rows["seconds"], yerr=[rows["seconds"] - rows["low"], rows["high"] - rows["seconds"]],
                      marker="o", capsize=3, label=strategy + (" (limit)" if strategy == COMPUTE_BOUND else ""), **style)
    axis.set_xlabel(SWEEP_LABELS.get(config.sweep[0], config.sweep[0]))
    axis.set_ylabel("median steady epoch time (s)")
    axis.set_title("Steady epoch time vs the swept setting (bars: 95% interval)")
    if min(table["value"]) > 0 and max(table["value"]) / max(min(table["value"]), 1) >= 10:
        axis.set_xscale("log")
    axis.legend(fontsize=8)
    return _save(figure, path)


def plot_memory_scaling(trials, order, config, path) -> Path:
    present = [name for name in _present(order, trials) if name != COMPUTE_BOUND]
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
