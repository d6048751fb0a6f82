"""Every number the report shows, from the saved result files alone, as frozen findings and tidy tables.

Per strategy (and swept value): the steady epoch time, its paired ratios to the baseline and to the
compute-bound limit (wall and CPU time, and the time in steps alone), the pipeline's capacity and the regime,
where its epochs wait at their boundaries; where the time goes (step percentiles, time outside steps, the
trial's resources); the regimes across a sweep.

The baseline is `arrays` (the reference study's `fit`) when the study has it, else its first listed strategy.
Derived figures are computed here from the raw rows every time; nothing derived is stored in the tables.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pandas as pd

from study import projection, results_files, schema, stats, steady_state
from study.config import StudyConfig
from study.schema import COMPUTE_BOUND

BASELINE = "arrays"
# Why a strategy's epoch is longer than the limit's, each backed by a measurement of the same study (`_causes`).
AT_LIMIT = "at the limit"
INPUT_BOUND = "input-bound"  # the pipeline alone delivers fewer examples per second than the model consumes
SHARING_CPU = "slowed by sharing the CPU"  # fast enough alone, yet its steps are slower than the limit's
WAITS_AT_BOUNDARY = "waits at the boundary"  # the full-size epoch's boundary is a noticeable share of it
UNDECIDED_STEPS = "steps not yet told from the limit's"  # its per-step verdict against the limit is undecided
# Its step is traced for batches of unknown size, and the limit's diagnostic (the limit's own batches, their size
# made unknown: inputs/compute_bound.py) steps decidedly slower than the limit in the same blocks.
UNKNOWN_BATCH = "slowed by batches of unknown size"
BOUNDARY_SHARE = 0.02  # a full-size boundary over this share of the projected epoch (and over 1 s) is a cause


def baseline_of(strategies) -> str:
    return BASELINE if BASELINE in strategies else strategies[0]


# --- the files -------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Study:
    """A study's files: results and steps of finished trials only; trials, failed ones included."""

    config: StudyConfig
    environment: dict
    results: pd.DataFrame
    steps: pd.DataFrame
    trials: pd.DataFrame
    plan_record: dict = dataclasses.field(default_factory=dict)  # plan.json: the budget's plan and how it ended
    boundary: pd.DataFrame = dataclasses.field(default_factory=pd.DataFrame)  # boundary.csv: probes at full age

    @property
    def ok_trials(self) -> pd.DataFrame:
        return self.trials[self.trials["status"] == schema.OK]


def load(out: Path) -> Study:
    out = Path(out)
    if not (out / schema.CONFIG).exists():
        raise results_files.ResultsError(f"{out} holds no study (no {schema.CONFIG}); run one first or point --out at one")
    config = StudyConfig.from_dict(results_files.read_json(out / schema.CONFIG))
    environment = results_files.read_json(out / schema.ENVIRONMENT) if (out / schema.ENVIRONMENT).exists() else {}
    trials = results_files.read_study_table(out, schema.TRIALS)
    finished = schema.finished_keys(trials)
    results = schema.of_finished_trials(results_files.read_study_table(out, schema.RESULTS), finished)
    steps = schema.of_finished_trials(results_files.read_study_table(out, schema.STEPS), finished)
    plan_record = results_files.read_json(out / schema.PLAN) if (out / schema.PLAN).exists() else {}
    boundary = (
        schema.of_finished_trials(results_files.read_study_table(out, schema.BOUNDARY), finished)
        if (out / schema.BOUNDARY).exists() else pd.DataFrame()
    )
    return Study(config, environment, results, steps, trials, plan_record, boundary)


