from collections import Counter

from study.plan import plan_blocks


def test_every_block_runs_every_strategy_once_plus_the_reference():
    plan = plan_blocks(["arrays", "generator", "tfdata"], "compute-bound", repeats=4, seed=0)
    assert len(plan) == 16
    for block in range(1, 5):
        members = [trial.strategy for trial in plan if trial.repeat == block]
        assert Counter(members) == Counter(["arrays", "generator", "tfdata", "compute-bound"])
    # blocks run one after another
    assert [trial.repeat for trial in plan] == sorted(trial.repeat for trial in plan)


def test_orders_differ_between_blocks_and_are_seeded():
    plan = plan_blocks(["a", "b", "c", "d"], "ref", repeats=6, seed=1)
    orders = {tuple(t.strategy for t in plan if t.repeat == block) for block in range(1, 7)}
    assert len(orders) > 1
    assert plan == plan_blocks(["a", "b", "c", "d"], "ref", repeats=6, seed=1)
    assert plan != plan_blocks(["a", "b", "c", "d"], "ref", repeats=6, seed=2)


def test_sweep_values_are_interleaved_inside_each_block():
    plan = plan_blocks(["a"], "ref", repeats=2, seed=0, sweep_values=(0, 100))
    for block in (1, 2):
        keys = {(t.strategy, t.sweep_value) for t in plan if t.repeat == block}
        assert keys == {("a", 0), ("a", 100), ("ref", 0), ("ref", 100)}
