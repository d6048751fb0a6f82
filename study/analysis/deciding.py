"""What would decide the per-step verdicts a study left open: how many blocks at the spread it measured, and
how long that takes at its own pace - so that a summary with open verdicts says what to run next instead of
only that they are open.

The noise is an offset per trial (the machine's state while it ran: docs/METHOD.md), which longer epochs barely
average away (benchmarks/design_tradeoff.py: spread ~ steps^-beta with beta 0.00-0.28) and more blocks do. So the
advice keeps the study's own epochs (`--limit`) and asks for more blocks (`--repeats`: a fixed plan, one look at
the end), with a `--budget` that holds them at the pace this study kept.
"""

from __future__ import annotations

import dataclasses
import math

from study import budget, stats

# The per-step difference the advice is sized to decide: the feeds' per-step gaps against `arrays` on this
# project's 2-core machine measured 5-17% when they decided (docs/RESULTS.md), so 10% is the round figure between.
DIFFERENCE = 0.10


@dataclasses.dataclass(frozen=True)
class Deciding:
    """For the open per-step verdicts of one swept value: their measured spread and what would decide them."""

    open_verdicts: int
    spread: float  # the median (higher middle) block-to-block SD of their log step ratios
    blocks: int  # a fixed plan of this many blocks decides any difference of DIFFERENCE or more at that spread
    blocks_run: int
    minutes: float  # that plan at this study's pace (whole command, per block run); nan when the pace is unknown

    @property
    def budget_minutes(self) -> int:
        """The --budget that holds that plan: its minutes with the share the planner keeps back, up to whole 5 min."""
        return 5 * math.ceil(self.minutes / (1 - budget.SAFETY_SHARE) / 5)


def deciding(open_comparisons: list, blocks_run: int, plan_record: dict) -> Deciding | None:
    """What would decide `open_comparisons` (undecided stats.Comparison); None when none is open or their spread
    is not known yet (fewer than two blocks). The pace is plan.json's `ending`: the minutes before the report per
    block run, so calibration and start-up are scaled with the blocks (a little more than they cost)."""
    spread = stats.planning_spread(open_comparisons)
    if math.isnan(spread):
        return None
    blocks = stats.blocks_needed(spread, DIFFERENCE, sequential=False)
    ending = (plan_record or {}).get("ending") or {}
    ran, seconds = ending.get("blocks_run"), ending.get("seconds_before_report")
    minutes = blocks * seconds / ran / 60 if ran and seconds else math.nan
    return Deciding(len(open_comparisons), spread, blocks, blocks_run, minutes)