# --- findings: the steady-state comparison ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Finding:
    strategy: str
    sweep_value: object
    blocks: int
    epoch_seconds: stats.Interval  # median steady epoch, bootstrap interval
    examples_per_second: float  # median over steady epochs, in training
    pipeline_examples_per_second: float  # the input pipeline alone (nan for the limit)
    regime: str  # the causes (`_causes`) joined: why its epoch is longer than the limit's
    val_accuracy: float
    vs_limit: stats.Comparison | None
    vs_baseline: stats.Comparison | None  # end to end: whole steady epochs, boundaries included
    cpu_vs_limit: stats.Comparison | None
    cpu_vs_baseline: stats.Comparison | None
    steps_vs_baseline: stats.Comparison | None  # training speed: the mean step after warm-up, boundaries left out
    warmup_steps: float  # median over trials: the steps before the step times settle (MSER-5), nan if unknown
    boundary: "Boundary"
    # The user's epoch (study/projection.py): the full-size steady epoch projected per block, and its parts.
    full_boundary: projection.FullBoundary = None
    projected_seconds: stats.Interval = None  # median over blocks, bootstrap interval
    projected_steps_seconds: float = math.nan  # median over blocks: full steps x the steady step time
    projected_per_block: tuple = ()  # each block's projected epoch, in block order
    projected_vs_baseline: stats.Comparison | None = None
    steps_vs_limit: stats.Comparison | None = None
    causes: tuple = ()
    pipeline_cpu_ms_per_batch: float = math.nan  # the pipeline alone: its own CPU work per batch (median of trials)
    extra_cpu_ms_per_step: float = math.nan  # CPU per training step above the limit's, in the same blocks (median)
    batch_shape: str = ""  # the input shape its training step was traced for ("?x80": any batch size)

    @property
    def unknown_batch_size(self) -> bool:
        return is_unknown_batch_size(self.batch_shape)


def is_unknown_batch_size(batch_shape: str) -> bool:
    """Every trace of the step took batches of any size ("?x80"; "32x80 ?x80": a partial last batch retraced it)."""
    return bool(batch_shape) and all(shape.startswith("?") for shape in batch_shape.split())


@dataclasses.dataclass(frozen=True)
class Diagnostic:
    """The limit's diagnostic at one swept value: its steps with one thing changed, against its own arguments
    fitted again beside them in the same trial, paired over blocks."""

    changes: str  # what it changes (inputs.compute_bound.UNKNOWN_BATCH_SIZE)
    steps: stats.Comparison  # median step, changed / own
    cpu: stats.Comparison  # CPU per step, changed / own

    @property
    def slows_steps(self) -> bool:
        return self.steps.verdict == stats.SLOWER


@dataclasses.dataclass(frozen=True)
class Boundary:
    """Where a strategy's steady epochs spend time outside training steps (medians over steady epochs)."""

    epoch_seconds: float  # the whole steady epoch
    in_steps_seconds: float  # the sum of its step times
    before_first_step_seconds: float
    after_last_step_seconds: float
    max_wait_seconds: float  # the largest boundary wait (before + after) of any steady epoch
    busy_share: float  # process CPU / wall over the boundary waits: near 0 = idle waiting, not input work
    teardown_seconds: float  # fit's teardown after the last epoch, once per trial (nan when not recorded)
    # Means over steady epochs of BOUNDARY_PARTS: unlike medians they add up to the mean epoch, so they stack.
    mean_parts: dict = dataclasses.field(default_factory=dict)

    @property
    def wait_seconds(self) -> float:
        return self.before_first_step_seconds + self.after_last_step_seconds

    def is_large_idle_wait(self) -> bool:
        """Worth a sentence: over a second and 5% of the epoch, with the process mostly idle."""
        return self.wait_seconds > max(1.0, 0.05 * self.epoch_seconds) and self.busy_share < 0.5


@dataclasses.dataclass(frozen=True)
class Analysis:
    findings: list  # Finding, in sweep order then fastest first
    failures: pd.DataFrame  # trials that failed or timed out
    baseline: str
    # sweep_value -> (the strategy to use, each alternative compared with it end to end: ratio = alternative / it)
    recommendations: dict = dataclasses.field(default_factory=dict)
    diagnostics: dict = dataclasses.field(default_factory=dict)  # sweep_value -> the limit's Diagnostic (or None)

    def at(self, sweep_value) -> list:
        return [finding for finding in self.findings if schema.same_sweep_value(finding.sweep_value, sweep_value)]

    @property
    def sweep_values(self) -> list:
        return list(dict.fromkeys(finding.sweep_value for finding in self.findings))

    def strategy_order(self) -> list:
        """Fastest first, the limit last."""
        return [*dict.fromkeys(f.strategy for f in self.findings if f.strategy != COMPUTE_BOUND), COMPUTE_BOUND]


