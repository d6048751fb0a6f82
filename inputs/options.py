"""`FeedOptions`: everything a feed strategy may know about the trial it feeds, frozen.

It lives in inputs/ because the strategies need it and inputs/ imports nothing from study/; the study's own
settings (`study.config.StudyConfig`) take their feed defaults from here and hand a strategy only this.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class FeedOptions:
    """What a feed strategy may know about the trial it feeds; nothing else of the study reaches inputs/."""

    batch_size: int = 32
    seed: int = 0  # the example orders; the trial also seeds TensorFlow's global seed with it
    workers: int = 2  # PyDataset worker threads (or processes)
    use_multiprocessing: bool = False
    preprocess_cost_us: int = 0  # extra deterministic CPU work per example in the online strategies
    service_address: str | None = None  # the tf.data service dispatcher the trial uses
    limit: int | None = None  # the data holds the first `limit` training examples only
    scale: int = 1  # the data holds the training split this many times
    cache_dir: str | None = None  # None: inputs.corpus.default_cache_dir()
