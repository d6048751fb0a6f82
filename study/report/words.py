"""How the report words numbers: figures, ratio cells, percentages, lists of strategies, and a comparison's
verdict in a sentence. Percentages follow hyperfine's factors: "faster by 25%" means the baseline takes 1.25
times as long; "slower by 25%" means the strategy takes 1.25 times as long."""

from __future__ import annotations

import math

from study import stats


def fmt(value, digits=1) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.{digits}f}"


def share(value: float) -> str:
    """A share as a whole percentage ("-" when unknown)."""
    return "-" if math.isnan(value) else f"{value:.0%}"


def ratio_cell(comparison) -> str:
    if comparison is None:
        return "-"
    r = comparison.ratio
    interval = "[too few blocks]" if math.isnan(r.low) else f"[{r.low:.3f}, {r.high:.3f}]"
    return f"{r.estimate:.3f} {interval}"


def named(findings) -> str:
    return ", ".join(f"`{f.strategy}`" for f in findings)


def blocks(count: int) -> str:
    return f"{count} block{'s' if count != 1 else ''}"


def signed_percent(ratio) -> str:
    """A ratio interval as a signed change, rounded to whole percent: '+5% [+2% to +8%]'."""
    return f"{(ratio.estimate - 1) * 100:+.0f}% [{(ratio.low - 1) * 100:+.0f}% to {(ratio.high - 1) * 100:+.0f}%]"


def _percent(factor: float) -> str:
    return f"{(factor - 1) * 100:.1f}%"


def _signed(ratio: float) -> str:
    return f"{(ratio - 1) * 100:+.1f}%"


def comparison_sentence(comparison: stats.Comparison, unit: str = "") -> str:
    """A verdict in words, hyperfine style, e.g. 'tfdata is 1.25 (95% CI 1.20-1.31) times faster than arrays:
    faster by 25.0% [95% CI 20.0-31.0%] (12 blocks)'."""
    c = comparison
    level = f"{c.confidence * 100:.0f}% CI"
    in_unit = f" in {unit}" if unit else ""
    margin = f"{c.margin * 100:g}%"
    if c.verdict in (stats.FASTER, stats.SLOWER):
        factor = stats.Interval(1 / c.ratio.estimate, 1 / c.ratio.high, 1 / c.ratio.low) if c.verdict == stats.FASTER else c.ratio
        within = f"; the gap is within the ±{margin} equivalence margin" if c.inside_margin else ""
        return (
            f"{c.strategy} is {factor.estimate:.2f} ({level} {factor.low:.2f}-{factor.high:.2f}) times "
            f"{c.verdict} than {c.baseline}{in_unit}: {c.verdict} by {_percent(factor.estimate)} "
            f"[{level} {(factor.low - 1) * 100:.1f}-{(factor.high - 1) * 100:.1f}%] ({blocks(c.blocks)}{within})"
        )
    if c.verdict == stats.EQUIVALENT:
        return (
            f"{c.strategy} and {c.baseline} are equivalent within ±{margin}{in_unit}: time ratio "
            f"{c.ratio.estimate:.3f} [{level} {c.ratio.low:.3f}-{c.ratio.high:.3f}] ({blocks(c.blocks)})"
        )
    return (f"{c.strategy} vs {c.baseline}{in_unit}: undecided: the interval spans {_undecided_span(c)}; "
            f"{_what_would_decide(c, margin)} (ratio {c.ratio.estimate:.3f}, {blocks(c.blocks)})")


def _undecided_span(c: stats.Comparison) -> str:
    if math.isinf(c.ratio.high) or c.ratio.low <= 0:
        if c.blocks < stats.MIN_BLOCKS:
            return "every ratio (too few blocks for an interval)"
        first = stats.looks(c.planned_blocks, c.blocks)[0]
        return f"every ratio (too few blocks: the plan's first look is after {first} blocks)"
    return f"{c.ratio.low:.3f}-{c.ratio.high:.3f} ({_signed(c.ratio.low)} to {_signed(c.ratio.high)} time)"


def _what_would_decide(c: stats.Comparison, margin: str) -> str:
    if c.more_blocks_needed is None:
        return "at least two blocks are needed to estimate the spread between blocks"
    plural = "s" if c.more_blocks_needed != 1 else ""
    return f"about {c.more_blocks_needed} more block{plural} would decide a difference of {margin}"