def _per_block(rows: pd.DataFrame, column: str, blocks) -> list:
    return [rows.loc[rows["repeat"] == block, column].to_numpy(float) for block in blocks]


def epoch_parts(results: pd.DataFrame, steps: pd.DataFrame) -> pd.DataFrame:
    """results with `in_steps_seconds`: the sum of each epoch's step times (its training time, boundaries out)."""
    keys = ["strategy", "repeat", "setting", "epoch"]
    setting = lambda table: table.assign(setting=[-1 if v is None else v for v in table["sweep_value"]])  # noqa: E731
    summed = setting(schema.normalize_sweep_column(steps)).groupby(keys)["step_seconds"].sum().rename("in_steps_seconds")
    merged = setting(schema.normalize_sweep_column(results)).merge(summed.reset_index(), on=keys, how="left")
    return merged.drop(columns="setting")


def steady_step_seconds(steps: pd.DataFrame) -> pd.DataFrame:
    """Per trial: the mean step time after its warm-up, where MSER-5 finds the step times settle
    (study/steady_state.py) over all its epochs' steps in order, and how many steps that warm-up took."""
    keys = ["strategy", "repeat", "setting"]
    table = schema.normalize_sweep_column(steps)
    table = table.assign(setting=[-1 if v is None else v for v in table["sweep_value"]]).sort_values([*keys, "epoch", "step"])
    rows = []
    for key, trial in table.groupby(keys, sort=False):
        seconds = trial["step_seconds"].to_numpy(float)
        # At least the first step: it traces the train function (seconds, not milliseconds), and MSER's batch
        # medians, robust to one odd step in five, can leave that one step in - where it would dominate a mean.
        end = max(steady_state.warmup_end(seconds).end, 1)
        rows.append((*key, float(seconds[end:].mean()), end))
    return pd.DataFrame(rows, columns=[*keys, "steady_step_seconds", "warmup_steps"])


@dataclasses.dataclass(frozen=True)
class FullSetting:
    """The user's epoch, for the projection: its steps per swept value, and whether the study's were shorter."""

    steps: dict  # sweep value -> steps of the full-size epoch
    shortened: bool

    @classmethod
    def of(cls, config: StudyConfig) -> "FullSetting":
        from inputs.corpus import DataSettings

        train_size = DataSettings().train_size
        return cls(
            {value: projection.full_steps(train_size, config.at_sweep_value(value).scale, config.batch_size)
             for value in config.sweep_values()},
            config.epochs_shortened,
        )


def analyse_study(study: Study) -> "Analysis":
    """`analyse` with everything the study's own files say: its config, steps, probes and statistics plan."""
    config = study.config
    return analyse(
        study.results, study.trials, baseline_of(config.strategies), seed=config.seed, steps=study.steps,
        planned_blocks=config.planned_blocks, margin=config.margin, boundary=study.boundary,
        full=FullSetting.of(config),
    )


