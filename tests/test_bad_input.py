"""Bad values and combinations: each is refused before any work - one line on stderr, exit status 2, no
traceback, no output folder made - and the checks live in StudyConfig, so every entry point gets them."""

import json
import os
import subprocess
import sys

import pytest

from inputs.arrays import ArraysStrategy
from study.config import ConfigError, StudyConfig
from tests.conftest import PROJECT_ROOT, run_cli

if os.environ.get("BAD_PLUGIN_RAISES_ON_IMPORT"):  # a plugin module whose import fails with any exception
    raise RuntimeError("the plugin's own bug")


class ShadowsArrays(ArraysStrategy):
    """A plugin named like a built-in strategy."""


class NotAStrategy:
    name = "not-a-strategy"


def _one_line_exit_2(result, message):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("run_study.py: error:") and message in lines[0], lines[0]
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


# Every bad argument, as a user types it, and (part of) the one line that refuses it.
BAD_ARGUMENTS = [
    # strategies
    (["--strategies", "bogus"], "unknown strategy 'bogus'; choose from: arrays"),
    (["--strategies", ""], "--strategies is empty"),
    (["--strategies", "arrays,,tfdata"], "empty name"),
    (["--strategies", "arrays,arrays"], "names a strategy twice"),
    (["--strategies", "compute-bound"], "always measured"),
    # counts and numbers
    (["--epochs", "0"], "--epochs: must be a positive integer"),
    (["--epochs", "two"], "--epochs: must be a positive integer"),
    (["--epochs", "1"], "a study needs at least 2 epochs"),
    (["--repeats", "1.5"], "--repeats: must be a positive integer"),
    (["--batch-size", "-5"], "--batch-size: must be a positive integer"),
    (["--batch-size", "0"], "--batch-size: must be a positive integer"),
    (["--batch-size", "30000"], "--batch-size 30000 is larger than the 20,000 training examples"),
    (["--batch-size", "64", "--limit", "64"], "--batch-size 64 is as large as the 64 training examples"),
    (["--batch-size", "200", "--limit", "64", "--scale", "2"], "larger than the 128 training examples"),
    (["--batch-size", "100", "--limit", "64", "--sweep", "scale=1,2"], "larger than the 64 training examples"),
    (["--limit", "0"], "--limit: must be a positive integer"),
    (["--limit", "-3"], "--limit: must be a positive integer"),
    (["--limit", "25000"], "--limit 25000 exceeds the 20,000 training examples"),
    (["--seed", "abc"], "--seed: must be a non-negative integer, got 'abc'"),
    (["--seed", "-1"], "--seed: must be a non-negative integer, got -1"),
    (["--seed", "4294967296"], "--seed: must be at most 2**32 - 1"),
    (["--workers", "0"], "--workers: must be a positive integer"),
    (["--trial-timeout", "-1"], "--trial-timeout: must be a positive number of seconds"),
    (["--trial-timeout", "0"], "--trial-timeout: must be a positive number"),
    (["--trial-timeout", "nan"], "--trial-timeout: must be a positive number"),
    (["--budget", "0"], "--budget: must be a positive number of minutes"),
    (["--margin", "x"], "--margin: must be a positive number of percent, got 'x'"),
    (["--model", "huge"], "--model: must be one of lstm, small, got 'huge'"),
    # sweeps
    (["--sweep", "speed=1,2"], "--sweep must look like NAME=V1,V2"),
    (["--sweep", "preprocess-cost=0,,5"], "values must be integers"),
    (["--sweep", "scale=one,two"], "values must be integers, got 'one'"),
    (["--sweep", "scale=0,2"], "at least 1"),
    (["--sweep", "preprocess-cost=-5,0"], "at least 0"),
    (["--sweep", "scale=2,2"], "listed twice"),
    (["--scale", "2", "--sweep", "scale=1,4"], "--scale and --sweep scale exclude each other"),
    (["--scale", "1", "--sweep", "scale=1,4"], "--scale and --sweep scale exclude each other"),
    (["--preprocess-cost", "10", "--sweep", "preprocess-cost=0,100"], "--preprocess-cost and --sweep preprocess-cost exclude"),
    (["--service-workers", "1", "--sweep", "service-workers=1,2"], "--service-workers and --sweep service-workers exclude"),
    (["--intra-op-threads", "-1"], "--intra-op-threads: must be a non-negative integer"),
    (["--intra-op-threads", "1", "--sweep", "intra-op-threads=0,2"], "--intra-op-threads and --sweep intra-op-threads exclude"),
    (["--sweep", "intra-op-threads=0,1", "--process-per", "block"], "--sweep intra-op-threads needs a process per trial"),
    # folders, resume and report-only
    (["--out", " "], "--out: a folder is needed"),
    (["--out", "/proc/no-such-place"], "cannot write there"),
    (["--cache-dir", ""], "--cache-dir: a folder is needed"),
    (["--resume", "--report-only"], "exclude each other"),
    (["--resume"], "--resume needs --out: the folder of the study"),
    (["--report-only"], "--report-only needs --out: the folder of the study"),
    (["--resume", "--out", "/tmp/surely-no-study-here-4711"], "holds no study to resume"),
    (["--report-only", "--out", "/tmp/surely-no-study-here-4712"], "holds no study"),
    # sources and services
    (["--strategies", "tfdata-service", "--service-address", "localhost:5050"], "expected grpc://HOST:PORT"),
    (["--strategies", "tfdata-service", "--service-address", "grpc://127.0.0.1:1"], "cannot reach tf.data service dispatcher"),
    (["--dataset", "keras", "--cache-dir", "/tmp/no-keras-cache-4713"], "--dataset keras needs"),
]


