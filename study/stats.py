"""Paired block comparisons with an always-valid confidence sequence, and verdicts that decide.

The unit of comparison is the block: the trials of one block run back to back, so the machine's pace, which
drifts slowly (48 s to 85 s for the same epoch on the 2-core development machine), is nearly the same for
every strategy in it. Within block i the study measures

    x_i = log(median strategy value in block i / median baseline value in block i)

(wall or CPU seconds of the steady epochs), and compares strategies through the mean log ratio mu over
blocks; drift common to a block cancels in x_i.

Method: Lai's t confidence sequence
-----------------------------------
The study looks after every block and stops once every verdict is decided, so a fixed-sample interval
(Student t over the blocks) would be wrong: checking it after every block and stopping at the first
"significant" look inflates the error rate well above 5% (tests/test_stats.py measures it). Instead the
interval for mu is a *confidence sequence*: a sequence of intervals CS_n that holds the true mu at every
n simultaneously with probability >= 1 - alpha,

    P(mu in CS_n for all n >= 1) >= 1 - alpha,

so it stays valid at any data-dependent stopping time ("always valid", "anytime valid").

The block-to-block variance sigma^2 is unknown, so a plain normal-mixture (Robbins) boundary, which needs
sigma, does not apply and a plug-in sigma-hat is not sound at 3-10 blocks. We use the scale-invariant
mixture of Lai (1976, "On confidence sequences", Ann. Statist. 4:265-280), the t-test counterpart of
Robbins' normal mixture; its validity for unknown variance is shown by Wang & Ramdas (2023, "Anytime-valid
t-tests and confidence sequences for Gaussian means with unknown variance", Sequential Analysis) and by
Perez-Ortiz, Lardy, de Heide & Grunwald (2024, "E-statistics, group invariance and anytime-valid
testing", Ann. Statist.). For a candidate mu, with y_i = x_i - mu, the likelihood ratio of the scale-
invariant part of the data (right Haar prior d sigma / sigma on the scale; standardized effect
delta = (mean - mu) / sigma ~ N(0, tau^2) under the alternative) is

    M_n(mu) = (1 + n tau^2)^(-1/2) * ((SS_n + n d^2) / (SS_n + n d^2 / (1 + n tau^2)))^(n/2),

with d = xbar_n - mu and SS_n = sum (x_i - xbar_n)^2. M_n(mu) is a nonnegative martingale with mean 1 under
mu (in the filtration of the scale-invariant statistics), so by Ville's inequality
P(exists n: M_n(mu) >= 1/alpha) <= alpha, and CS_n = {mu: M_n(mu) < 1/alpha} is the closed-form interval
xbar_n +- half_width(n, SS_n) of `_half_width`. It is unbounded until (1 + n tau^2)^(n-1) > 1/alpha^2:
with tau^2 = 5 and alpha = 0.05, four blocks are the fewest that can decide anything.

tau^2 (`EFFECT_PRIOR_VARIANCE`) only tunes where the boundary is tightest and is fixed before any data, so
any value keeps the guarantee. 5 makes it tight for 5-30 blocks, the range budgeted studies run: the
half-width is 4.0, 3.7 and 3.6 times s/sqrt(n) at 10, 20 and 30 blocks, against 2.26, 2.09 and 2.05 for a
fixed-sample t interval - the price of looking after every block with no planned end. (A group-sequential
design with alpha spending is tighter but needs the maximum number of looks fixed in advance; the study's
budget decides when blocks stop, and the report can be re-analysed later without knowing the plan, so a
confidence sequence that never needs the plan is the safer choice here.)

Assumptions: the block log ratios are independent and normal with a common mean and variance. Pairing
removes drift common to a block; drift *within* a block adds noise with mean zero because the trial order
within each block is randomized (study.schedule). Log ratios of medians are close to normal; an outlying
block widens the interval (it inflates SS_n), which costs decisions, not validity of "equivalent".

Verdicts (the same interval decides all four, so their joint error rate is alpha):

- FASTER / SLOWER: the interval excludes 0 (a ratio of 1).
- EQUIVALENT: the whole interval lies inside [-log(1 + E), log(1 + E)] - the ratio is within
  [1/(1+E), 1+E] - an equivalence test in the spirit of TOST (Schuirmann 1987) on the always-valid interval.
  When the interval both excludes 1 and lies inside the margin, the decided direction is reported
  (FASTER/SLOWER) and the sentence adds that the gap is within the margin.
- UNDECIDED: neither. `more_blocks_needed` says about how many more blocks would decide if the blocks to
  come are like those so far (their mean and SD plugged in): the interval decides once its half-width is
  below |mean| (a difference) or below log(1+E) - |mean| (equivalence). It is a point forecast - in the
  simulations about half of the studies are decided after that many more blocks. The planner's
  `blocks_needed(spread, margin)` is the conservative version: enough blocks (half-width <= log(1+E)/2)
  that the interval decides whatever the true ratio.

Each comparison (one strategy against one baseline, on one clock) has error rate alpha on its own; with
many strategies and two clocks the chance that *some* verdict errs is larger (no multiplicity correction:
pass a higher `confidence` for a family-wise guarantee, e.g. Bonferroni 1 - alpha / comparisons).

Percentages follow hyperfine's factors: "faster by 25%" means the baseline takes 1.25 times as long;
"slower by 25%" means the strategy takes 1.25 times as long. The margin E is on the same scale.

Everything here takes plain NumPy data; pandas stays in the report.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

ALPHA = 0.05
CONFIDENCE = 1 - ALPHA
MARGIN = 0.03  # equivalence margin E: ratios within [1/(1+E), 1+E] count as the same speed
EFFECT_PRIOR_VARIANCE = 5.0  # tau^2 of Lai's mixture; fixed before data, tunes where the boundary is tight
RESAMPLES = 4000
MIN_BLOCKS = 2  # the spread between blocks needs at least two
MAX_BLOCKS_SEARCHED = 1_000_000  # blocks_needed gives up beyond this

FASTER = "faster"
SLOWER = "slower"
EQUIVALENT = "equivalent"
UNDECIDED = "undecided"
VERDICTS = (FASTER, SLOWER, EQUIVALENT, UNDECIDED)


@dataclasses.dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


@dataclasses.dataclass(frozen=True)
class Comparison:
    """`strategy` against `baseline`: ratio = strategy time / baseline time, paired within blocks.

    `ratio` is the geometric mean of the block ratios with its always-valid interval (0 to inf while the
    confidence sequence is still unbounded); `spread` the SD of the block log ratios (nan below two blocks);
    `more_blocks_needed` is set for UNDECIDED (None when the spread is not yet known).
    """

    strategy: str
    baseline: str
    ratio: Interval
    blocks: int
    verdict: str
    margin: float = MARGIN
    more_blocks_needed: int | None = None
    spread: float = math.nan
    confidence: float = CONFIDENCE

    @property
    def decided(self) -> bool:
        return self.verdict != UNDECIDED

    def sentence(self, unit: str = "") -> str:
        """In words, hyperfine style, e.g. 'tfdata is 1.25 (95% CI 1.20-1.31) times faster than arrays:
        faster by 25.0% [95% CI 20.0-31.0%] (12 blocks)'."""
        level = f"{self.confidence * 100:.0f}% CI"
        in_unit = f" in {unit}" if unit else ""
        blocks = f"{self.blocks} block{'s' if self.blocks != 1 else ''}"
        margin = f"{self.margin * 100:g}%"
        if self.verdict in (FASTER, SLOWER):
            if self.verdict == FASTER:
                factor = Interval(1 / self.ratio.estimate, 1 / self.ratio.high, 1 / self.ratio.low)
            else:
                factor = self.ratio
            within = (
                f"; the gap is within the ±{margin} equivalence margin"
                if _inside_margin(self.ratio, self.margin)
                else ""
            )
            return (
                f"{self.strategy} is {factor.estimate:.2f} ({level} {factor.low:.2f}-{factor.high:.2f}) times "
                f"{self.verdict} than {self.baseline}{in_unit}: {self.verdict} by {_percent(factor.estimate)} "
                f"[{level} {(factor.low - 1) * 100:.1f}-{(factor.high - 1) * 100:.1f}%] ({blocks}{within})"
            )
        if self.verdict == EQUIVALENT:
            return (
                f"{self.strategy} and {self.baseline} are equivalent within ±{margin}{in_unit}: time ratio "
                f"{self.ratio.estimate:.3f} [{level} {self.ratio.low:.3f}-{self.ratio.high:.3f}] ({blocks})"
            )
        if math.isinf(self.ratio.high) or self.ratio.low <= 0:
            spans = "every ratio (too few blocks for an always-valid interval)"
        else:
            spans = (
                f"{self.ratio.low:.3f}-{self.ratio.high:.3f} ({_signed(self.ratio.low)} to "
                f"{_signed(self.ratio.high)} time)"
            )
        if self.more_blocks_needed is None:
            more = "at least two blocks are needed to estimate the spread between blocks"
        else:
            plural = "s" if self.more_blocks_needed != 1 else ""
            more = f"about {self.more_blocks_needed} more block{plural} would decide a difference of {margin}"
        return (
            f"{self.strategy} vs {self.baseline}{in_unit}: undecided: the interval spans {spans}; {more} "
            f"(ratio {self.ratio.estimate:.3f}, {blocks})"
        )