def analyse(
    results: pd.DataFrame, trials: pd.DataFrame, baseline: str, seed: int = 0, steps=None,
    planned_blocks: int | None = None, margin: float = stats.MARGIN, boundary: pd.DataFrame | None = None,
    full: FullSetting | None = None,
) -> Analysis:
    """`steps` (steps.csv) adds the time in steps to every epoch and each trial's steady step time; without
    it, an epoch's steps are its whole time. `planned_blocks` and `margin` are the study's (StudyConfig): the
    statistics' last planned look and the equivalence margin. `boundary` (boundary.csv) and `full` give the
    projected full-size epoch (study/projection.py); without `full` the epochs measured count as full-size."""
    results = schema.normalize_sweep_column(results)
    if steps is not None and len(steps):
        results = epoch_parts(results, steps)
        keys = ["strategy", "repeat", "setting"]
        with_setting = results.assign(setting=[-1 if v is None else v for v in results["sweep_value"]])
        results = with_setting.merge(steady_step_seconds(steps), on=keys, how="left").drop(columns="setting")
    for column in ("in_steps_seconds", "steady_step_seconds", "warmup_steps"):
        if column not in results.columns:
            results = results.assign(**{column: np.nan})
    results["in_steps_seconds"] = results["in_steps_seconds"].fillna(results["epoch_seconds"])
    results["steady_step_seconds"] = results["steady_step_seconds"].fillna(results["in_steps_seconds"] / results["steps"])
    statistics = {"planned_blocks": planned_blocks, "margin": margin}
    trials = schema.normalize_sweep_column(trials)
    ok_trials = trials[trials["status"] == schema.OK]
    probes = _probe_table(boundary)
    steady = schema.steady(results)
    findings, recommendations, diagnostics = [], {}, {}
    for value in sorted(set(results["sweep_value"]), key=schema.sweep_order):
        at_value = schema.rows_at(steady, value)
        trials_at = schema.rows_at(ok_trials, value)
        blocks = sorted(at_value["repeat"].unique())
        limit = at_value[at_value["strategy"] == COMPUTE_BOUND]
        model_rate = float(limit["examples_per_second"].median()) if not limit.empty else math.nan
        full_steps = full.steps.get(value) if full is not None else None
        shortened = full.shortened if full is not None else False
        projected = {
            strategy: _projected(rows, trials_at, schema.rows_at(probes, value), strategy, full_steps, shortened)
            for strategy, rows in at_value.groupby("strategy", sort=False)
        }
        diagnostics[value] = _diagnostic(trials_at[trials_at["strategy"] == COMPUTE_BOUND], blocks, statistics)
        context = _Context(at_value, trials_at, blocks, model_rate, baseline, seed, statistics, projected, diagnostics[value])
        found = [_finding(strategy, value, rows, context) for strategy, rows in at_value.groupby("strategy", sort=False)]
        findings += found
        recommendations[value] = _recommend(found, context)
    findings.sort(key=lambda f: (*schema.sweep_order(f.sweep_value), _sort_seconds(f)))
    failures = trials[trials["status"] != schema.OK]
    return Analysis(findings, failures, baseline, recommendations, diagnostics)


def _diagnostic(limit_trials: pd.DataFrame, blocks, statistics) -> Diagnostic | None:
    """The limit's diagnostic over the blocks whose limit trial ran it; None when none did."""
    columns = ["diagnostic", "diagnostic_step_seconds", "diagnostic_reference_step_seconds",
               "diagnostic_cpu_seconds_per_step", "diagnostic_reference_cpu_seconds_per_step"]
    if not set(columns) <= set(limit_trials.columns):
        return None
    ran = limit_trials.dropna(subset=columns[1:])
    ran = ran[ran["diagnostic"].astype(str).str.len() > 0]
    if ran.empty:
        return None
    per_block = lambda column: [ran.loc[ran["repeat"] == block, column].to_numpy(float) for block in blocks]  # noqa: E731
    changes = str(ran["diagnostic"].iloc[0])
    name = f"{COMPUTE_BOUND}, {changes}"
    return Diagnostic(
        changes,
        stats.compare(name, COMPUTE_BOUND, per_block(columns[1]), per_block(columns[2]), **statistics),
        stats.compare(name, COMPUTE_BOUND, per_block(columns[3]), per_block(columns[4]), **statistics),
    )


def _probe_table(boundary) -> pd.DataFrame:
    if boundary is not None and len(boundary):
        return schema.normalize_sweep_column(boundary)
    return pd.DataFrame(columns=schema.BOUNDARY_PROBE_COLUMNS)


def _sort_seconds(finding) -> float:
    """Fastest first: by the projected full-size epoch, else by the measured one."""
    projected = finding.projected_seconds
    if projected is not None and not math.isnan(projected.estimate):
        return projected.estimate
    return finding.epoch_seconds.estimate


@dataclasses.dataclass(frozen=True)
class _Context:
    """What every finding at one swept value is computed against."""

    at_value: pd.DataFrame
    trials_at: pd.DataFrame
    blocks: list
    model_rate: float
    baseline: str
    seed: int
    statistics: dict
    projected: dict  # strategy -> (FullBoundary, its per-block projected epochs)
    diagnostic: Diagnostic | None = None  # the limit's, at this swept value

    def compare(self, strategy, rows, other, column):
        return _comparison(strategy, other, rows, self.at_value, self.blocks, column, self.statistics)

    def compare_projected(self, strategy, other):
        if strategy in (other, COMPUTE_BOUND) or other not in self.projected or strategy not in self.projected:
            return None
        mine, theirs = self.projected[strategy][1], self.projected[other][1]
        if mine.empty or theirs.empty:
            return None
        return stats.compare(strategy, other, projection.per_block(mine, self.blocks),
                             projection.per_block(theirs, self.blocks), **self.statistics)


