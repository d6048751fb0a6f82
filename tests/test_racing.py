"""Racing: a strategy whose every verdict has decided leaves the later blocks (study/blocks.py), and the verdicts
stay as sound as without it (study/stats.py's guarantee holds at any look, whatever rule picks it)."""

import math
import time

import numpy as np

from study import blocks, budget, schema, stats
from study.config import StudyConfig
from study.plan import plan_blocks
from tests.test_stats import _allowance

STRATEGIES = ("arrays", "generator", "tfdata")


class _Progress:
    def __init__(self, total):
        self.total, self.echo = total, lambda line: None


def _run(monkeypatch, tmp_path, decided_after, planned_blocks=6, sweep=None):
    """The block loop with trials that only record themselves; `decided_after(blocks_run)` -> decided_strategies."""
    config = StudyConfig(strategies=STRATEGIES, repeats=planned_blocks, epochs=2, limit=64, out=str(tmp_path),
                         planned_blocks=planned_blocks, budget_minutes=1000.0, sweep=sweep)
    plan = plan_blocks(STRATEGIES, schema.COMPUTE_BOUND, planned_blocks, seed=0)
    ran, lines, looks = [], [], []

    def run_block(config, plan, block, done, progress, probing, window):
        ran.extend(block)
        return 0

    def decided(config):
        looks.append(len({trial.repeat for trial in ran}))
        return decided_after(looks[-1])

    monkeypatch.setattr(blocks, "_run_block", run_block)
    monkeypatch.setattr(blocks, "decided_strategies", decided)
    progress = _Progress(len(plan))
    # `started` is a time.monotonic() reading, as the runner's: 0.0 would count the machine's uptime as spent budget.
    ending = blocks._run_each_block(config, plan, set(), progress, lines.append, time.monotonic(),
                                    blocks.HeldTrials(lambda *a: None))
    return ran, lines, progress, ending


def test_a_strategy_whose_verdicts_decided_leaves_the_later_blocks_and_the_baseline_and_limit_stay(monkeypatch, tmp_path):
    ran, lines, progress, ending = _run(
        monkeypatch, tmp_path, lambda blocks_run: blocks.Look({"generator"} if blocks_run >= 4 else set(), False))
    per_block = {block: {trial.strategy for trial in ran if trial.repeat == block} for block in range(1, 7)}
    assert all(per_block[block] == {*STRATEGIES, schema.COMPUTE_BOUND} for block in (1, 2, 3, 4))
    assert all(per_block[block] == {"arrays", "tfdata", schema.COMPUTE_BOUND} for block in (5, 6))
    assert progress.total == 6 * 4 - 2
    assert "After 4 blocks every verdict of generator is decided: it leaves the later blocks (2 trials fewer)." in lines
    assert ending.blocks_run == 6


def test_no_strategy_leaves_before_the_first_look_or_in_a_sweep(monkeypatch, tmp_path):
    ran, lines, _, _ = _run(monkeypatch, tmp_path, lambda blocks_run: blocks.Look({"generator", "tfdata"}, False),
                            sweep=("preprocess-cost", (0, 10)))
    assert {trial.strategy for trial in ran if trial.repeat == 6} >= {"generator", "tfdata"}
    assert not any("leave" in line for line in lines)


def test_the_study_still_stops_when_every_verdict_is_decided(monkeypatch, tmp_path):
    _, _, _, ending = _run(monkeypatch, tmp_path, lambda blocks_run: blocks.Look({"generator", "tfdata"}, blocks_run >= 5))
    assert ending.blocks_run == 5 and ending.stopped == "every verdict decided after 5 blocks"


# --- the error guarantee with racing, simulated ----------------------------------------------------------

STUDIES = 2000


