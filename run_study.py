#!/usr/bin/env python
"""Does the way you feed Keras `model.fit` change how fast you train? Measure it.

Parses the options, hands a validated StudyConfig to study.runner, and exits with a status (study/exit_status.py):
0 every trial finished, 1 some trial failed, 2 bad input (one line, before any training), 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from study import exit_status
from study.config import SWEEPABLE, ConfigError, StudyConfig, option_fields


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad option is one line on stderr and exit_status.BAD_INPUT - no usage dump."""

    def error(self, message):
        raise ConfigError(message)


def build_parser() -> argparse.ArgumentParser:
    """The options are StudyConfig's fields (study/config.py): each field's Option gives its flag and help. An
    option left out is absent from the parsed arguments, so StudyConfig can tell it from one given at its default."""
    parser = OneLineParser(
        prog="run_study.py",
        description=(
            "Train the IMDB LSTM once per feed strategy, each trial in a fresh process, in seeded blocks "
            "with the compute-bound limit, and report which strategy is fastest, by how much and why "
            "(results.csv, steps.csv, trials.csv, PNG plots and summary.md in --out)."
        ),
        epilog="Exit status: " + ", ".join(f"{status} {meaning}" for status, meaning in exit_status.MEANINGS.items()) + ".",
        argument_default=argparse.SUPPRESS,
    )
    parser.add_argument("--list-strategies", action="store_true", default=False,
                        help="list the strategies with a line each, then exit")
    for name, option in option_fields().items():
        help_text = option.help_text(sweepable=", ".join(SWEEPABLE)).replace("%", "%%")  # argparse %-formats the help
        if option.switch:
            parser.add_argument(option.flag, dest=name, action="store_true", help=help_text)
        else:
            parser.add_argument(option.flag, dest=name, metavar=option.metavar, help=help_text)
    return parser


def config_from_args(args) -> StudyConfig:
    """The StudyConfig of the parsed command line: every value parsed and checked there, once."""
    given = {name: text for name, text in vars(args).items() if name != "list_strategies"}
    return StudyConfig.from_command_line(given)


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


def prepare_inputs(config: StudyConfig) -> None:
    """The data, and what each strategy needs beyond it (its own `prepare` and `check`), made and checked before
    any training: a missing source or an unusable option fails now, in one line."""
    from inputs import corpus, registry

    settings = config.data_settings()
    corpus.prepare(settings, config.cache_dir)
    strategies = [registry.get(name) for name in config.strategies]
    for strategy in strategies:
        strategy.prepare(settings, config.cache_dir)
    options = config.feed_options()
    for strategy in strategies:
        strategy.check(options)


def print_summary_path(out: Path) -> None:
    """The last line of a study: where to start reading (nothing when no report was drawn, e.g. interrupted)."""
    from study import schema

    summary = out / schema.SUMMARY
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


def list_strategies() -> None:
    from inputs import registry

    width = max(len(name) for name in [*registry.strategies(), registry.COMPUTE_BOUND.name])
    for strategy in registry.strategies().values():
        print(f"{strategy.name:<{width}}  {strategy.description}")
    print(f"{registry.COMPUTE_BOUND.name:<{width}}  (always measured) {registry.COMPUTE_BOUND.description}")


def main(argv=None) -> int:
    started = time.monotonic()  # the budget counts from here: data preparation is part of it
    from study import supervise

    supervise.stop_signals_interrupt()  # SIGTERM and SIGHUP stop the study as Ctrl-C does: exit_status.INTERRUPTED
    from inputs.errors import InputError
    from inputs.registry import PluginError
    from study.results_files import ResultsError
    from study.budget_planning import StudyError

    try:
        args = build_parser().parse_args(argv)
        if args.list_strategies:
            list_strategies()
            return exit_status.OK
        config = config_from_args(args)
        if config.report_only:
            from study import report

            paths = report.build(config.out_dir)
            print(f"Report: {', '.join(str(path) for path in paths)}")
            print_summary_path(config.out_dir)
            return exit_status.OK
        check_resume(config)
        check_cache_dir(config)
        prepare_inputs(config)  # before the folder is made: a bad source leaves no empty runs/<date-time>/ behind
        check_writable_folder(config.out_dir, "--out")
        from study import runner

        status = runner.run_study(config, started=started)
        if status != exit_status.INTERRUPTED:  # no report was drawn; the runner said how to continue
            print_summary_path(config.out_dir)
        return status
    except (ConfigError, InputError, ResultsError, PluginError) as error:
        print(f"run_study.py: error: {error}", file=sys.stderr)
        return exit_status.BAD_INPUT
    except StudyError as error:
        print(f"run_study.py: error: {error}", file=sys.stderr)
        return exit_status.FAILED
    except KeyboardInterrupt:
        print("run_study.py: interrupted before any trial started; nothing was measured.", file=sys.stderr)
        return exit_status.INTERRUPTED
    except OSError as error:  # a full disk or a vanished folder mid-study: the saved rows stay valid
        print(f"run_study.py: error: {error}; results saved so far stay in the output folder (--resume continues)", file=sys.stderr)
        return exit_status.FAILED
    except Exception as error:  # noqa: BLE001 - a bug of ours: still one line, and the measurements stay on disk
        print(
            f"run_study.py: internal error: {type(error).__name__}: {error}; results saved so far stay in the output "
            "folder (--resume continues, --report-only redraws)", file=sys.stderr,
        )
        return exit_status.FAILED


if __name__ == "__main__":
    sys.exit(main())