def _projected(rows, trials_at, probes, strategy, full_steps, shortened):
    """(FullBoundary, per-block projected epochs) of one strategy; without a full setting, of its own epochs."""
    mine = trials_at[trials_at["strategy"] == strategy]
    flags = mine["new_iterator_each_epoch"] if "new_iterator_each_epoch" in mine.columns else pd.Series(dtype=object)
    new_each = bool(flags.map(lambda flag: str(flag).strip().lower() == "true").any())
    # Epochs as long as the user's (or no full setting given): the projection is of the measured epochs themselves.
    steps = full_steps if shortened and full_steps is not None else int(rows["steps"].median())
    own_probes = probes[probes["strategy"] == strategy]
    boundary = projection.full_boundary(rows, own_probes, new_each, shortened)
    return boundary, projection.projected_epochs(rows, own_probes, boundary, steps)


def _recommend(findings, context: _Context):
    """What to use for the full setting: the strategy with the shortest projected epochs among the baseline and
    those significantly faster than it there (so the baseline unless a verdict says otherwise), with every other
    strategy compared with it; None when the baseline was not measured."""
    by_name = {f.strategy: f for f in findings if f.strategy != COMPUTE_BOUND}
    if context.baseline not in by_name:
        return None
    candidates = [by_name[context.baseline]] + [
        f for f in by_name.values()
        if f.projected_vs_baseline is not None and f.projected_vs_baseline.verdict == stats.FASTER
    ]
    chosen = min(candidates, key=_sort_seconds).strategy
    against = [context.compare_projected(name, chosen) for name in by_name if name != chosen]
    return chosen, [comparison for comparison in against if comparison is not None]


def _comparison(strategy, other_name, rows, at_value, blocks, column, statistics):
    other = at_value[at_value["strategy"] == other_name]
    if strategy in (other_name, COMPUTE_BOUND) or other.empty:
        return None
    return stats.compare(
        strategy, other_name, _per_block(rows, column, blocks), _per_block(other, column, blocks), **statistics
    )


def _causes(strategy, pipeline_rate, model_rate, steps_vs_limit, boundary, projected_seconds,
            unknown_batch_size=False, diagnostic=None) -> tuple:
    """Why a strategy's full-size epoch is longer than the limit's, each cause backed by a measurement of the
    same study: the pipeline alone against the model's rate, the shape its step was traced for with the limit's
    diagnostic (the same batches of unknown size, paired blocks), its steps against the limit's, its boundary
    at full age against its projected epoch."""
    if strategy == COMPUTE_BOUND:
        return (AT_LIMIT,)
    causes = []
    if not (math.isnan(pipeline_rate) or math.isnan(model_rate)) and pipeline_rate < model_rate:
        causes.append(INPUT_BOUND)
    elif unknown_batch_size and diagnostic is not None and diagnostic.slows_steps:
        causes.append(UNKNOWN_BATCH)
    elif steps_vs_limit is not None and steps_vs_limit.verdict == stats.SLOWER:
        causes.append(SHARING_CPU)
    elif steps_vs_limit is None or steps_vs_limit.verdict == stats.UNDECIDED:
        causes.append(UNDECIDED_STEPS)
    if boundary is not None and boundary.seconds > max(1.0, BOUNDARY_SHARE * projected_seconds):
        causes.append(WAITS_AT_BOUNDARY)
    return tuple(causes) or (AT_LIMIT,)


def _cpu_in_steps_per_step(rows: pd.DataFrame) -> pd.Series:
    """Per block: the process CPU per training step of the steady epochs, their boundary waits' CPU left out."""
    boundary_cpu = sum(
        pd.to_numeric(rows[name], errors="coerce").fillna(0.0) if name in rows.columns else 0.0
        for name in ("before_first_step_cpu_seconds", "after_last_step_cpu_seconds")
    )
    per_step = (rows["cpu_seconds"].astype(float) - boundary_cpu) / rows["steps"].astype(float)
    return pd.Series(per_step.to_numpy(), index=rows["repeat"]).groupby(level=0).median()