def _racing_studies(effects, studies, planned, seed, confidence=stats.CONFIDENCE, block_sd=0.06):
    """Studies of several strategies against one shared baseline, blocks paired; each strategy's verdict is taken at
    its first decided look (it leaves then), the study ends when all have decided or at `planned` blocks. Returns the
    verdict codes (+1 slower, -1 faster, 0 equivalent, nan undecided), shape (studies, strategies)."""
    rng = np.random.default_rng(seed)
    pace = np.exp(np.cumsum(rng.normal(0, 0.05, (studies, planned)), axis=1))  # drift common to a block
    baseline = np.log(pace) + rng.normal(0, block_sd / math.sqrt(2), (studies, planned))
    logs = [np.log(pace) + math.log1p(effect) + rng.normal(0, block_sd / math.sqrt(2), (studies, planned)) - baseline
            for effect in effects]  # the shared baseline makes the strategies' log ratios correlated
    critical = np.array([stats.critical_value(k, planned, confidence) for k in range(1, planned + 1)])
    n = np.arange(1, planned + 1)
    codes = np.full((studies, len(effects)), np.nan)
    for index, x in enumerate(logs):
        mean = np.cumsum(x, axis=1) / n
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = np.sqrt(np.maximum(np.cumsum(x**2, axis=1) - n * mean**2, 0) / (n - 1))
            half = critical * sd / np.sqrt(n)
        look = np.full(x.shape, np.nan)
        look[np.abs(mean) + half <= math.log1p(stats.MARGIN)] = 0.0
        look[mean - half > 0] = 1.0
        look[mean + half < 0] = -1.0
        decided = ~np.isnan(look)
        first = np.where(decided.any(axis=1), decided.argmax(axis=1), planned - 1)  # it leaves at its first verdict
        codes[:, index] = look[np.arange(studies), first]
    return codes


def _wrong(codes, effects):
    truth = np.array([0.0 if abs(effect) < 1e-12 else math.copysign(1.0, effect) for effect in effects])
    called_difference = ~np.isnan(codes) & (codes != 0)
    wrong_direction = called_difference & (codes != truth)  # includes calling a null effect faster or slower
    wrong_equivalence = (codes == 0) & (np.abs(np.log1p(np.array(effects))) > math.log1p(stats.MARGIN))
    return wrong_direction | wrong_equivalence


def test_with_racing_each_verdict_errs_no_more_often_than_alpha():
    effects = (0.0, 0.0, 0.05, -0.04, 0.02)
    wrong = _wrong(_racing_studies(effects, STUDIES, 12, seed=11), effects)
    assert (wrong.mean(axis=0) <= stats.ALPHA + _allowance(stats.ALPHA, STUDIES)).all(), wrong.mean(axis=0)


def test_with_racing_and_a_family_confidence_no_verdict_of_the_study_errs_more_often_than_alpha():
    """P(any wrong verdict) over all five, with each comparison at confidence 1 - alpha / 5 (Bonferroni)."""
    effects = (0.0, 0.0, 0.05, -0.04, 0.02)
    codes = _racing_studies(effects, STUDIES, 12, seed=12, confidence=1 - stats.ALPHA / len(effects))
    any_wrong = _wrong(codes, effects).any(axis=1).mean()
    assert any_wrong <= stats.ALPHA + _allowance(stats.ALPHA, STUDIES)
    # The check can fail: the same studies at each comparison's own 95% err, in some verdict, more often than alpha.
    loose = _wrong(_racing_studies(effects, STUDIES, 12, seed=12), effects).any(axis=1).mean()
    assert loose > stats.ALPHA


def test_each_look_that_goes_on_says_the_re_plan_and_keeps_it_in_plan_json(monkeypatch, tmp_path):
    import json

    from tests.test_budget import _open

    open_verdicts = [_open(0.05, 1), _open(0.05, 30)]
    _, lines, _, _ = _run(monkeypatch, tmp_path, lambda blocks_run: blocks.Look(set(), False, open_verdicts))
    said = [line for line in lines if line.startswith("Re-planned after")]
    assert len(said) == 2 and said[0].startswith("Re-planned after 4 blocks from what they measured: a block-to-block "
                                                 f"spread of 0.05 (the prior was {budget.PRIOR_SPREAD:.2f})")
    assert "1 of the 2 open verdict(s) are expected to decide" in said[0]
    replans = json.loads((tmp_path / "plan.json").read_text())["replans"]
    assert [r["blocks_run"] for r in replans] == [4, 5] and [r["more_blocks"] for r in replans] == [2, 1]
