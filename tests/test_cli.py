import pytest

from tests.conftest import run_cli


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--strategies", "bogus"], "unknown strategy 'bogus'; choose from: arrays"),
        (["--strategies", ""], "--strategies is empty"),
        (["--strategies", "arrays,,tfdata"], "empty name"),
        (["--strategies", "arrays,arrays"], "names a strategy twice"),
        (["--strategies", "compute-bound"], "always measured"),
        (["--epochs", "0"], "--epochs: must be a positive integer"),
        (["--epochs", "two"], "--epochs: must be a positive integer"),
        (["--batch-size", "-5"], "--batch-size: must be a positive integer"),
        (["--limit", "0"], "--limit: must be a positive integer"),
        (["--limit", "25000"], "--limit 25000 exceeds the 20,000 training examples"),
        (["--repeats", "1.5"], "--repeats: must be a positive integer"),
        (["--seed", "abc"], "--seed: must be an integer"),
        (["--sweep", "speed=1,2"], "--sweep must look like NAME=V1,V2"),
        (["--sweep", "preprocess-cost=0,,5"], "values must be integers"),
        (["--sweep", "scale=0,2"], "at least 1"),
        (["--trial-timeout", "-1"], "--trial-timeout: must be a positive number"),
        (["--model", "huge"], "invalid choice: 'huge'"),
        (["--out", "/proc/no-such-place"], "cannot write there"),
        (["--resume", "--out", "/tmp/surely-no-study-here-4711"], "holds no study to resume"),
        (["--report-only", "--out", "/tmp/surely-no-study-here-4712"], "holds no study"),
        (["--strategies", "tfdata-service", "--service-address", "localhost:5050"], "expected grpc://HOST:PORT"),
        (["--strategies", "tfdata-service", "--service-address", "grpc://127.0.0.1:1"], "cannot reach tf.data service dispatcher"),
        (["--dataset", "keras", "--cache-dir", "/tmp/no-keras-cache-4713"], "--dataset keras needs"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(arguments, message):
    result = run_cli(*arguments)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert message in lines[0] and lines[0].startswith("run_study.py: error:")
    assert "Traceback" not in result.stderr


def test_list_strategies_names_each_with_a_description():
    result = run_cli("--list-strategies")
    assert result.returncode == 0
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names[:3] == ["arrays", "generator", "tfdata"] and names[-1] == "compute-bound"
    assert all(len(line.split(None, 1)) == 2 for line in result.stdout.splitlines())


def test_help_lists_the_options():
    result = run_cli("--help")
    assert result.returncode == 0
    for option in ("--strategies", "--epochs", "--repeats", "--batch-size", "--limit", "--out", "--seed", "--resume", "--report-only"):
        assert option in result.stdout


def test_broken_plugin_is_one_line():
    result = run_cli("--list-strategies", env_extra={"INPUT_STUDY_PLUGINS": "no_such_module:Thing"})
    assert result.returncode == 2 and "cannot load 'no_such_module:Thing'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