def _pipeline_cpu_ms(strategy_trials: pd.DataFrame) -> float:
    """The pipeline alone (no model): its own CPU per batch, median over trials (nan before it was recorded)."""
    if not {"pipeline_cpu_seconds", "pipeline_batches"} <= set(strategy_trials.columns):
        return math.nan
    per_batch = (
        pd.to_numeric(strategy_trials["pipeline_cpu_seconds"], errors="coerce")
        / pd.to_numeric(strategy_trials["pipeline_batches"], errors="coerce")
    ).replace([np.inf, -np.inf], np.nan).dropna()
    return float(per_batch.median() * 1000) if len(per_batch) else math.nan


def _finding(strategy, value, rows, context: _Context) -> Finding:
    strategy_trials = context.trials_at[context.trials_at["strategy"] == strategy]
    pipeline_rates = (
        strategy_trials["pipeline_examples"].astype(float) / strategy_trials["pipeline_seconds"].astype(float)
    ).replace([np.inf, -np.inf], np.nan).dropna()
    pipeline_rate = float(pipeline_rates.median()) if len(pipeline_rates) else math.nan
    accuracy = strategy_trials["val_accuracy"].astype(float)
    compare = lambda other, column: context.compare(strategy, rows, other, column)  # noqa: E731
    full_boundary, table = context.projected[strategy]
    projected = stats.median_interval(table["projected_seconds"], seed=context.seed)
    steps_vs_limit = compare(COMPUTE_BOUND, "steady_step_seconds")
    batch_shape = _batch_shape(strategy_trials)
    causes = _causes(strategy, pipeline_rate, context.model_rate, steps_vs_limit, full_boundary, projected.estimate,
                     is_unknown_batch_size(batch_shape), context.diagnostic)
    limit_rows = context.at_value[context.at_value["strategy"] == COMPUTE_BOUND]
    extra_cpu = math.nan
    if strategy != COMPUTE_BOUND and not limit_rows.empty:
        difference = (_cpu_in_steps_per_step(rows) - _cpu_in_steps_per_step(limit_rows)).dropna()
        extra_cpu = float(difference.median() * 1000) if len(difference) else math.nan
    return Finding(
        strategy=strategy,
        sweep_value=value,
        blocks=int(rows["repeat"].nunique()),
        epoch_seconds=stats.median_interval(rows["epoch_seconds"], seed=context.seed),
        examples_per_second=float(rows["examples_per_second"].median()),
        pipeline_examples_per_second=pipeline_rate,
        regime=", ".join(causes),
        val_accuracy=float(accuracy.median()) if len(accuracy) else math.nan,
        vs_limit=compare(COMPUTE_BOUND, "epoch_seconds"),
        vs_baseline=compare(context.baseline, "epoch_seconds"),
        cpu_vs_limit=compare(COMPUTE_BOUND, "cpu_seconds"),
        cpu_vs_baseline=compare(context.baseline, "cpu_seconds"),
        steps_vs_baseline=compare(context.baseline, "steady_step_seconds"),
        warmup_steps=float(rows["warmup_steps"].median()),
        boundary=_boundary(rows, strategy_trials),
        full_boundary=full_boundary,
        projected_seconds=projected,
        projected_steps_seconds=float(table["steps_seconds"].median()) if len(table) else math.nan,
        projected_per_block=tuple(float(value) for value in table["projected_seconds"]),
        projected_vs_baseline=context.compare_projected(strategy, context.baseline),
        steps_vs_limit=steps_vs_limit,
        causes=causes,
        pipeline_cpu_ms_per_batch=_pipeline_cpu_ms(strategy_trials),
        extra_cpu_ms_per_step=extra_cpu,
        batch_shape=batch_shape,
    )


def _batch_shape(strategy_trials: pd.DataFrame) -> str:
    """The shape its trials' steps were traced for (the most common; "" before it was recorded)."""
    if "batch_shape" not in strategy_trials.columns:
        return ""
    shapes = strategy_trials["batch_shape"].dropna().astype(str)
    shapes = shapes[shapes.str.len() > 0]
    return str(shapes.mode().iloc[0]) if len(shapes) else ""


