"""The study's settings: `StudyConfig` (every option, validated once, recorded with the results). A strategy
receives only `FeedOptions` (inputs/options.py), made from it by `StudyConfig.feed_options`.

Every setting has one default, defined once: the feed settings' defaults are `FeedOptions`', the study's
are `StudyConfig`'s, and run_study.py shows these.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from inputs.corpus import DataSettings
from inputs.options import FeedOptions  # all a strategy gets; inputs/ owns it

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


# The option that sets each checked field, for the one line a bad value gets.
_OPTION = {
    "epochs": "--epochs", "repeats": "--repeats", "batch_size": "--batch-size", "limit": "--limit", "seed": "--seed",
    "preprocess_cost_us": "--preprocess-cost", "scale": "--scale", "workers": "--workers",
    "service_workers": "--service-workers", "trial_timeout": "--trial-timeout",
}
# field -> the lowest value that means something (None: the field may be unset).
_LOWEST = {
    "repeats": 1, "batch_size": 1, "limit": 1, "seed": 0, "preprocess_cost_us": 0, "scale": 1, "workers": 1,
    "service_workers": 1,
}
MAX_SEED = 2**32 - 1  # numpy's legacy seeding and keras.utils.set_random_seed take 0 .. 2**32 - 1
# Epoch 1 is the warm-up: a study needs at least one steady epoch after it.
MIN_EPOCHS = 2


def _is_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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

    def __post_init__(self):
        self._check()

    def _check(self) -> None:
        """Every value and combination that cannot make a meaningful study is refused here, once, for every
        entry point (the command line, a recorded config.json, a test or a benchmark): a ConfigError whose
        message is the user's one line. Unset (None) counts are left to whoever plans them (--budget)."""
        for name, lowest in _LOWEST.items():
            value = getattr(self, name)
            if value is None and name in ("limit", "repeats"):
                continue
            if not _is_integer(value) or value < lowest:
                what = "a positive integer" if lowest == 1 else "a non-negative integer"
                raise ConfigError(f"{_OPTION[name]}: must be {what}, got {value!r}")
        if self.seed > MAX_SEED:
            raise ConfigError(f"--seed: must be at most 2**32 - 1 = {MAX_SEED} (what numpy and Keras accept), got {self.seed}")
        for name, option in (("out", "--out"), ("cache_dir", "--cache-dir")):
            value = getattr(self, name)
            if (value is not None or name == "out") and (not isinstance(value, str) or not value.strip()):
                raise ConfigError(f"{option}: a folder is needed, got {value!r}")
        if self.epochs is not None:
            if not _is_integer(self.epochs) or self.epochs < 1:
                raise ConfigError(f"--epochs: must be a positive integer, got {self.epochs!r}")
            if self.epochs < MIN_EPOCHS:
                raise ConfigError(
                    f"--epochs {self.epochs}: the first epoch of every trial is warm-up, so a study needs at least "
                    f"{MIN_EPOCHS} epochs to measure a steady one"
                )
        if self.trial_timeout is not None and (
            isinstance(self.trial_timeout, bool) or not isinstance(self.trial_timeout, (int, float)) or not self.trial_timeout > 0
        ):
            raise ConfigError(f"--trial-timeout: must be positive, got {self.trial_timeout!r}")
        for name, option in (("budget_minutes", "--budget"), ("margin", "--margin")):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
                raise ConfigError(f"{option}: must be a positive number, got {value!r}")
        if not self.strategies or not all(isinstance(name, str) and name for name in self.strategies):
            raise ConfigError(f"--strategies: a list of strategy names is needed, got {self.strategies!r}")
        if self.resume and self.report_only:
            raise ConfigError("--resume and --report-only exclude each other")
        self._check_sweep()
        self._check_training_set()

    def _check_sweep(self) -> None:
        if self.sweep is None:
            return
        if (
            not isinstance(self.sweep, (tuple, list)) or len(self.sweep) != 2 or self.sweep[0] not in SWEEPABLE
            or not isinstance(self.sweep[1], (tuple, list)) or not self.sweep[1]
            or not all(_is_integer(value) for value in self.sweep[1])
        ):
            raise ConfigError(f"--sweep must be a setting ({', '.join(SWEEPABLE)}) and integer values, got {self.sweep!r}")
        name, values = self.sweep
        field = SWEEPABLE[name]
        lowest = _LOWEST[field]
        if any(value < lowest for value in values):
            raise ConfigError(f"--sweep {name}: values must be at least {lowest}, got {','.join(map(str, values))}")
        if len(set(values)) != len(values):
            raise ConfigError(f"--sweep {name}: a value is listed twice in {','.join(map(str, values))}")
        # The swept setting takes each value in turn; a fixed value of its own would be silently overridden.
        # (at_sweep_value's configs hold one of the swept values, which is fine.)
        default = next(f.default for f in dataclasses.fields(self) if f.name == field)
        if getattr(self, field) != default and getattr(self, field) not in values:
            raise ConfigError(f"--{name} and --sweep {name} exclude each other: the sweep sets {name}")

    def _check_training_set(self) -> None:
        train_size = DataSettings().train_size  # a larger limit means all of them (the CLI refuses it, run_study.py)
        scales = self.sweep[1] if self.sweep and self.sweep[0] == "scale" else (self.scale,)
        examples = min(self.limit or train_size, train_size) * min(scales)
        if self.batch_size >= examples:  # one batch per epoch: no step times, no pipeline rate
            size = "larger than" if self.batch_size > examples else "as large as"
            raise ConfigError(
                f"--batch-size {self.batch_size} is {size} the {examples:,} training examples: every epoch would be "
                "a single batch; use a smaller --batch-size or a larger --limit"
            )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "StudyConfig":
        """The config recorded in a study's config.json; a ConfigError names what is wrong with it."""
        if not isinstance(values, dict):
            raise ConfigError(f"the recorded settings (config.json) must be a JSON object, not {type(values).__name__}")
        try:
            return cls._from_dict(values)
        except ConfigError as error:
            raise ConfigError(f"the recorded settings (config.json) are not valid: {error}") from None
        except (TypeError, ValueError) as error:
            raise ConfigError(f"the recorded settings (config.json) are not valid: {error}") from None

    @classmethod
    def _from_dict(cls, values: dict) -> "StudyConfig":
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

    def data_settings(self) -> DataSettings:
        """What the prepared data depends on that this config sets (the rest: DataSettings' defaults)."""
        return DataSettings(source=self.dataset, seed=self.seed)

    def feed_options(self, service_address: str | None = None) -> FeedOptions:
        """The strategy's view of this config; `service_address` is a dispatcher found at run time (the
        user's own, `self.service_address`, otherwise)."""
        names = {field.name for field in dataclasses.fields(FeedOptions)} - {"service_address"}
        return FeedOptions(
            **{name: getattr(self, name) for name in names},
            service_address=service_address or self.service_address,
        )
