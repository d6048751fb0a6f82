"""The report from saved files alone, on synthetic results with known answers (no training)."""

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from study import report, schema, stats
from study.config import StudyConfig
from study.report.words import comparison_sentence
from study.schema import RESULT_COLUMNS, STEP_COLUMNS, TRIAL_COLUMNS

# Steady epoch seconds per (strategy, swept value): tfdata-online slows with the cost, the limit does not.
TRUE_SECONDS = {
    ("generator-online", 0): 10.0, ("generator-online", 1000): 30.0,
    ("tfdata-online", 0): 10.5, ("tfdata-online", 1000): 14.0,
    ("compute-bound", 0): 9.0, ("compute-bound", 1000): 9.0,
}
PIPELINE_RATE = {  # examples/s of the pipeline alone; the model consumes 1000 / 9 = 111 examples/s
    ("generator-online", 0): 500.0, ("generator-online", 1000): 40.0,
    ("tfdata-online", 0): 900.0, ("tfdata-online", 1000): 300.0,
}


def write_study(out, sweep=("preprocess-cost", (0, 1000)), blocks=4, epochs=3):
    rng = np.random.default_rng(0)
    config = StudyConfig(strategies=("generator-online", "tfdata-online"), epochs=epochs, repeats=blocks, sweep=sweep, out=str(out))
    (out / "config.json").write_text(json.dumps(config.to_dict()))
    (out / "environment.json").write_text(json.dumps({"tensorflow": "test", "cpu_model": "synthetic"}))
    results, steps, trials = [], [], []
    clock = 1_000_000.0
    for block in range(1, blocks + 1):
        pace = 1.0 + 0.3 * block  # the machine drifts between blocks; ratios within a block do not
        for (strategy, planted), seconds in TRUE_SECONDS.items():
            value = sweep[1][0] if planted == 0 else sweep[1][1]
            for epoch in range(1, epochs + 1):
                wall = seconds * pace * (1.5 if epoch == 1 else 1.0) * (1 + 0.005 * rng.standard_normal())
                results.append(dict(strategy=strategy, repeat=block, sweep=sweep[0], sweep_value=value, epoch=epoch,
                                    warmup=epoch == 1, started_at=clock, epoch_seconds=wall, cpu_seconds=wall * 1.2,
                                    steps=10, examples=1000, examples_per_second=1000 / wall, loss=0.5, accuracy=0.8,
                                    val_loss=0.4 if epoch == epochs else None, val_accuracy=0.82 if epoch == epochs else None))
                steps += [dict(strategy=strategy, repeat=block, sweep_value=value, epoch=epoch, step=i + 1, step_seconds=wall / 10) for i in range(10)]
                clock += wall
            rate = PIPELINE_RATE.get((strategy, planted))
            trials.append(dict(strategy=strategy, repeat=block, sweep=sweep[0], sweep_value=value, position=len(trials) + 1,
                               status=schema.OK, error="", started_at=clock, wall_seconds=seconds * epochs + 5, cpu_user_seconds=30.0,
                               cpu_system_seconds=2.0, peak_rss_mb=700 + 100 * (planted > 0), parameters=1, val_loss=0.4, val_accuracy=0.82,
                               pipeline_first_batch_seconds=None if rate is None else 0.05,
                               pipeline_examples=None if rate is None else 990, pipeline_seconds=None if rate is None else 990 / rate))
    trials.append(dict(strategy="tfdata-online", repeat=blocks + 1, sweep=sweep[0], sweep_value=0, position=len(trials) + 1,
                       status=schema.FAILED, error="RuntimeError: planted failure"))
    pd.DataFrame(results, columns=RESULT_COLUMNS).to_csv(out / schema.RESULTS, index=False)
    pd.DataFrame(steps, columns=STEP_COLUMNS).to_csv(out / schema.STEPS, index=False)
    pd.DataFrame(trials, columns=TRIAL_COLUMNS).to_csv(out / schema.TRIALS, index=False)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    write_study(out)
    return out, report.build(out)


