"""Where warm-up ends in one trial's step times: MSER-5, the marginal standard error rule.

A trial's first steps include graph tracing, the input pipeline's first fill and autotuning, so they are
slower than the rest; counting them biases the steady-state figures, and dropping one whole epoch by rule
either keeps some of it (long warm-up) or throws away good steps (short warm-up). MSER (White 1997, "An
effective truncation heuristic for bias reduction in simulation output", Simulation 69(6):323-334; MSER-5 in
White, Cobb & Spratt 2000) picks the truncation point d that minimizes

    MSER(d) = sum_{j > d} (Y_j - mean(Y_{d+1..k}))^2 / (k - d)^2

over the k batch means Y_j of 5 consecutive steps: the squared standard error of the mean of what is kept.
Dropping warm-up steps lowers the spread of the rest; dropping steady steps only shrinks the sample, which
raises the statistic - the minimum is where the series settles.

One change from White's rule, on by default (`robust=True`): each batch is summarized by its median, not its
mean. An isolated slow step in the steady part (an epoch's first step re-creating the iterator, a
garbage-collection pause) adds the same amount to the sum of squares at every d, and since MSER divides by
(k - d)^2 that pulls the cut earlier, keeping warm-up; a batch median ignores one odd step in five. On a
series without spikes both cut where what is left of the warm-up is within the noise
(tests/test_steady_state.py); batch medians scatter a little more, so their cut varies a little more.

As is customary (and because the statistic is unstable when few batches remain), d is searched only over
the first half of the series; a minimum at that limit means the series may not have settled at all, and
`WarmUp.reached` is False. Series shorter than `MIN_BATCHES` batches are not judged (end 0, not reached).

Pure NumPy; the step times are in any unit, in the order they ran (all epochs of one trial, concatenated).
"""

from __future__ import annotations

import dataclasses

import numpy as np

BATCH = 5  # MSER-5: batch means of five steps smooth the step-to-step noise
MAX_FRACTION = 0.5  # search truncation points in the first half of the series only
MIN_BATCHES = 4


@dataclasses.dataclass(frozen=True)
class WarmUp:
    """`end`: index of the first steady step (steps [0, end) are warm-up); `reached`: whether the series
    settled inside the searched range (False also when it is too short to judge)."""

    end: int
    reached: bool
    steps: int  # length of the series judged

    @property
    def steady_steps(self) -> int:
        return self.steps - self.end


def mser(batch_means) -> np.ndarray:
    """MSER(d) for every truncation d = 0 .. k-1 batches (the last one, a single batch, is nan)."""
    values = np.asarray(batch_means, dtype=float)
    kept = np.arange(values.size, 0, -1, dtype=float)  # k - d
    suffix_sum = np.cumsum(values[::-1])[::-1]
    suffix_squares = np.cumsum((values**2)[::-1])[::-1]
    sum_squares = np.maximum(suffix_squares - suffix_sum**2 / kept, 0.0)
    statistic = sum_squares / kept**2
    statistic[-1] = np.nan
    return statistic


def warmup_end(step_seconds, batch: int = BATCH, max_fraction: float = MAX_FRACTION, robust: bool = True) -> WarmUp:
    """Where warm-up ends in one trial's sequence of step times, by MSER-`batch` (batch medians when
    `robust`, White's batch means otherwise)."""
    values = np.asarray(step_seconds, dtype=float)
    batches = values.size // batch
    if batches < MIN_BATCHES or not np.all(np.isfinite(values)):
        return WarmUp(0, False, int(values.size))
    # Batches are taken from the start, so warm-up is cut at a batch boundary; a remainder at the end is left out.
    grouped = values[: batches * batch].reshape(batches, batch)
    statistic = mser(np.median(grouped, axis=1) if robust else grouped.mean(axis=1))
    limit = int(np.floor(max_fraction * batches))
    best = int(np.nanargmin(statistic[: limit + 1]))
    return WarmUp(best * batch, best < limit, int(values.size))
