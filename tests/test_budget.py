"""The budget planner: arithmetic on a calibration, so the cases have exact answers."""

import re

import pytest

from study import budget
from study.budget import BudgetError, Calibration, plan

# Like the 2-core development machine: 20 s per trial before it trains, 95 ms per step of the LSTM.
MACHINE = Calibration(trial_overhead_seconds=20.0, step_seconds=0.095)
FULL = dict(train_size=20_000, batch_size=32, report_seconds=60.0)


def test_thirty_minutes_for_every_strategy_plans_deciding_blocks_of_cut_epochs_within_the_budget():
    chosen = plan(30 * 60, 30.0, MACHINE, trials_per_block=11, **FULL)
    assert chosen.blocks >= budget.MIN_DECIDING_BLOCKS and chosen.sequential
    assert chosen.max_blocks >= chosen.blocks
    assert chosen.epochs == budget.PLANNED_EPOCHS
    assert budget.MIN_STEPS_PER_EPOCH <= chosen.steps_per_epoch < 625
    assert chosen.limit == chosen.steps_per_epoch * 32
    assert chosen.total_seconds <= 30 * 60
    assert any("training examples per epoch" in cut for cut in chosen.cuts)
    assert 0 < chosen.detectable_difference < 1


def test_a_larger_budget_buys_longer_epochs_up_to_the_full_split():
    short = plan(30 * 60, 30.0, MACHINE, trials_per_block=4, **FULL)
    long = plan(600 * 60, 30.0, MACHINE, trials_per_block=4, **FULL)
    assert short.steps_per_epoch < long.steps_per_epoch == 625
    assert long.limit is None and not any("training examples" in cut for cut in long.cuts)


def test_explicit_settings_win_and_the_plan_says_what_they_cost():
    chosen = plan(12 * 60, 30.0, MACHINE, trials_per_block=4, epochs=3, repeats=3, limit=None, **FULL)
    assert (chosen.blocks, chosen.max_blocks, chosen.epochs, chosen.sequential) == (3, 3, 3, False)
    explicit = plan(12 * 60, 30.0, MACHINE, trials_per_block=4, epochs=3, repeats=3, limit=20_000, **FULL)
    assert explicit.steps_per_epoch == 625 and explicit.limit == 20_000
    assert explicit.total_seconds > 12 * 60
    assert "over the budget by" in explicit.describe(4)


def test_a_budget_too_small_to_decide_is_refused_with_what_it_would_need():
    with pytest.raises(BudgetError, match=r"--budget 3 min is too short .* it needs at least \d+ min"):
        plan(3 * 60, 30.0, MACHINE, trials_per_block=11, **FULL)


def test_the_budget_a_refusal_names_is_more_than_the_one_refused_and_enough():
    # A slow machine, every strategy: 30 minutes cannot hold three blocks; the message must not name less.
    slow = Calibration(trial_overhead_seconds=20.0, step_seconds=0.25)
    with pytest.raises(BudgetError) as refused:
        plan(30 * 60, 40.0, slow, trials_per_block=15, **FULL)
    needed = int(re.search(r"needs at least (\d+) min", str(refused.value)).group(1))
    assert needed > 30
    assert plan(needed * 60, 40.0, slow, trials_per_block=15, **FULL).blocks >= budget.MIN_BLOCKS


def test_another_block_only_when_it_ends_before_the_budget():
    assert budget.another_block_fits(600.0, [300.0, 320.0], 1800.0, 60.0)
    assert not budget.another_block_fits(1500.0, [300.0, 320.0], 1800.0, 60.0)


def test_epochs_of_steady_length_come_before_more_blocks_while_the_plan_keeps_its_first_look():
    # 14 trials per block in 30 minutes: 6 blocks of 21 steps would fit, but 4 blocks of 40 or more steps decide more.
    chosen = plan(30 * 60, 40.0, Calibration(trial_overhead_seconds=8.0, step_seconds=0.09), trials_per_block=14, **FULL)
    assert chosen.blocks >= budget.MIN_DECIDING_BLOCKS and chosen.sequential
    assert chosen.steps_per_epoch >= budget.STEADY_STEPS_PER_EPOCH