def _percent(factor: float) -> str:
    return f"{(factor - 1) * 100:.1f}%"


def _signed(ratio: float) -> str:
    return f"{(ratio - 1) * 100:+.1f}%"


def _inside_margin(ratio: Interval, margin: float) -> bool:
    return 1 / (1 + margin) <= ratio.low and ratio.high <= 1 + margin


# --- the confidence sequence ----------------------------------------------------------------------------


def _half_width(blocks, sum_squares, alpha: float = ALPHA, tau2: float = EFFECT_PRIOR_VARIANCE):
    """Half-width of Lai's confidence sequence for the mean after `blocks` observations whose squared
    deviations from their mean sum to `sum_squares`; inf where it is still unbounded. Vectorized.

    Solves M_n(mu) < 1/alpha (module docstring) for d^2 = (xbar - mu)^2: with r = n d^2 / SS, g = 1 + n tau^2
    and K = (sqrt(g) / alpha)^(2/n), the condition (1 + r) / (1 + r/g) < K holds for r < (K-1) / (1 - K/g),
    and for every r when K >= g.
    """
    n = np.asarray(blocks, dtype=float)
    sum_squares = np.asarray(sum_squares, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_g = np.log1p(n * tau2)
        log_k = (0.5 * log_g - math.log(alpha)) * 2 / n
        bounded = log_k < log_g
        q = np.expm1(log_k) / -np.expm1(log_k - log_g)
        half = np.sqrt(np.where(sum_squares > 0, sum_squares, 0.0) / n * q)
    return np.where(bounded, half, np.inf)


def block_log_ratios(strategy_blocks, baseline_blocks) -> np.ndarray:
    """log(median strategy value / median baseline value) per block, for the blocks where both ran."""
    return np.array(
        [math.log(np.median(a) / np.median(b)) for a, b in zip(strategy_blocks, baseline_blocks) if len(a) and len(b)],
        dtype=float,
    )


def confidence_sequence(log_ratios, confidence: float = CONFIDENCE) -> Interval:
    """The always-valid interval for the mean log ratio after these blocks (on the log scale)."""
    values = np.asarray(log_ratios, dtype=float)
    if values.size == 0:
        return Interval(math.nan, -math.inf, math.inf)
    mean = float(values.mean())
    half = float(_half_width(values.size, np.sum((values - mean) ** 2), 1 - confidence))
    return Interval(mean, mean - half, mean + half)


def sequential_ratio(strategy_blocks, baseline_blocks, confidence: float = CONFIDENCE) -> Interval:
    """Geometric mean over blocks of the block ratios, with the always-valid interval (ratio scale)."""
    log_interval = confidence_sequence(block_log_ratios(strategy_blocks, baseline_blocks), confidence)
    return Interval(math.exp(log_interval.estimate), math.exp(log_interval.low), math.exp(log_interval.high))


# --- planning -------------------------------------------------------------------------------------------


def expected_half_width(spread: float, blocks: int, confidence: float = CONFIDENCE) -> float:
    """The half-width, on the log scale, the interval is expected to have after `blocks` blocks whose log
    ratios have standard deviation `spread` (plugged in for the sample SD)."""
    return float(_half_width(blocks, (blocks - 1) * spread**2, 1 - confidence)) if blocks >= 1 else math.inf


def detectable_difference(spread: float, blocks: int, confidence: float = CONFIDENCE) -> float:
    """The smallest margin E a plan of `blocks` blocks decides: after them the interval is at most
    log(1+E) wide, so a true difference of E or more is called FASTER/SLOWER and a true ratio of 1 is called
    EQUIVALENT within E, each with probability >= confidence (given the block log-ratio SD `spread`).
    inf when the plan has too few blocks for a bounded interval."""
    return math.expm1(2 * expected_half_width(spread, blocks, confidence))


def blocks_needed(spread: float, margin: float = MARGIN, confidence: float = CONFIDENCE) -> int:
    """The fewest blocks with which `detectable_difference(spread, blocks) <= margin` (the inverse): enough
    to decide at this margin whatever the true ratio."""
    return _blocks_for_half_width(spread, math.log1p(margin) / 2, confidence)


def blocks_to_decide(mean: float, spread: float, margin: float = MARGIN, confidence: float = CONFIDENCE) -> int:
    """The fewest blocks whose interval decides if the blocks keep the observed mean log ratio and spread:
    it excludes 0 once the half-width is below |mean|, and lies within the margin once it is below
    log(1+margin) - |mean|. At most `blocks_needed(spread, margin)`, far fewer for a clear difference."""
    distance = abs(mean)
    return _blocks_for_half_width(spread, max(distance, math.log1p(margin) - distance), confidence)


def _blocks_for_half_width(spread: float, target: float, confidence: float) -> int:
    """The fewest blocks whose expected half-width is at most `target` (it falls with the blocks)."""
    if spread <= 0:
        spread = 0.0
    high = 2
    while expected_half_width(spread, high, confidence) > target:
        high *= 2  # the half-width falls roughly as 1/sqrt(n): grow an upper bound geometrically, then bisect
        if high > MAX_BLOCKS_SEARCHED:
            return MAX_BLOCKS_SEARCHED
    low = max(high // 2, 1)
    while low < high:
        middle = (low + high) // 2
        if expected_half_width(spread, middle, confidence) <= target:
            high = middle
        else:
            low = middle + 1
    return high


# --- verdicts -------------------------------------------------------------------------------------------


def verdict(ratio: Interval, margin: float = MARGIN) -> str:
    """FASTER / SLOWER when the interval excludes a ratio of 1, else EQUIVALENT when it lies within
    [1/(1+margin), 1+margin], else UNDECIDED."""
    if math.isnan(ratio.low) or math.isnan(ratio.high):
        return UNDECIDED
    if ratio.high < 1.0:
        return FASTER
    if ratio.low > 1.0:
        return SLOWER
    if _inside_margin(ratio, margin):
        return EQUIVALENT
    return UNDECIDED


def compare(
    strategy: str,
    baseline: str,
    strategy_blocks,
    baseline_blocks,
    noise: float = 0.0,
    margin: float = MARGIN,
    confidence: float = CONFIDENCE,
) -> Comparison:
    """`strategy` against `baseline` over the blocks both ran in (`*_blocks[i]`: the steady epoch values of
    block i, in the order the blocks ran), valid however many blocks were looked at before stopping.

    `noise` (the reference's epoch-to-epoch jitter) is accepted for the callers but no longer changes the
    verdict: the interval already carries the noise, and the equivalence `margin` says which gaps matter.
    """
    del noise
    log_ratios = block_log_ratios(strategy_blocks, baseline_blocks)
    blocks = int(log_ratios.size)
    if blocks == 0:
        return Comparison(strategy, baseline, Interval(math.nan, math.nan, math.nan), 0, UNDECIDED, margin, None,
                          math.nan, confidence)
    log_interval = confidence_sequence(log_ratios, confidence)
    ratio = Interval(math.exp(log_interval.estimate), math.exp(log_interval.low), math.exp(log_interval.high))
    word = verdict(ratio, margin)
    spread = float(np.std(log_ratios, ddof=1)) if blocks >= MIN_BLOCKS else math.nan
    more = None
    if word == UNDECIDED and blocks >= MIN_BLOCKS:
        more = max(blocks_to_decide(log_interval.estimate, spread, margin, confidence) - blocks, 1)
    return Comparison(strategy, baseline, ratio, blocks, word, margin, more, spread, confidence)


def all_decided(comparisons) -> bool:
    """True when every comparison (None entries, such as a strategy against itself, skipped) has a verdict
    other than UNDECIDED: the study may stop adding blocks."""
    return all(comparison.verdict != UNDECIDED for comparison in comparisons if comparison is not None)


# --- fixed-sample helpers -------------------------------------------------------------------------------


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _percentile_interval(estimate: float, resampled: np.ndarray, confidence: float) -> Interval:
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(resampled, [tail, 100 - tail])
    return Interval(float(estimate), float(low), float(high))


def median_interval(samples, confidence: float = CONFIDENCE, resamples: int = RESAMPLES, seed: int = 0) -> Interval:
    """Median with a percentile bootstrap interval."""
    values = np.asarray(samples, dtype=float)
    if values.size == 0:
        return Interval(math.nan, math.nan, math.nan)
    picks = _rng(seed).integers(0, values.size, size=(resamples, values.size))
    return _percentile_interval(np.median(values), np.median(values[picks], axis=1), confidence)


def paired_ratio(strategy_blocks: list, baseline_blocks: list, confidence: float = CONFIDENCE) -> Interval:
    """Geometric mean over blocks of the block ratios with a fixed-sample Student t interval.

    Valid only for a number of blocks fixed in advance and looked at once (benchmarks with a planned number
    of pairs); the study's sequential verdicts use `compare`, whose interval survives looking after every
    block. Fewer than two blocks: no interval.
    """
    log_ratios = block_log_ratios(strategy_blocks, baseline_blocks)
    if log_ratios.size == 0:
        return Interval(math.nan, math.nan, math.nan)
    mean = float(np.mean(log_ratios))
    if log_ratios.size < MIN_BLOCKS:
        return Interval(math.exp(mean), math.nan, math.nan)
    from scipy import stats as scipy_stats

    quantile = scipy_stats.t.ppf(0.5 + confidence / 2, df=log_ratios.size - 1)
    half_width = quantile * np.std(log_ratios, ddof=1) / math.sqrt(log_ratios.size)
    return Interval(math.exp(mean), math.exp(mean - half_width), math.exp(mean + half_width))


def relative_noise(trials: list) -> float:
    """The reference's own noise: the median, over its trials, of (max - min) / median of its steady epochs.

    With one steady epoch per trial there is no within-trial spread, so the spread between trials is used
    instead (more conservative: it includes drift).
    """
    spreads = [
        (np.max(values) - np.min(values)) / np.median(values)
        for values in (np.asarray(trial, float) for trial in trials)
        if values.size >= 2
    ]
    if spreads:
        return float(np.median(spreads))
    singles = np.asarray([trial[0] for trial in trials if len(trial) == 1], float)
    if singles.size >= 2:
        return float((singles.max() - singles.min()) / np.median(singles))
    return 0.0
