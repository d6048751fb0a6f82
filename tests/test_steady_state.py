import numpy as np
import pytest

from study import steady_state

STEADY_SECONDS = 0.10
NOISE = 0.005


def _decaying_warmup(seed, steps=600, scale=20.0):
    """Steps start 5x slow and decay to 0.1 s with time constant `scale`, plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    return STEADY_SECONDS * (1 + 4 * np.exp(-t / scale)) + NOISE * rng.standard_normal(steps)


def test_mser_by_hand():
    means = np.array([5.0, 1.0, 1.2, 0.8, 1.0])
    statistic = steady_state.mser(means)
    tail = means[1:]
    assert statistic[1] == pytest.approx(np.sum((tail - tail.mean()) ** 2) / 4**2)
    assert statistic[0] == pytest.approx(np.sum((means - means.mean()) ** 2) / 5**2)
    assert np.isnan(statistic[-1]) and int(np.nanargmin(statistic)) == 1


@pytest.mark.parametrize("robust", [True, False])
@pytest.mark.parametrize("seed", range(5))
def test_a_decaying_warm_up_is_cut_where_it_meets_the_noise(seed, robust):
    steps = _decaying_warmup(seed)
    warm_up = steady_state.warmup_end(steps, robust=robust)
    # The excess 0.4 exp(-t/20) is one noise SD at t = 20 ln(80) = 88 and a tenth of it by t = 134.
    assert warm_up.reached and 60 <= warm_up.end <= 160 and warm_up.end % 5 == 0
    # What warm-up is left in the kept steps biases their mean by less than two standard errors of it
    # (keeping everything: six; cutting at step 40: nine).
    kept = np.arange(warm_up.end, steps.size)
    left_over = np.mean(STEADY_SECONDS * 4 * np.exp(-kept / 20.0))
    assert left_over < 2 * NOISE / np.sqrt(kept.size)


def test_a_series_already_steady_keeps_almost_everything():
    rng = np.random.default_rng(0)
    steps = STEADY_SECONDS + NOISE * rng.standard_normal(600)
    warm_up = steady_state.warmup_end(steps)
    assert warm_up.reached and warm_up.end <= 30 and warm_up.steady_steps == 600 - warm_up.end


def test_one_tracing_step_drops_its_batch_only():
    rng = np.random.default_rng(1)
    steps = STEADY_SECONDS + NOISE * rng.standard_normal(300)
    steps[0] = 3.0  # graph tracing
    assert steady_state.warmup_end(steps).end == 5


def test_spikes_in_the_steady_part_do_not_move_the_cut():
    steps = _decaying_warmup(2)
    clean = steady_state.warmup_end(steps).end
    steps[[250, 400, 520]] += 0.5  # e.g. an epoch's first step re-creating its iterator
    assert abs(steady_state.warmup_end(steps).end - clean) <= 10
    # ... which they do with White's batch means: the spikes pull the cut early, keeping warm-up.
    assert steady_state.warmup_end(steps, robust=False).end < clean - 30


def test_a_series_still_warming_up_is_not_called_steady():
    rng = np.random.default_rng(3)
    steps = np.linspace(0.3, 0.1, 400) + 0.001 * rng.standard_normal(400)  # still improving at the end
    assert not steady_state.warmup_end(steps).reached


def test_too_short_a_series_is_not_judged():
    assert steady_state.warmup_end([0.5, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]) == steady_state.WarmUp(0, False, 7)
    assert not steady_state.warmup_end([]).reached


def test_a_trials_steady_step_time_leaves_out_the_tracing_step_even_when_mser_keeps_everything():
    """The first step traces the train function; batch medians see it as one odd step in five and may cut
    nothing, but the steady mean must not include it (it would dominate a short trial's mean)."""
    import pandas as pd

    from study.analysis.epochs import steady_step_seconds

    steady = 0.1 + 0.01 * np.random.default_rng(0).standard_normal(41)  # seed 0: MSER-5 alone cuts nothing
    seconds = [1.6, *steady]
    steps = pd.DataFrame({"strategy": "arrays", "repeat": 1, "sweep_value": None, "epoch": [1] * 21 + [2] * 21,
                          "step": list(range(1, 22)) * 2, "step_seconds": seconds})
    row = steady_step_seconds(steps).iloc[0]
    assert row["warmup_steps"] >= 1 and abs(row["steady_step_seconds"] - steady.mean()) < 1e-9