@pytest.mark.parametrize("arguments, message", BAD_ARGUMENTS)
def test_bad_arguments_are_refused_before_any_work(tmp_path, arguments, message):
    """Run from an empty folder: where a study without --out would make runs/<date-time>/, nothing appears."""
    _one_line_exit_2(run_cli(*arguments, cwd=tmp_path), message)
    assert not list(tmp_path.iterdir())  # refused before anything was made


def test_an_unusable_cache_dir_is_refused_before_the_data_is_built(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    _one_line_exit_2(run_cli("--cache-dir", str(a_file), "--out", str(tmp_path / "o1")), f"--cache-dir {a_file} is a file")
    _one_line_exit_2(run_cli("--cache-dir", str(a_file / "below"), "--out", str(tmp_path / "o2")), "cannot write there")
    _one_line_exit_2(run_cli("--cache-dir", "/proc/no-cache-here", "--out", str(tmp_path / "o3")), "--cache-dir /proc/no-cache-here: cannot write there")
    assert not list(tmp_path.glob("o*/*.json"))  # no study was started


def test_out_pointing_at_a_file_is_one_line(tmp_path):
    a_file = tmp_path / "results.txt"
    a_file.write_text("mine")
    _one_line_exit_2(run_cli("--out", str(a_file)), "is a file, not a folder")
    assert a_file.read_text() == "mine"


@pytest.mark.parametrize("content", ["[1, 2]", '"text"', "3", "null"])
@pytest.mark.parametrize("mode", ["--resume", "--report-only"])
def test_a_config_json_that_is_not_an_object_is_one_line(tmp_path, content, mode):
    (tmp_path / "config.json").write_text(content)
    _one_line_exit_2(run_cli(mode, "--out", str(tmp_path)), "config.json")


@pytest.mark.parametrize("mode", ["--resume", "--report-only"])
def test_a_config_json_with_bad_values_is_one_line(tmp_path, mode):
    (tmp_path / "config.json").write_text(json.dumps({"epochs": "three", "seed": -1}))
    _one_line_exit_2(run_cli(mode, "--out", str(tmp_path)), "config.json")


def test_an_unreadable_results_file_is_one_line_in_report_only(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(StudyConfig(out=str(tmp_path)).to_dict()))
    (tmp_path / "results.csv").mkdir()  # unreadable whoever runs the test, root included
    _one_line_exit_2(run_cli("--report-only", "--out", str(tmp_path)), "results.csv")


def test_a_plugin_shadowing_a_built_in_is_refused():
    result = run_cli("--list-strategies", env_extra={"INPUT_STUDY_PLUGINS": "tests.test_bad_input:ShadowsArrays"})
    _one_line_exit_2(result, "INPUT_STUDY_PLUGINS")
    assert "'arrays'" in result.stderr and "built-in" in result.stderr


def test_a_plugin_that_is_not_a_strategy_is_refused():
    result = run_cli("--list-strategies", env_extra={"INPUT_STUDY_PLUGINS": "tests.test_bad_input:NotAStrategy"})
    _one_line_exit_2(result, "INPUT_STUDY_PLUGINS")


def test_a_plugin_whose_import_fails_names_the_variable():
    result = run_cli("--list-strategies", env_extra={
        "INPUT_STUDY_PLUGINS": "tests.test_bad_input:ShadowsArrays", "BAD_PLUGIN_RAISES_ON_IMPORT": "1"})
    _one_line_exit_2(result, "INPUT_STUDY_PLUGINS: cannot load 'tests.test_bad_input:ShadowsArrays'")
    assert "the plugin's own bug" in result.stderr


def test_plugins_load_when_the_registry_is_first_asked_not_on_import():
    code = "import inputs.registry as registry; print('imported', flush=True); registry.strategies()"
    env = dict(os.environ, INPUT_STUDY_PLUGINS="no_such_module:Thing")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, env=env)
    assert result.stdout == "imported\n" and "PluginError: INPUT_STUDY_PLUGINS: cannot load" in result.stderr


def test_unset_counts_stay_possible_for_a_budget_to_plan():
    config = StudyConfig(epochs=None, repeats=None, limit=None)
    assert StudyConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    "values, message",
    [
        (dict(seed=-1), "--seed"), (dict(epochs=1), "--epochs"), (dict(epochs=0), "--epochs"),
        (dict(batch_size=64, limit=64), "--batch-size"), (dict(scale=3, sweep=("scale", (1, 2))), "--sweep scale"),
        (dict(repeats=0), "--repeats"), (dict(trial_timeout=-1.0), "--trial-timeout"), (dict(strategies=()), "--strategies"),
    ],
)
def test_study_config_refuses_for_every_entry_point(values, message):
    with pytest.raises(ConfigError, match=message):
        StudyConfig(**values)


def test_a_sweeps_own_configs_stay_valid():
    config = StudyConfig(sweep=("scale", (1, 2)), limit=100)
    assert [config.at_sweep_value(value).scale for value in (1, 2)] == [1, 2]
