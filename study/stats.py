"""Paired block comparisons with a pre-planned sequential bound, and verdicts that decide.

The unit of comparison is the block: the trials of one block run back to back, so the machine's pace, which
drifts slowly (48 s to 85 s for the same epoch on the 2-core development machine), is nearly the same for
every strategy in it. Within block i the study measures

    x_i = log(median strategy value in block i / median baseline value in block i)

(wall or CPU seconds of the steady epochs), and compares strategies through the mean log ratio mu over
blocks; drift common to a block cancels in x_i.

Method: a group-sequential repeated t test with a Pocock-type constant nominal level
------------------------------------------------------------------------------------
A sequential study fixes, before its first block, the most blocks K its budget affords (`planned_blocks`),
analyses after every block from FIRST_LOOK = 4 to K, and stops as soon as every verdict decides. Looking at
a fixed-sample t interval after every block and stopping at the first "significant" look errs far more
often than 5% (tests/test_stats.py measures 15%, 22% and 25% for plans of 6, 12 and 20 blocks). Instead
every look n uses the Student t interval

    xbar_n +- c_n s_n / sqrt(n),   c_n = t_{n-1}(1 - a_K / 2),

with one nominal level a_K for all looks of the plan: Pocock's (1977, "Group sequential methods in the
design and analysis of clinical trials", Biometrika 64:191-199) repeated significance test with constant
nominal level, in its t form for an unknown variance, and the intervals are repeated confidence intervals
(Jennison & Turnbull 2000, "Group Sequential Methods with Applications to Clinical Trials"). a_K is the
level at which

    P(|xbar_n - mu| > c_n s_n / sqrt(n) for some look n in FIRST_LOOK..K) <= alpha:

the intervals of all planned looks hold mu *simultaneously* with probability >= 1 - alpha, so every verdict
taken at any look - whatever rule picked the look, and however early the budget ends the study - errs with
probability <= alpha. The t statistics are pivotal (their joint law does not depend on mu or sigma), so a_K
is found exactly, up to Monte Carlo error, by simulating studies of standard normal blocks (`_NullLooks`:
20,000 studies, seeded, computed once per process and alpha and extended lazily to longer plans). a_K is the
empirical level with binom.ppf(0.025, 20000, alpha) simulated errors (940 for alpha = 0.05, a target of
0.047), so the true error rate of the plan is <= alpha with probability 0.975 over the simulation; this
shading costs 1-2% of half-width. Plans longer than 512 blocks, which no budget affords, add the union bound
over their extra looks (valid but conservative: forecasts past 512 blocks are rough). A single look - a
fixed plan (`planned_blocks` None: the user gave --repeats and only the final analysis counts), or a plan of
at most FIRST_LOOK blocks - is the ordinary t interval at the full alpha. Bonferroni (alpha / looks at each
look) is also valid but ignores that the looks share blocks: its multipliers are 4.86, 3.53 (K = 6) and
7.18, 4.66, 3.62 (K = 12) at 4, 6, 10 blocks.

Why pre-planned rather than always valid: the earlier version used Lai's (1976) t confidence sequence,
valid at any stopping time with no plan. That generality is expensive at the 4-10 blocks a 30-minute budget
affords, and the budget planner knows K before the first block. Half-width in units of s / sqrt(n):

    blocks n                      4      6      10
    fixed plan (plain t, 1 look)  3.18   2.57   2.26
    planned K = 6 (a = 0.0235)    4.27   3.22   -
    planned K = 12 (a = 0.0119)   5.48   3.86   3.14
    Lai's confidence sequence     6.88   4.75   4.02   (unbounded below 4 blocks)

With the prior block SD of 0.08 (study.budget) a plan of 6 blocks detects 23% at its end, against 36% for
the confidence sequence at 6 blocks and 73% at 4 (a plan of 4 blocks - one look - detects 29%). The price:
the bound holds only for the planned looks, so a study must not run past `planned_blocks` (`compare` raises
ValueError); stopping earlier, or skipping looks, keeps it valid.

FIRST_LOOK = 4, not 3: a sequential study stops only when every comparison has decided, which at 3 blocks
(2 degrees of freedom, multiplier 7.1 for K = 6) happens only when every strategy differs by more than
~40% (block SD 0.08); a look at 3 blocks would cost 8-12% of half-width at 4-6 blocks in every study.

Assumptions: the block log ratios are independent and normal with a common mean and variance. Pairing
removes drift common to a block; drift *within* a block adds noise with mean zero because the trial order
within each block is randomized (study.plan). Log ratios of medians are close to normal; an outlying
block widens the interval (it inflates s), which costs decisions, not validity of "equivalent".

Verdicts (the same interval decides all four, so their joint error rate is alpha):

- FASTER / SLOWER: the interval excludes 0 (a ratio of 1).
- EQUIVALENT: the whole interval lies inside [-log(1 + E), log(1 + E)] - the ratio is within
  [1/(1+E), 1+E] - an equivalence test in the spirit of TOST (Schuirmann 1987) on the same interval.
  When the interval both excludes 1 and lies inside the margin, the verdict is the decided direction
  (FASTER/SLOWER) and `Comparison.inside_margin` says the gap is within the margin.
- UNDECIDED: neither. `more_blocks_needed` says about how many more blocks would decide if the blocks to
  come are like those so far (their mean and SD plugged in): the interval decides once its half-width is
  below |mean| (a difference) or below log(1+E) - |mean| (equivalence); past the plan's maximum it is the
  length of a plan that would decide. It is a point forecast - in the simulations about half of the studies
  are decided after that many more blocks. The planner's `blocks_needed(spread, margin)` is the
  conservative version: enough blocks (half-width <= log(1+E)/2) that the interval decides whatever the
  true ratio.

Each comparison (one strategy against one baseline, on one clock) has error rate alpha on its own; with
many strategies and two clocks the chance that *some* verdict errs is larger. The verdicts are reported one by
one, each with its own guarantee; but a choice made among them - the headline's "use X", X the best-looking of
m alternatives to the baseline - must count all m: `familywise_confidence` (Bonferroni, valid however the
comparisons depend on each other). Without it, when 13 alternatives are all as fast as the baseline, some
alternative's 4-block interval says "faster" in 20% (comparisons sharing the baseline's noise) to 28%
(independent) of simulated studies; with it, 2.3% (tests/test_stats.py pins the bound).

The margin E is on the scale of hyperfine's factors: the slower of the two takes at most 1+E times as long.

Everything here takes plain NumPy data and returns numbers and frozen dataclasses: pandas stays in
study/analysis/, the words in study/report/ (study/report/words.py words a Comparison).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

ALPHA = 0.05
CONFIDENCE = 1 - ALPHA
MARGIN = 0.03  # equivalence margin E: ratios within [1/(1+E), 1+E] count as the same speed
FIRST_LOOK = 4  # a sequential plan analyses after every block from the 4th on (module docstring: why not 3)
CALIBRATION_STUDIES = 20_000  # simulated null studies that calibrate the per-look level
CALIBRATED_LOOKS_UP_TO = 512  # plans up to this many blocks are simulated; longer ones add a union bound
CALIBRATION_SEED = 20_260_527
MIN_BLOCKS = 2  # the spread between blocks needs at least two
MAX_BLOCKS_SEARCHED = 1_000_000  # blocks_needed gives up beyond this

FASTER = "faster"
SLOWER = "slower"
EQUIVALENT = "equivalent"
UNDECIDED = "undecided"


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

    `ratio` is the geometric mean of the block ratios with its interval (0 to inf before the plan's first
    look); `spread` the SD of the block log ratios (nan below two blocks); `more_blocks_needed` is set for
    UNDECIDED (None when the spread is not yet known); `planned_blocks` the maximum of a sequential plan
    (None: a fixed plan, analysed once).
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
    planned_blocks: int | None = None

    @property
    def inside_margin(self) -> bool:
        """The whole interval lies within [1/(1+margin), 1+margin]: whatever the verdict, the gap is too small to
        matter."""
        return _inside_margin(self.ratio, self.margin)


def _inside_margin(ratio: Interval, margin: float) -> bool:
    return 1 / (1 + margin) <= ratio.low and ratio.high <= 1 + margin


# --- the pre-planned sequential bound --------------------------------------------------------------------


def looks(planned_blocks: int | None, blocks: int) -> range:
    """The block counts after which a plan analyses: a fixed plan (`planned_blocks` None) only after all its
    `blocks`; a sequential plan of up to `planned_blocks` blocks after every block from FIRST_LOOK on (from
    the last block when the plan is shorter than FIRST_LOOK)."""
    if planned_blocks is None:
        return range(blocks, blocks + 1)
    return range(min(FIRST_LOOK, planned_blocks), planned_blocks + 1)


class _NullLooks:
    """The Monte Carlo that calibrates the per-look level, for one alpha: CALIBRATION_STUDIES simulated
    studies of standard normal blocks (the t statistics are pivotal: their joint law under the null is the
    same for every mean and SD), extended lazily by CHUNK_BLOCKS blocks at a time as longer plans are asked
    for. Every chunk has its own seed, so a plan's level is the same whatever was asked before (deterministic).

    Per study it keeps the running sums and the smallest two-sided t p-value over the looks so far (from
    FIRST_LOOK on); `levels[K - FIRST_LOOK]` is the level that exactly `_calibration_rank` studies' smallest
    p-value up to block K falls below. p-values above alpha are kept as 1: no calibrated level exceeds alpha.
    """

    CHUNK_BLOCKS = 64

    def __init__(self, alpha: float):
        self.alpha = alpha
        self.rank = _calibration_rank(alpha)
        self.sums = np.zeros(CALIBRATION_STUDIES)
        self.squares = np.zeros(CALIBRATION_STUDIES)
        self.smallest = np.ones(CALIBRATION_STUDIES)
        self.blocks = 0
        self.levels: list[float] = []

    def level(self, planned_blocks: int) -> float:
        while self.blocks < planned_blocks:
            self._extend()
        return self.levels[planned_blocks - FIRST_LOOK]

    def _extend(self) -> None:
        from scipy import special

        chunk = self.blocks // self.CHUNK_BLOCKS
        x = np.random.default_rng([CALIBRATION_SEED, chunk]).standard_normal((CALIBRATION_STUDIES, self.CHUNK_BLOCKS))
        n = np.arange(self.blocks + 1, self.blocks + self.CHUNK_BLOCKS + 1, dtype=float)
        sums = self.sums[:, None] + np.cumsum(x, axis=1)
        squares = self.squares[:, None] + np.cumsum(x * x, axis=1)
        self.sums, self.squares = sums[:, -1].copy(), squares[:, -1].copy()
        looked = n >= FIRST_LOOK
        n, sums, squares = n[looked], sums[:, looked], squares[:, looked]
        mean = sums / n
        t = np.abs(mean) * np.sqrt(n * (n - 1) / np.maximum(squares - n * mean**2, 1e-300))
        df = np.broadcast_to(n - 1, t.shape)
        p = np.ones_like(t)
        candidate = t > _t_quantile(1 - self.alpha / 2, n - 1)
        p[candidate] = 2 * special.stdtr(df[candidate], -t[candidate])
        smallest = np.minimum.accumulate(np.column_stack([self.smallest, p]), axis=1)[:, 1:]
        self.smallest = smallest[:, -1].copy()
        self.levels.extend(np.partition(smallest, self.rank, axis=0)[self.rank].tolist())
        self.blocks += self.CHUNK_BLOCKS


@functools.lru_cache(maxsize=8)
def _null_looks(alpha: float) -> _NullLooks:
    return _NullLooks(alpha)


def _calibration_rank(alpha: float) -> int:
    """How many of the simulated studies may err at the calibrated level: the largest count whose level has a
    true error rate <= alpha with probability 0.975 over the simulation (that rate, for the level with k studies
    below it, is Beta(k, N - k + 1); Beta(k, N-k+1) > alpha iff Binomial(N, alpha) < k)."""
    from scipy import stats as scipy_stats

    return int(scipy_stats.binom.ppf(0.025, CALIBRATION_STUDIES, alpha))


def look_level(planned_blocks: int | None, confidence: float = CONFIDENCE) -> float:
    """The two-sided nominal level of each look's t interval: the full alpha for a single look (a fixed plan),
    else the level, equal at every look, that keeps P(any look errs) <= alpha over the plan's looks (module
    docstring). Falls with the number of planned looks."""
    alpha = 1 - confidence
    if planned_blocks is None or len(looks(planned_blocks, planned_blocks)) == 1:
        return alpha
    null = _null_looks(round(alpha, 12))
    if planned_blocks <= CALIBRATED_LOOKS_UP_TO:
        return null.level(planned_blocks)
    # Beyond the simulated plans: the union bound over the extra looks, each an exact t test at the level,
    # P(err) <= P(err within the simulated looks) + extra * level <= alpha (the same shading as above).
    null.level(CALIBRATED_LOOKS_UP_TO)
    longest = np.sort(null.smallest)
    extra = planned_blocks - CALIBRATED_LOOKS_UP_TO
    below = np.arange(longest.size) / CALIBRATION_STUDIES + extra * longest  # rises with the index
    index = int(np.searchsorted(below, null.rank / CALIBRATION_STUDIES, side="right")) - 1
    return float(longest[index]) if index >= 0 else null.rank / CALIBRATION_STUDIES / extra


def _t_quantile(probability, df):
    from scipy import special

    return special.stdtrit(df, probability)


def critical_value(blocks: int, planned_blocks: int | None = None, confidence: float = CONFIDENCE) -> float:
    """The multiplier of s / sqrt(blocks) in the half-width of the interval after `blocks` blocks of a plan
    of up to `planned_blocks` (None: a fixed plan of `blocks`): the Student t quantile at the plan's per-look
    level; inf where the plan does not look (fewer than two blocks, or before its first look)."""
    if planned_blocks is not None and blocks > planned_blocks:
        raise ValueError(f"{blocks} blocks exceed the plan's maximum of {planned_blocks}: the bound covers only "
                         f"the looks planned before the first block")
    if blocks < MIN_BLOCKS or blocks not in looks(planned_blocks, blocks):
        return math.inf
    return float(_t_quantile(1 - look_level(planned_blocks, confidence) / 2, blocks - 1))


def block_log_ratios(strategy_blocks, baseline_blocks) -> np.ndarray:
    """log(median strategy value / median baseline value) per block, for the blocks where both ran."""
    return np.array(
        [math.log(np.median(a) / np.median(b)) for a, b in zip(strategy_blocks, baseline_blocks) if len(a) and len(b)],
        dtype=float,
    )


def log_ratio_interval(log_ratios, planned_blocks: int | None = None, confidence: float = CONFIDENCE) -> Interval:
    """The interval for the mean log ratio after these blocks (on the log scale): mean +- critical_value *
    s / sqrt(n); unbounded where the plan does not look."""
    values = np.asarray(log_ratios, dtype=float)
    if values.size == 0:
        return Interval(math.nan, -math.inf, math.inf)
    mean = float(values.mean())
    multiplier = critical_value(values.size, planned_blocks, confidence)
    if math.isinf(multiplier):
        return Interval(mean, -math.inf, math.inf)
    half = multiplier * float(np.std(values, ddof=1)) / math.sqrt(values.size)
    return Interval(mean, mean - half, mean + half)


def ratio_of_pairs(new, old, confidence: float = CONFIDENCE) -> Interval:
    """new / old over pairs, as a benchmark of a fixed number of paired rounds reports it: the geometric mean of
    the pair ratios with the t interval of log_ratio_interval, taken back to the ratio scale."""
    interval = log_ratio_interval([math.log(a / b) for a, b in zip(new, old)], confidence=confidence)
    return Interval(math.exp(interval.estimate), math.exp(interval.low), math.exp(interval.high))


def ratio_of_pairs_text(new, old) -> str:
    """ratio_of_pairs as the benchmarks print it: "0.763 [0.698, 0.834]"."""
    ratio = ratio_of_pairs(new, old)
    return f"{ratio.estimate:.3f} [{ratio.low:.3f}, {ratio.high:.3f}]"


# --- planning -------------------------------------------------------------------------------------------


def planning_spread(comparisons) -> float:
    """The spread to plan the open comparisons' remaining blocks with: the median of their block-to-block SDs,
    the higher middle one of an even count (nan when none is known yet)."""
    spreads = sorted(c.spread for c in comparisons if math.isfinite(c.spread))
    return float(spreads[len(spreads) // 2]) if spreads else math.nan


def expected_half_width(
    spread: float, blocks: int, confidence: float = CONFIDENCE, planned_blocks: int | None = None
) -> float:
    """The half-width, on the log scale, the interval is expected to have after `blocks` blocks of a plan of
    up to `planned_blocks` (None: a fixed plan of `blocks`) whose log ratios have standard deviation `spread`
    (plugged in for the sample SD)."""
    if blocks < 1:
        return math.inf
    return critical_value(blocks, planned_blocks, confidence) * spread / math.sqrt(blocks)


def detectable_difference(spread: float, blocks: int, confidence: float = CONFIDENCE, sequential: bool = True) -> float:
    """The smallest margin E a plan of `blocks` blocks decides: after them the interval is at most
    log(1+E) wide, so a true difference of E or more is called FASTER/SLOWER and a true ratio of 1 is called
    EQUIVALENT within E, each with probability >= confidence (given the block log-ratio SD `spread`).
    `sequential`: the plan looks after every block from FIRST_LOOK to `blocks`, its maximum; else it looks
    once, after `blocks`. inf when the plan has too few blocks for an interval."""
    return math.expm1(2 * expected_half_width(spread, blocks, confidence, blocks if sequential else None))


def blocks_needed(
    spread: float, margin: float = MARGIN, confidence: float = CONFIDENCE, sequential: bool = True
) -> int:
    """The fewest blocks with which `detectable_difference(spread, blocks, sequential=...) <= margin` (the
    inverse): the plan that decides at this margin whatever the true ratio."""
    planned = 0 if sequential else None  # 0: each candidate plan of n blocks ends at n (max(0, n))
    return _blocks_for_half_width(spread, math.log1p(margin) / 2, confidence, planned)


def blocks_to_decide(
    mean: float,
    spread: float,
    margin: float = MARGIN,
    confidence: float = CONFIDENCE,
    planned_blocks: int | None = None,
) -> int:
    """The fewest blocks whose interval decides if the blocks keep the observed mean log ratio and spread:
    it excludes 0 once the half-width is below |mean|, and lies within the margin once it is below
    log(1+margin) - |mean|. In a sequential plan of up to `planned_blocks` the count may exceed that maximum:
    it is then the length of a plan that would decide. None: fixed plans (one look after the count). For a
    plan no longer than the count, at most `blocks_needed(spread, margin)`; far fewer for a clear difference."""
    distance = abs(mean)
    return _blocks_for_half_width(spread, max(distance, math.log1p(margin) - distance), confidence, planned_blocks)


def _blocks_for_half_width(spread: float, target: float, confidence: float, planned_blocks: int | None) -> int:
    """The fewest blocks n whose expected half-width is at most `target` (it falls with n): for a fixed plan
    of n blocks (`planned_blocks` None), else at look n of a sequential plan of up to max(planned_blocks, n)."""
    if spread <= 0:
        spread = 0.0

    def half_width(blocks):
        planned = None if planned_blocks is None else max(planned_blocks, blocks)
        return expected_half_width(spread, blocks, confidence, planned)

    high = 2
    while half_width(high) > target:
        high *= 2  # the half-width falls roughly as 1/sqrt(n): grow an upper bound geometrically, then bisect
        if high > MAX_BLOCKS_SEARCHED:
            return MAX_BLOCKS_SEARCHED
    low = max(high // 2, 1)
    while low < high:
        middle = (low + high) // 2
        if half_width(middle) <= target:
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
    margin: float = MARGIN,
    confidence: float = CONFIDENCE,
    planned_blocks: int | None = None,
) -> Comparison:
    """`strategy` against `baseline` over the blocks both ran in (`*_blocks[i]`: the steady epoch values of
    block i, in the order the blocks ran).

    `planned_blocks`: the most blocks a sequential plan may run, fixed before its first block; the verdict is
    then valid however many of the planned looks were taken before stopping (ValueError beyond the maximum).
    None: a fixed plan, analysed once after all its blocks (the plain t interval). The interval already carries
    the noise; the equivalence `margin` says which gaps matter.
    """
    log_ratios = block_log_ratios(strategy_blocks, baseline_blocks)
    blocks = int(log_ratios.size)
    if blocks == 0:
        return Comparison(strategy, baseline, Interval(math.nan, math.nan, math.nan), 0, UNDECIDED, margin, None,
                          math.nan, confidence, planned_blocks)
    log_interval = log_ratio_interval(log_ratios, planned_blocks, confidence)
    ratio = Interval(math.exp(log_interval.estimate), math.exp(log_interval.low), math.exp(log_interval.high))
    word = verdict(ratio, margin)
    spread = float(np.std(log_ratios, ddof=1)) if blocks >= MIN_BLOCKS else math.nan
    more = None
    if word == UNDECIDED and blocks >= MIN_BLOCKS:
        more = max(blocks_to_decide(log_interval.estimate, spread, margin, confidence, planned_blocks) - blocks, 1)
    return Comparison(strategy, baseline, ratio, blocks, word, margin, more, spread, confidence, planned_blocks)


def familywise_confidence(comparisons: int, confidence: float = CONFIDENCE) -> float:
    """The confidence each of `comparisons` intervals needs for all of them to hold at once with `confidence`
    (Bonferroni): for a choice made among them, such as the best-looking of several alternatives."""
    return 1 - (1 - confidence) / max(comparisons, 1)


def all_decided(comparisons) -> bool:
    """True when every comparison (None entries, such as a strategy against itself, skipped) has a verdict
    other than UNDECIDED: the study may stop adding blocks."""
    return all(comparison.verdict != UNDECIDED for comparison in comparisons if comparison is not None)


# --- a fixed plan, looked at once -----------------------------------------------------------------------


def paired_ratio(strategy_blocks: list, baseline_blocks: list, confidence: float = CONFIDENCE) -> Interval:
    """Geometric mean over blocks of the block ratios with a fixed-sample Student t interval.

    Valid only for a number of blocks fixed in advance and looked at once (benchmarks with a planned number
    of pairs) - the interval of `compare` for a fixed plan; a study that looks after every block passes its
    `planned_blocks` to `compare`. Fewer than two blocks: no interval.
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