def _median(values) -> float:
    values = pd.to_numeric(pd.Series(values), errors="coerce").dropna()
    return float(values.median()) if len(values) else math.nan


def _boundary(rows: pd.DataFrame, strategy_trials: pd.DataFrame) -> Boundary:
    column = lambda name: rows[name] if name in rows.columns else pd.Series(np.nan, index=rows.index)  # noqa: E731
    wait = column("before_first_step_seconds").astype(float) + column("after_last_step_seconds").astype(float)
    wait_cpu = column("before_first_step_cpu_seconds").astype(float) + column("after_last_step_cpu_seconds").astype(float)
    teardown = strategy_trials["fit_teardown_seconds"] if "fit_teardown_seconds" in strategy_trials.columns else []
    return Boundary(
        epoch_seconds=_median(rows["epoch_seconds"]),
        in_steps_seconds=_median(rows["in_steps_seconds"]),
        before_first_step_seconds=_median(column("before_first_step_seconds")),
        after_last_step_seconds=_median(column("after_last_step_seconds")),
        max_wait_seconds=float(wait.max()) if wait.notna().any() else math.nan,
        busy_share=float(wait_cpu.sum() / wait.sum()) if wait_cpu.notna().any() and wait.sum() > 0 else math.nan,
        teardown_seconds=_median(teardown),
        mean_parts=_mean_parts(rows, column),
    )


def _mean_parts(rows: pd.DataFrame, column) -> dict:
    parts = {name: float(column(name).astype(float).fillna(0.0).mean()) for name in BOUNDARY_PARTS[:-1]}
    parts["other_seconds"] = max(0.0, float(rows["epoch_seconds"].astype(float).mean()) - sum(parts.values()))
    return parts


def regimes_across_sweep(result: Analysis) -> list[tuple[str, list, object]]:
    """Per strategy (the limit left out): [(swept value, regime)] and the first value where the regime
    changes (None if it never does)."""
    rows = []
    for strategy in dict.fromkeys(f.strategy for f in result.findings if f.strategy != COMPUTE_BOUND):
        regimes = [(f.sweep_value, f.regime) for f in result.findings if f.strategy == strategy]
        crossover = next((value for (value, regime), (_, before) in zip(regimes[1:], regimes) if regime != before), None)
        rows.append((strategy, regimes, crossover))
    return rows


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


# --- tidy tables for the plots ------------------------------------------------------------------------------


def throughput_table(findings) -> pd.DataFrame:
    """Examples per second in training and of the input pipeline alone, per finding."""
    rows = []
    for finding in findings:
        rows.append({"strategy": finding.strategy, "measure": "in training", "rate": finding.examples_per_second, "value": finding.sweep_value})
        if not math.isnan(finding.pipeline_examples_per_second):
            rows.append({"strategy": finding.strategy, "measure": "input pipeline alone", "rate": finding.pipeline_examples_per_second, "value": finding.sweep_value})
    return pd.DataFrame(rows)


def scaling_table(findings) -> pd.DataFrame:
    """The median steady epoch time and its interval, per (strategy, swept value)."""
    return pd.DataFrame(
        [{"strategy": f.strategy, "value": f.sweep_value, "seconds": f.epoch_seconds.estimate, "low": f.epoch_seconds.low, "high": f.epoch_seconds.high} for f in findings]
    )


def full_epoch_table(findings, order) -> pd.DataFrame:
    """Per finding, its projected full-size steady epoch: the two parts (steps, boundary at full age) and the
    interval of their sum, in `order` of strategies."""
    rows = []
    for f in findings:
        if f.projected_seconds is None or math.isnan(f.projected_seconds.estimate):
            continue
        label = f.strategy if f.sweep_value is None else f"{f.strategy} @{f.sweep_value:g}"
        rows.append({
            "label": label, "strategy": f.strategy, "steps_seconds": f.projected_steps_seconds,
            "boundary_seconds": f.full_boundary.seconds, "estimate": f.projected_seconds.estimate,
            "low": f.projected_seconds.low, "high": f.projected_seconds.high, "source": f.full_boundary.source,
        })
    table = pd.DataFrame(rows, columns=["label", "strategy", "steps_seconds", "boundary_seconds", "estimate", "low",
                                        "high", "source"])
    rank = {name: index for index, name in enumerate(order)}
    return table.sort_values("label", key=lambda labels: [rank.get(s, len(rank)) for s in table["strategy"]], kind="stable")


