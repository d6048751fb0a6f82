"""The median of a sample with its percentile bootstrap interval: how the report states one strategy's epoch
time (its steady epochs, or its projected epochs per block). NumPy in, a frozen stats.Interval out."""

from __future__ import annotations

import math

import numpy as np

from study.stats import CONFIDENCE, Interval

RESAMPLES = 4000


def median_interval(samples, confidence: float = CONFIDENCE, resamples: int = RESAMPLES, seed: int = 0) -> Interval:
    """Median with a percentile bootstrap interval; the same seed gives the same interval."""
    values = np.asarray(samples, dtype=float)
    if values.size == 0:
        return Interval(math.nan, math.nan, math.nan)
    picks = np.random.default_rng(seed).integers(0, values.size, size=(resamples, values.size))
    resampled = np.median(values[picks], axis=1)
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(resampled, [tail, 100 - tail])
    return Interval(float(np.median(values)), float(low), float(high))