def test_every_plot_and_the_summary_are_written(built):
    out, paths = built
    names = {path.name for path in paths}
    assert names == {*schema.plots_drawn("preprocess-cost"), schema.SUMMARY}
    assert schema.FULL_EPOCH_PLOT in names
    for name in names - {schema.SUMMARY}:
        assert (out / name).read_bytes()[:4] == b"\x89PNG"
    assert not list(out.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_verdicts_follow_the_planted_effects_despite_drift(built):
    out, _ = built
    summary = (out / "summary.md").read_text()
    # Same speed at cost 0 (10.5 vs 10 s is 5%, well above the 0.5% noise but planted as a real gap) ...
    assert "[preprocess-cost = 0] tfdata-online is 1.05 (95% CI" in summary and "times slower than generator-online" in summary
    # ... and tfdata-online 30 / 14 = 2.14 times faster at cost 1000.
    assert "[preprocess-cost = 1000] tfdata-online is 2.14 (95% CI" in summary


def test_regimes_and_crossover_follow_pipeline_capacity(built):
    out, _ = built
    summary = (out / "summary.md").read_text()
    # The limit takes 9 s: at cost 0 both step slower than it with pipelines fast enough; at 1000 generator-online's
    # pipeline alone (40 examples/s) is slower than the model consumes (111/s), tfdata-online's (300/s) is not.
    assert ("- **generator-online**: 0: slowed by sharing the CPU, 1000: input-bound; it changes regime at "
            "preprocess-cost = 1000.") in summary
    assert "- **tfdata-online**: 0: slowed by sharing the CPU, 1000: slowed by sharing the CPU." in summary


def test_failed_trials_are_listed(built):
    out, _ = built
    summary = (out / "summary.md").read_text()
    assert "## Failed trials" in summary and "RuntimeError: planted failure" in summary


def test_scale_sweep_adds_memory_scaling(tmp_path):
    write_study(tmp_path, sweep=("scale", (1, 4)))
    names = {path.name for path in report.build(tmp_path)}
    assert {schema.SCALING_PLOT, schema.MEMORY_SCALING_PLOT} <= names


def write_boundary_study(out, blocks=4, epochs=3, step_noise=0.01):
    """`tfdata` steps like `tfdata-repeat` but waits 20 s, idle, before the first step of every steady epoch;
    `tfdata-repeat` pays one 15 s wait in fit's teardown instead. Steps: 10 s per epoch for both, each epoch's step
    time scattered by `step_noise` (relative SD)."""
    rng = np.random.default_rng(1)
    config = StudyConfig(strategies=("tfdata", "tfdata-repeat"), epochs=epochs, repeats=blocks, out=str(out))
    (out / "config.json").write_text(json.dumps(config.to_dict()))
    (out / "environment.json").write_text(json.dumps({"tensorflow": "test"}))
    results, steps, trials = [], [], []
    for block in range(1, blocks + 1):
        for strategy, stall in (("tfdata", 20.0), ("tfdata-repeat", 0.0), ("compute-bound", 0.0)):
            for epoch in range(1, epochs + 1):
                step = 1.0 * (1 + step_noise * rng.standard_normal())
                before = stall if epoch > 1 else 0.5
                wall = 10 * step + before + 0.01
                results.append(dict(strategy=strategy, repeat=block, epoch=epoch, warmup=epoch == 1, started_at=1e6 + block * 100,
                                    epoch_seconds=wall, cpu_seconds=10 * step * 1.1, steps=10, examples=1000,
                                    examples_per_second=1000 / wall, before_first_step_seconds=before,
                                    before_first_step_cpu_seconds=0.02 * before, after_last_step_seconds=0.01,
                                    after_last_step_cpu_seconds=0.01))
                steps += [dict(strategy=strategy, repeat=block, epoch=epoch, step=i + 1, step_seconds=step) for i in range(10)]
            trials.append(dict(strategy=strategy, repeat=block, position=len(trials) + 1, status=schema.OK, error="", started_at=1e6,
                               wall_seconds=100.0, cpu_user_seconds=30.0, cpu_system_seconds=2.0, peak_rss_mb=700,
                               parameters=1, val_loss=0.4, val_accuracy=0.82,
                               fit_teardown_seconds=15.0 if strategy == "tfdata-repeat" else 0.3, fit_teardown_cpu_seconds=0.15))
    pd.DataFrame(results, columns=RESULT_COLUMNS).to_csv(out / schema.RESULTS, index=False)
    pd.DataFrame(steps, columns=STEP_COLUMNS).to_csv(out / schema.STEPS, index=False)
    pd.DataFrame(trials, columns=TRIAL_COLUMNS).to_csv(out / schema.TRIALS, index=False)


def test_an_idle_boundary_wait_is_named_and_kept_apart_from_step_speed(tmp_path):
    write_boundary_study(tmp_path)
    paths = {path.name for path in report.build(tmp_path)}
    assert {schema.BOUNDARIES_PLOT, schema.FULL_EPOCH_PLOT} <= paths
    summary = (tmp_path / "summary.md").read_text()
    answer = summary.split("## The full-size epoch")[0]
    # Full-size epochs: tfdata-repeat is faster per epoch (10 s against 30 s), the two step alike, and tfdata's
    # 20 s wait is the measured cause, with what to change.
    assert "For the epoch you train, measured in 4 blocks of full-size epochs:" in answer
    assert "**Use `tfdata-repeat`** (significantly faster than `tfdata` at full size): projected steady epoch 10.0 s" in answer
    assert "Epoch time it saves against each alternative: `tfdata` +67% [95% CI" in answer
    # its 15 s teardown, once per fit, is not in the epoch: said beside the recommendation, with when it pays off
    assert re.search(r"Once per fit, fit's teardown \(destroying its input iterator when fit ends\) takes 15\.0 s "
                     r"\(on average at full size: the mean of this study's 4 full-size fits; left out of the epoch "
                     r"above\): against the 2\d\.\d s it saves per epoch on `tfdata`, it pays off from the first "
                     r"epoch\.", answer), answer
    assert ("Once per fit, when it ends, a full-size fit's teardown waits on average: `tfdata-repeat` 15.0 s; the "
            "other 1 at most 0.30 s.") in answer
    assert "Per training step, against `tfdata` (1 of 1 decided): as fast as `tfdata` (within ±3%): `tfdata-repeat`." in answer
    assert "**At the boundary of a full-size epoch**, fit waits: `tfdata` 20.0 s per epoch (its own full-size epochs)" in answer
    assert "destroying the used tf.data iterator often waits, idle, until tf.data's autotune thread next wakes" in answer
    assert "No noticeable wait: `tfdata-repeat` (0.01 s)." in answer
    # fit's own teardowns, counted from the trials (tfdata's 0.3 s, 0.15 s of it CPU, is no wait)
    assert ("Once per fit, when fit ends and destroys its last iterator, it waited idle in this study's own fits: "
            "`tfdata-repeat` 4 of 4 (up to 15.0 s) - the boundary's idle wait") in answer
    assert "- `tfdata`: waits 20.0 s per full-size epoch at its boundary, on average; give fit one iterator" in answer
    assert "- At the limit (steps not slower than the compute-bound limit's, no boundary wait): `tfdata-repeat`." in answer
    # The measured epochs' own figures stay, as what they are.
    assert "**`tfdata` waits 20.0 s per steady epoch at the epoch boundary**" in summary
    assert "2% busy: an idle wait, not input work" in summary
    assert "## Epoch boundaries" in summary
    assert "| tfdata | 30.0 | 10.0 | 20.00 | 0.01 | 20.01 | 2% | 0.30 |" in summary
    assert "| tfdata-repeat | 10.0 | 10.0 | 0.00 | 0.01 | 0.01 | 100% | 15.00 |" in summary


def test_no_strategy_is_called_fastest_without_a_significant_verdict(tmp_path):
    write_boundary_study(tmp_path, blocks=1)  # one block: no interval, so no verdict can be significant
    report.build(tmp_path)
    title, answer = (tmp_path / "summary.md").read_text().split("## The full-size epoch")[0].split("\n", 1)
    assert "shortest" not in answer and "fastest" not in answer.replace("significantly faster", "")
    # nothing decided, so no advice to keep either: what ran, and why it could not decide
    assert "**Keep" not in answer and "**Use" not in answer
    assert ("**The full-size epochs are not yet told apart** after 1 block (the verdicts are first looked at after 2 "
            "blocks: a larger --budget, or --repeats, runs more): `tfdata` projects to ") in answer
    assert "(one block: no interval yet), and its alternative is not told apart from it." in answer
    # What is measured leads; what is undecided is counted, never opened with as a list of names
    opening = answer.strip().split("\n")[0]
    assert opening.index("Per training step, against `tfdata`: none of 1 decided yet") < opening.index(
        "At a full-size epoch's boundary, `fit` waits on average per epoch: `tfdata` 20.0 s; the other 1 at most 0.01 s."
    ) < opening.index("**The full-size epochs are not yet told apart**")
    assert "not yet decided:" not in answer and "Not yet told apart from it" not in answer


def test_open_per_step_verdicts_come_with_the_study_that_would_decide_them(tmp_path):
    """The headline says what spread kept the per-step verdicts open and what to run to decide them: a fixed plan
    of the blocks that decide a 10% difference at that spread, with this study's epochs, at this study's pace."""
    from study import analysis
    from study.analysis.deciding import DIFFERENCE

    write_boundary_study(tmp_path, step_noise=0.15)
    ending = {"blocks_run": 4, "stopped": "all 4 planned blocks ran", "seconds_before_report": 1200.0}
    (tmp_path / schema.PLAN).write_text(json.dumps({"ending": ending}))
    deciding = analysis.analyse_study(analysis.load(tmp_path)).deciding[None]
    assert deciding.open_verdicts == 1 and deciding.blocks_run == 4 and deciding.blocks > 4
    assert deciding.blocks == stats.blocks_needed(deciding.spread, DIFFERENCE, sequential=False)
    assert deciding.minutes == pytest.approx(deciding.blocks * 1200.0 / 4 / 60)  # this study's 5 min per block
    report.build(tmp_path)
    opening = (tmp_path / "summary.md").read_text().splitlines()[2]
    budget_minutes = 5 * math.ceil(deciding.minutes / 0.9 / 5)
    assert (f"Per training step, against `tfdata`: none of 1 decided yet (the verdicts, with their intervals, are in "
            f"the tables below). The open verdict's log step ratios scattered from block to block by "
            f"{deciding.spread:.2f} (median), at which a difference of 10% or more per step decides in "
            f"{deciding.blocks} blocks, not 4 - about ") in opening
    assert (f"at this study's pace: the same command with `--repeats {deciding.blocks} --epochs 3 --budget "
            f"{budget_minutes}`.") in opening


def test_what_would_decide_follows_the_spread_and_the_pace():
    from types import SimpleNamespace

    from study.analysis.deciding import deciding
    from study.config import StudyConfig
    from study.report.answer import _what_would_decide

    def open_verdicts(*spreads):
        return [SimpleNamespace(spread=spread) for spread in spreads]

    pace = {"ending": {"blocks_run": 5, "seconds_before_report": 1500.0}}
    assert deciding([], 5, pace) is None  # nothing open: nothing to say
    assert deciding(open_verdicts(math.nan), 1, pace) is None  # one block: no spread yet
    noisy, quiet = deciding(open_verdicts(0.15, 0.10, 0.20), 5, pace), deciding(open_verdicts(0.03), 5, pace)
    assert noisy.spread == 0.15 and noisy.blocks > quiet.blocks  # the median spread; more blocks when it is wider
    assert math.isnan(deciding(open_verdicts(0.15), 5, {}).minutes)  # no pace recorded: no time, still the blocks
    config = StudyConfig(strategies=("arrays", "tfdata"), epochs=2, limit=1408)
    assert f"`--repeats {noisy.blocks} --epochs 2 --limit 1408 --budget " in _what_would_decide(noisy, config)
    assert _what_would_decide(None, config) == ""
    # Blocks enough for 10% already ran: the open differences are smaller than that, and no command is offered.
    assert _what_would_decide(quiet, config).endswith(
        f"decides in {quiet.blocks} blocks: the open ones likely differ by less than 10%.")
    assert _what_would_decide(noisy, config).startswith(" The 3 open verdicts' log step ratios scattered ")


def _opening(summary: str, lines: int = 10) -> list[str]:
    return summary.splitlines()[:lines]


def test_the_summary_opens_with_the_answer_then_the_plot_that_answers_it(built, tmp_path):
    write_boundary_study(tmp_path)  # its answer carries the longer boundary-wait paragraphs too
    report.build(tmp_path)
    for summary in ((built[0] / "summary.md").read_text(), (tmp_path / "summary.md").read_text()):
        opening = _opening(summary)
        assert opening[0].startswith("# ") and not opening[2].startswith(("#", "!", "|"))  # the answer, in words
        answering, steps = f"({schema.FULL_EPOCH_PLOT})", f"({schema.STEP_TIME_PLOT})"
        plot_lines = [i for i, line in enumerate(opening) if line.startswith("![") and line.endswith(answering)]
        assert plot_lines, "\n".join(opening)
        assert summary.count(answering) == 1  # shown once, at the top; the other plots further down
        assert summary.index(answering) < summary.index("## The full-size epoch") < summary.index(steps)


def test_the_epoch_time_plots_table_is_the_median_and_interval_of_the_steady_epochs(built):
    """plots.plot_epoch_time draws analysis.tables.epoch_time_table: each strategy's median steady epoch with its
    bootstrap interval at the study's seed - the figures of summary.md's table."""
    from study import analysis, bootstrap
    from study.analysis import tables
    from study.schema import steady

    out, _ = built
    study = analysis.load(out)
    result = analysis.analyse(study.results, study.trials, analysis.baseline_of(study.config.strategies),
                              seed=study.config.seed, steps=study.steps)
    table = tables.epoch_time_table(result.findings)
    rows = steady(study.results)
    for value in result.sweep_values:
        at_value = rows[rows["sweep_value"] == value]
        drawn = table[table["value"] == value]
        expected = [bootstrap.median_interval(at_value.loc[at_value["strategy"] == name, "epoch_seconds"], seed=study.config.seed)
                    for name in drawn["strategy"]]
        assert [stats.Interval(*row) for row in drawn[["seconds", "low", "high"]].itertuples(index=False)] == expected


# --- a verdict in words (study/report/words.py) -----------------------------------------------------------


def _blocks_with_ratios(ratios):
    return [[r, r] for r in ratios], [[1.0, 1.0]] * len(ratios)


def test_a_clear_speed_up_reads_like_hyperfine_with_a_percentage():
    blocks = _blocks_with_ratios([0.8, 0.81, 0.79, 0.80, 0.8, 0.79])
    sentence = comparison_sentence(stats.compare("tfdata", "arrays", *blocks, planned_blocks=6))
    assert sentence.startswith("tfdata is 1.25 (95% CI 1.24-1.27) times faster than arrays: ")
    assert "faster by 25.3% [95% CI 23.7-26.8%]" in sentence
    assert sentence.endswith("(6 blocks)")
    assert "in CPU time" in comparison_sentence(stats.compare("tfdata", "arrays", *blocks, planned_blocks=6), "CPU time")
    # A fixed plan of the same 6 blocks (one look) is narrower.
    assert "faster by 25.3% [95% CI 24.0-26.5%]" in comparison_sentence(stats.compare("tfdata", "arrays", *blocks))


def test_a_slow_down_within_the_margin_says_so():
    sentence = comparison_sentence(stats.compare(
        "b", "a", *_blocks_with_ratios([1.010, 1.011, 1.012, 1.010, 1.011, 1.012, 1.011, 1.010]), planned_blocks=12
    ))
    assert "slower by 1.1%" in sentence and "within the ±3% equivalence margin" in sentence


def test_equivalent_sentence_states_the_margin():
    blocks = _blocks_with_ratios([1.002, 0.998, 1.001, 0.999, 1.0, 1.003, 0.997, 1.0])
    sentence = comparison_sentence(stats.compare("b", "a", *blocks, planned_blocks=12))
    assert sentence.startswith("b and a are equivalent within ±3%: time ratio 1.000 [95% CI 0.99")


def test_too_few_blocks_says_why():
    one = comparison_sentence(stats.compare("b", "a", [[1.5, 1.5]], [[1.0, 1.0]], planned_blocks=6))
    assert "too few blocks" in one and "at least two blocks" in one
    three = comparison_sentence(stats.compare("b", "a", *_blocks_with_ratios([1.5, 1.4, 1.6]), planned_blocks=6))
    assert "the plan's first look is after 4 blocks" in three


def test_undecided_states_the_interval_and_the_blocks_that_would_decide():
    comparison = stats.compare("b", "a", *_blocks_with_ratios([1.05, 0.97, 1.02, 0.95, 1.04, 0.99]), planned_blocks=12)
    sentence = comparison_sentence(comparison)
    assert "undecided: the interval spans 0.9" in sentence
    assert f"about {comparison.more_blocks_needed} more blocks would decide a difference of 3%" in sentence


def test_a_recommendation_whose_teardown_waits_says_from_how_many_epochs_it_pays_off():
    from types import SimpleNamespace

    from study import projection
    from study.report.answer import _teardown_caveat

    def finding(strategy, projected, teardown_probes=0, waits=0, median=float("nan"), teardown=projection.FullTeardown()):
        full = projection.FullBoundary(projection.ONE_ITERATOR, 0.0, teardown_probes=teardown_probes,
                                       teardown_waits=waits, teardown_seconds=(median, median + 0.3), teardown=teardown)
        return SimpleNamespace(strategy=strategy, projected_seconds=stats.Interval(projected, projected - 1, projected + 1),
                               full_boundary=full, boundary=SimpleNamespace(teardown_seconds=float("nan")))

    arrays = finding("arrays", 66.4)
    # At full size: 3 of 4 fits waited, 30.4 s each at a full fit's age - 22.8 s on average, once, against 5.9 s per
    # epoch: 3 epochs save 17.7 s, 4 save 23.6 s
    at_full_size = finding("tfdata-repeat", 60.5, teardown=projection.FullTeardown(3, 4, 30.4, 187.5))
    assert _teardown_caveat(at_full_size, arrays) == (
        " Once per fit, fit's teardown (destroying its input iterator when fit ends) takes 22.8 s (on average at full "
        "size: 3 of 4 of this study's fits waited; at a full-size fit's end a wait lasts 30.4 s, the iterator 188 s "
        "old; left out of the epoch above): against the 5.9 s it saves per epoch on `arrays`, it pays off in a fit of "
        "4 epochs or more.")
    # A study from before the probes watched a kept iterator's wake-up: its probes' own destruction.
    chosen = finding("tfdata-repeat", 60.5, 4, 3, 22.7)
    assert _teardown_caveat(chosen, arrays).startswith(
        " Once per fit, fit's teardown (destroying its input iterator when fit ends) takes 22.7 s (median; 3 of 4 "
        "probes waited; left out of the epoch above)")
    assert _teardown_caveat(finding("tfdata-repeat", 60.5, 4, 0, 0.2), arrays) == ""  # no wait: nothing to say
    never = finding("tfdata-repeat", 60.5, teardown=projection.FullTeardown(0, 4, 30.4, 187.5))
    assert _teardown_caveat(never, arrays) == ""  # its fits never waited: nothing to say, however long a wait


def test_the_headline_gives_fits_teardown_at_full_size_once_per_fit_after_the_boundary():
    from types import SimpleNamespace

    from study import analysis, projection
    from study.report.answer import _boundary_headline

    def finding(strategy, boundary, teardown, waits=False):
        full = projection.FullBoundary(projection.PROBED, boundary, teardown=teardown)
        return SimpleNamespace(strategy=strategy, full_boundary=full,
                               causes=(analysis.WAITS_AT_BOUNDARY,) if waits else ())

    findings = [finding("arrays", 12.9, projection.FullTeardown(3, 4, 27.7, 55.0), waits=True),
                finding("tfdata-repeat", 0.0, projection.FullTeardown(2, 4, 41.0, 165.0)),
                finding("pydataset", 0.3, projection.FullTeardown(0, 4, 20.0, 55.0)),
                finding("grain", 0.0, projection.FullTeardown(1, 4))]  # no wake-up seen: not measured
    assert _boundary_headline(findings) == (
        " At a full-size epoch's boundary, `fit` waits on average per epoch: `arrays` 12.9 s; the other 3 at most "
        "0.30 s. Once per fit, when it ends, a full-size fit's teardown waits on average: `arrays` 20.8 s, "
        "`tfdata-repeat` 20.5 s; the other 1 at most 0.00 s; not measured at full size for 1.")


def test_an_alternative_faster_only_on_its_own_interval_is_not_recommended_and_the_headline_says_why():
    from types import SimpleNamespace

    from study.analysis.result import Recommendation
    from study.report.answer import _recommendation

    arrays = [[66.0], [67.5], [65.0], [66.5]]
    repeat = [[60.0], [61.5], [59.5], [60.5]]  # about 9% shorter in every block: decided on its own 95% interval
    alone = stats.compare("tfdata-repeat", "arrays", repeat, arrays)
    assert alone.verdict == stats.FASTER
    findings = [SimpleNamespace(strategy=name, projected_seconds=stats.Interval(seconds, seconds - 1, seconds + 1))
                for name, seconds in (("arrays", 66.2), ("tfdata-repeat", 60.4))]
    # The best-looking of 13 alternatives, not decided once all 13 are counted: the baseline stays, and says why.
    kept = Recommendation("arrays", [alone], alternatives=13, faster_alone=[alone])
    headline = _recommendation(kept, "arrays", findings)
    assert headline.startswith(
        "**Keep `arrays`** (no alternative is significantly faster at full size, all 13 alternatives counted; on its "
        "own 95% interval `tfdata-repeat` 9% shorter [95% CI ")
    assert "but when 13 alternatives are all as fast, chance alone makes one look so in up to 28% of studies): " \
           "projected steady epoch 66.2 s" in headline
    assert "saves against" not in headline  # a faster alternative is no saving of the baseline's


def test_a_swept_setting_is_compared_with_itself_per_strategy(tmp_path):
    """write_study plants at the second value: generator-online 30 / 10 s, tfdata-online 14 / 10.5 s, the limit 9 / 9 s,
    with the same pace in both values of a block; steps are 1/10 of each epoch."""
    write_study(tmp_path, sweep=("intra-op-threads", (0, 1)))
    report.build(tmp_path)
    summary = (tmp_path / "summary.md").read_text()
    head = next(line for line in summary.splitlines() if line.startswith("**What intra-op-threads itself does**"))
    assert "each strategy against itself at intra-op-threads = 0, paired within blocks" in head
    assert re.search(r"longer: `tfdata-online` \+33% \[\+3\d% to \+3\d%\], `generator-online` \+(199|200|201)% \[", head), head
    assert "as long (within ±3%): `compute-bound`" in head
    assert "set_intra_op_parallelism_threads" not in summary  # one thread made no step shorter: nothing to advise
    assert "- tfdata-online at 1 is 1.33 (95% CI 1.33-1.34) times slower than tfdata-online at 0 in time in steps" in summary
    assert "- tfdata-online at 1 is 1.33 (95% CI 1.33-1.34) times slower than tfdata-online at 0 in CPU per step" in summary


def test_intra_op_threads_that_shorten_steps_come_with_the_line_to_copy(tmp_path):
    """The same planted effects the other way round: at 2 threads (the first-written value) the feeds' epochs are
    the short ones, and the sweep's reference is its lowest value, 0."""
    write_study(tmp_path, sweep=("intra-op-threads", (2, 0)))
    report.build(tmp_path)
    summary = (tmp_path / "summary.md").read_text()
    assert "at intra-op-threads = 2, shorter: `generator-online` -67% [" in summary
    assert ("For `generator-online`, `tfdata-online`, train with 2 intra-op threads: "
            "`tf.config.threading.set_intra_op_parallelism_threads(2)` before your first TensorFlow op "
            "(or `TF_NUM_INTRAOP_THREADS=2` in the environment).") in summary


def test_a_sweep_of_another_setting_gets_the_paragraph_without_thread_advice(built):
    out, _ = built  # a preprocess-cost sweep: each strategy compared with itself, but no intra-op advice
    summary = (out / "summary.md").read_text()
    assert "**What preprocess-cost itself does**" in summary and "set_intra_op_parallelism_threads" not in summary


def test_the_intra_op_advice_names_feeds_only_and_stays_silent_without_a_decided_shortening():
    from study.analysis.setting_effects import SettingEffect
    from study.report.answer import _intra_op_advice

    def effect(strategy, low, high, verdict):
        ratio = stats.Interval(math.sqrt(low * high), low, high)
        comparison = stats.Comparison(f"{strategy} at 1", f"{strategy} at 0", ratio, 8, verdict, 0.03, None, 0.1, 0.95, 8)
        return SettingEffect(strategy, 1, 0, comparison, comparison)

    limit_only = [effect("compute-bound", 0.8, 0.9, stats.FASTER), effect("arrays", 0.7, 1.1, stats.UNDECIDED)]
    assert _intra_op_advice(limit_only).startswith(" For this model's own steps (the limit's; no feed decided), train with 1")
    both = [effect("compute-bound", 0.8, 0.9, stats.FASTER), effect("arrays", 0.8, 0.9, stats.FASTER)]
    assert _intra_op_advice(both).startswith(" For `arrays`, train with 1 intra-op thread: ")
    assert _intra_op_advice([effect("arrays", 0.7, 1.1, stats.UNDECIDED), effect("tfdata", 1.1, 1.2, stats.SLOWER)]) == ""