BOUNDARY_PARTS = ("in_steps_seconds", "before_first_step_seconds", "after_last_step_seconds", "other_seconds")


def boundary_table(findings, order) -> pd.DataFrame:
    """Per finding, its mean steady epoch in BOUNDARY_PARTS (other = the rest: callbacks, Keras' loop) and
    fit's teardown, in `order` of strategies."""
    rows = []
    for f in findings:
        b = f.boundary
        label = f.strategy if f.sweep_value is None else f"{f.strategy} @{f.sweep_value:g}"
        rows.append({"label": label, "strategy": f.strategy, "teardown": b.teardown_seconds, **b.mean_parts})
    table = pd.DataFrame(rows)
    rank = {name: index for index, name in enumerate(order)}
    return table.sort_values("label", key=lambda labels: [rank.get(s, len(rank)) for s in table["strategy"]], kind="stable")


def with_cpu_seconds(trials: pd.DataFrame) -> pd.DataFrame:
    """The trials with `cpu_seconds` = user + system CPU time of the trial process."""
    return trials.assign(cpu_seconds=trials["cpu_user_seconds"] + trials["cpu_system_seconds"])


# --- where the time goes ---------------------------------------------------------------------------------


def outside_steps(results: pd.DataFrame, steps: pd.DataFrame) -> pd.DataFrame:
    """Per epoch: wall seconds spent outside training steps (epoch time minus the sum of its step times)."""
    parts = epoch_parts(results, steps)
    return parts.assign(outside_seconds=parts["epoch_seconds"] - parts["in_steps_seconds"])


@dataclasses.dataclass(frozen=True)
class TimeBreakdown:
    """Medians over one strategy's finished trials at one swept value; step figures from steady epochs."""

    strategy: str
    sweep_value: object
    step_ms: tuple[float, float, float]  # median, p90, p99
    first_step_ms: float  # the first step of a steady epoch: waiting for the first batch plus one step
    outside_seconds: tuple[float, float]  # time outside steps per steady epoch: median, max
    pipeline_first_batch_ms: float
    wall_seconds: float
    cpu_user_seconds: float
    cpu_system_seconds: float
    cpu_utilisation: float  # (user + system) / wall, in cores
    peak_rss_mb: float


def time_breakdown(study: Study, order: list) -> list[TimeBreakdown]:
    steady = schema.steady(study.steps)
    outside = schema.steady(outside_steps(study.results, study.steps))
    ok = study.ok_trials
    rows = []
    for strategy in order:
        for value in sorted(set(ok.loc[ok["strategy"] == strategy, "sweep_value"]), key=schema.sweep_order):
            mine = schema.rows_at(steady[steady["strategy"] == strategy], value)
            runs = schema.rows_at(ok[ok["strategy"] == strategy], value)
            if mine.empty or runs.empty:
                continue
            milliseconds = mine["step_seconds"].astype(float) * 1000
            gaps = schema.rows_at(outside[outside["strategy"] == strategy], value)["outside_seconds"]
            cpu = runs["cpu_user_seconds"] + runs["cpu_system_seconds"]
            rows.append(TimeBreakdown(
                strategy=strategy,
                sweep_value=value,
                step_ms=(milliseconds.median(), milliseconds.quantile(0.9), milliseconds.quantile(0.99)),
                first_step_ms=mine.loc[mine["step"] == 1, "step_seconds"].astype(float).median() * 1000,
                outside_seconds=(gaps.median(), gaps.max()),
                pipeline_first_batch_ms=runs["pipeline_first_batch_seconds"].astype(float).median() * 1000,
                wall_seconds=runs["wall_seconds"].median(),
                cpu_user_seconds=runs["cpu_user_seconds"].median(),
                cpu_system_seconds=runs["cpu_system_seconds"].median(),
                cpu_utilisation=(cpu / runs["wall_seconds"]).median(),
                peak_rss_mb=runs["peak_rss_mb"].median(),
            ))
    return rows


def trial_minutes(study: Study) -> float:
    """The wall time of the finished trials, in minutes."""
    return study.ok_trials["wall_seconds"].astype(float).sum() / 60
