"""The command as a user meets it: --help, --list-strategies, a broken plugin, and a default study from a fresh
clone. Bad arguments are in test_bad_input.py."""

import re
import shutil
import subprocess
import sys

from tests.conftest import PROJECT_ROOT, run_cli


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


def _git(folder, *arguments):
    return subprocess.run(["git", "-C", str(folder), *arguments], capture_output=True, text=True, check=True).stdout


def _files(folder) -> set:
    """Every path under `folder` but git's own and Python's bytecode caches (git-ignored, not the study's)."""
    return {path.relative_to(folder) for path in folder.rglob("*") if not {".git", "__pycache__"} & set(path.parts)}


def test_a_default_study_goes_to_a_new_runs_folder_and_leaves_the_checkout_clean(tmp_path):
    """As a new user: a fresh clone (here: the tracked files of this tree, committed), `python run_study.py`
    without --out. Its files go to runs/<date-time>/ only, `git status` stays clean, and it ends with the path
    of its summary."""
    clone = tmp_path / "clone"
    for name in _git(PROJECT_ROOT, "ls-files", "-z").split("\0"):
        if name and (PROJECT_ROOT / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT_ROOT / name, clone / name)
    _git(clone, "init", "-q")
    _git(clone, "add", "-A")
    _git(clone, "-c", "user.name=test", "-c", "user.email=test@example.invalid", "commit", "-qm", "clone")
    tracked = _files(clone)

    result = subprocess.run(
        [sys.executable, "run_study.py", "--strategies", "arrays", "--model", "small", "--limit", "64",
         "--epochs", "2", "--repeats", "1"],
        cwd=clone, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    last = result.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r"Summary: (runs/\d{8}-\d{6}/summary\.md)", last)
    assert match, last
    assert (clone / match.group(1)).is_file()
    assert _git(clone, "status", "--porcelain", "--ignored=no") == ""
    new = _files(clone) - tracked
    assert {path.parts[0] for path in new} == {"runs"}, sorted(map(str, new))[:10]
