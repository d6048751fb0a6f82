"""The study's settings: `StudyConfig` (every option, validated once, recorded with the results) and
`FeedOptions` (frozen: the only thing a feed strategy receives from the study).

Every setting has one default, defined once: the feed settings' defaults are `FeedOptions`', the study's
are `StudyConfig`'s, and run_study.py shows these.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

DEFAULT_STRATEGIES = ("arrays", "generator", "tfdata")

# Sweepable settings: the name on the command line -> the StudyConfig field it sets.
SWEEPABLE = {
    "preprocess-cost": "preprocess_cost_us",
    "scale": "scale",
    "service-workers": "service_workers",
}

# Settings that do not change what is measured: a resumed study may differ in these.
NOT_MEASURED = ("out", "trial_timeout", "resume", "report_only", "cache_dir", "budget_minutes", "margin")
# Settings the budget planner fills in when the user leaves them out (None); recorded resolved in config.json.
PLANNED = ("epochs", "repeats", "limit", "planned_blocks")


class ConfigError(Exception):
    """A bad option: the message is the one line the user sees (exit status 2)."""


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


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    strategies: tuple[str, ...] = DEFAULT_STRATEGIES
    epochs: int | None = None  # None: planned to fit the budget (study/budget.py)
    repeats: int | None = None  # blocks, each running every strategy once plus the compute-bound limit; None: planned
    batch_size: int = FeedOptions.batch_size
    limit: int | None = FeedOptions.limit
    seed: int = FeedOptions.seed
    model: str = "lstm"
    dataset: str = "embedded"
    preprocess_cost_us: int = FeedOptions.preprocess_cost_us
    scale: int = FeedOptions.scale
    workers: int = FeedOptions.workers
    use_multiprocessing: bool = FeedOptions.use_multiprocessing
    service_workers: int = 2  # tf.data service workers started locally when no service_address is given
    service_address: str | None = None  # an existing tf.data service dispatcher; None = start one per trial
    sweep: tuple[str, tuple[int, ...]] | None = None  # ("preprocess-cost", (0, 100, 1000))
    out: str = "reports"
    cache_dir: str | None = FeedOptions.cache_dir
    trial_timeout: float | None = None
    resume: bool = False
    report_only: bool = False
    budget_minutes: float = 30.0  # the whole command, data to report, fits in this
    margin: float = 0.03  # equivalence margin: ratios within [1/(1+margin), 1+margin] count as the same speed
    # A sequential plan's last block: blocks stop earlier once every verdict decides (None: a fixed plan of
    # `repeats` blocks, analysed once at the end). Set by the planner, never by the user.
    planned_blocks: int | None = None

    @property
    def needs_plan(self) -> bool:
        """True when the budget planner has settings to choose (the user left epochs, repeats or limit out)."""
        return self.epochs is None or self.repeats is None or self.limit is None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "StudyConfig":
        known = {field.name for field in dataclasses.fields(cls)}
        values = {key: value for key, value in values.items() if key in known}
        if values.get("strategies") is not None:
            values["strategies"] = tuple(values["strategies"])
        if values.get("sweep") is not None:
            name, sweep_values = values["sweep"]
            values["sweep"] = (name, tuple(sweep_values))
        return cls(**values)

    def measured_settings(self) -> dict:
        """The settings a resumed study must share with the one it continues."""
        return {key: value for key, value in self.to_dict().items() if key not in NOT_MEASURED}

    @property
    def out_dir(self) -> Path:
        return Path(self.out)

    def sweep_values(self) -> tuple:
        """The swept values, or (None,) for a study without a sweep."""
        return self.sweep[1] if self.sweep else (None,)

    def at_sweep_value(self, value) -> "StudyConfig":
        """This config with the swept setting at `value` (itself for a study without a sweep)."""
        if self.sweep is None or value is None:
            return self
        return dataclasses.replace(self, **{SWEEPABLE[self.sweep[0]]: value})

    def feed_options(self, service_address: str | None = None) -> FeedOptions:
        """The strategy's view of this config; `service_address` is a dispatcher found at run time (the
        user's own, `self.service_address`, otherwise)."""
        names = {field.name for field in dataclasses.fields(FeedOptions)} - {"service_address"}
        return FeedOptions(
            **{name: getattr(self, name) for name in names},
            service_address=service_address or self.service_address,
        )