# --- re-planning from what the blocks measured ------------------------------------------------------------


def _open(spread, needed):
    from study import stats

    return stats.Comparison("s", "arrays", stats.Interval(1.05, 0.9, 1.2), 4, stats.UNDECIDED,
                            more_blocks_needed=needed, spread=spread, planned_blocks=12)


def test_a_smaller_measured_spread_decides_smaller_differences_in_the_same_blocks():
    from study import budget

    narrow = budget.replan(4, 12, [_open(0.04, 3)], block_seconds=60.0, remaining_seconds=600.0)
    wide = budget.replan(4, 12, [_open(0.15, 3)], block_seconds=60.0, remaining_seconds=600.0)
    assert narrow.more_blocks == wide.more_blocks == 8
    assert narrow.detectable_difference < wide.detectable_difference
    assert narrow.spread == 0.04 and "spread of 0.04" in narrow.describe()


def test_cheaper_blocks_afford_more_of_them_but_never_past_the_planned_looks():
    from study import budget

    comparisons = [_open(0.08, 2), _open(0.08, 5), _open(0.08, 40)]
    slow = budget.replan(4, 12, comparisons, block_seconds=150.0, remaining_seconds=600.0)
    fast = budget.replan(4, 12, comparisons, block_seconds=50.0, remaining_seconds=600.0)
    assert (slow.more_blocks, fast.more_blocks) == (4, 8)  # 8 = the 12 planned looks less the 4 run
    assert (slow.expected_to_decide, fast.expected_to_decide) == (1, 2) and slow.open_verdicts == 3
    assert "2 of the 3 open verdict(s) are expected to decide" in fast.describe()


def test_no_block_left_in_the_budget_says_what_stays_open():
    from study import budget

    again = budget.replan(6, 12, [_open(0.1, 2)], block_seconds=300.0, remaining_seconds=100.0)
    assert again.more_blocks == 0 and "no more block fits, so 1 verdict(s) stay open" in again.describe()


def test_the_calibration_s_overhead_leaves_out_its_diagnostic_and_fit_s_teardown():
    from types import SimpleNamespace

    from study import budget_planning

    outcome = SimpleNamespace(wall_seconds=60.0, epochs=[{"epoch_seconds": 10.0}, {"epoch_seconds": 6.0}],
                              done={"diagnostic_seconds": 20.0, "fit_teardown_seconds": 6.5})
    assert budget_planning._overhead(outcome) == pytest.approx(17.5)
    outcome.done = {"diagnostic_seconds": 20.0}  # results recorded before the teardown was: no teardown to leave out
    assert budget_planning._overhead(outcome) == pytest.approx(24.0)


def test_the_calibration_s_warm_up_extra_is_its_first_epoch_beyond_its_steady_one():
    from types import SimpleNamespace

    from study import budget_planning

    assert budget_planning._warmup_extra(SimpleNamespace(epochs=[{"epoch_seconds": 10.0}, {"epoch_seconds": 6.0}])) == 4.0
    assert budget_planning._warmup_extra(SimpleNamespace(epochs=[{"epoch_seconds": 5.0}, {"epoch_seconds": 6.0}])) == 0.0


def test_every_trial_pays_the_warm_up_s_tracing_and_fit_s_teardown_besides_its_steps():
    import dataclasses

    settings = dict(trials_per_block=4, epochs=2, repeats=4, limit=2048, **FULL)
    plain = plan(30 * 60, 30.0, MACHINE, **settings)
    traced = plan(30 * 60, 30.0, dataclasses.replace(MACHINE, warmup_extra_seconds=5.0), **settings)
    steps = 2 * 64 * MACHINE.step_seconds * budget.INPUT_ALLOWANCE  # 2,048 examples: 64 steps per epoch
    assert plain.trial_seconds == pytest.approx(20.0 + budget.TEARDOWN_SECONDS + budget.PROBE_SECONDS + steps)
    assert traced.trial_seconds == pytest.approx(plain.trial_seconds + 5.0)
