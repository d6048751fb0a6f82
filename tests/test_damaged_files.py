"""Every file the study reads back is checked: a cut or damaged results row is named (file and line), left
out of the report and its trial rerun by --resume; a damaged data cache is rebuilt; damaged TFRecord shards
are rebuilt before training; a failed atomic write leaves no temporary file; a new study moves only the files
a study writes."""

import errno
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from inputs import corpus
from study import analysis, report, results_files, schema
from tests.conftest import SMALL_SPLIT
from tests.test_report import write_study


def _study(tmp_path):
    out = tmp_path / "study"
    out.mkdir()
    write_study(out, blocks=2)
    return out


def _line_of(path: Path, predicate) -> int:
    """The 1-based line number of the first row satisfying predicate(fields)."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if number > 1 and predicate(line.split(",")):
            return number
    raise AssertionError("no such row")


def _of(table, strategy, repeat, value):
    return table[(table["strategy"] == strategy) & (table["repeat"] == repeat) & (table["sweep_value"] == value)]


def _status(trials, strategy, repeat, value):
    return set(_of(trials, strategy, repeat, value)["status"])


def test_a_cut_last_line_is_named_left_out_and_rerun_by_resume(tmp_path, capsys):
    out = _study(tmp_path)
    path = out / schema.RESULTS
    text = path.read_text()
    last = text.rstrip("\n").rsplit("\n", 1)[1]
    strategy, repeat, value = last.split(",")[0], int(last.split(",")[1]), int(last.split(",")[3])
    path.write_text(text.rstrip("\n")[: len(text) - 1 - len(last) // 2])  # a crash in the middle of the last line
    line = len(path.read_text().splitlines())

    study = analysis.load(out)
    warning = capsys.readouterr().err
    assert f"{path} line {line}" in warning and "damaged row" in warning
    assert _status(study.trials, strategy, repeat, value) == {schema.DAMAGED}  # out of the report, listed with the failures
    assert _of(study.results, strategy, repeat, value).empty
    assert (study.results["epoch_seconds"] > 0).all()

    keys = results_files.keep_finished_trials(out)  # what --resume does first
    assert (repeat, strategy, value) not in keys and len(keys) == len(study.ok_trials)
    trials = results_files.read_study_table(out, schema.TRIALS)
    assert _status(trials, strategy, repeat, value) == set()  # its ok-line is gone: --resume runs it again
    results = results_files.read_study_table(out, schema.RESULTS)
    assert _of(results, strategy, repeat, value).empty
    assert len(results) == len(study.results)


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda fields: fields[:9], "9 fields, not 21"),
        (lambda fields: fields[:7] + ["12.x"] + fields[8:], "epoch_seconds '12.x' is not a number"),
        (lambda fields: fields[:7] + ["0"] + fields[8:], "epoch_seconds '0' is not positive"),
        (lambda fields: fields[:4] + [""] + fields[5:], "no epoch"),
    ],
)
def test_a_damaged_middle_row_is_named_with_its_line_and_its_trial_rerun(tmp_path, capsys, damage, reason):
    out = _study(tmp_path)
    path = out / schema.RESULTS
    lines = path.read_text().splitlines()
    number = _line_of(path, lambda fields: fields[:5] == ["tfdata-online", "2", "preprocess-cost", "1000", "2"])
    lines[number - 1] = ",".join(damage(lines[number - 1].split(",")))
    path.write_text("\n".join(lines) + "\n")

    study = analysis.load(out)
    warning = capsys.readouterr().err
    assert f"{path} line {number}: damaged row ({reason})" in warning
    damaged = study.trials[study.trials["status"] == schema.DAMAGED]
    assert len(damaged) == 1 and _status(study.trials, "tfdata-online", 2, 1000) == {schema.DAMAGED}
    keys = results_files.keep_finished_trials(out)
    assert (2, "tfdata-online", 1000) not in keys and len(keys) == len(study.ok_trials)


def test_a_damaged_steps_row_reruns_its_trial(tmp_path, capsys):
    out = _study(tmp_path)
    path = out / schema.STEPS
    lines = path.read_text().splitlines()
    number = _line_of(path, lambda fields: fields[:3] == ["generator-online", "1", "0"])
    lines[number - 1] = lines[number - 1][:-3] + "abc"
    path.write_text("\n".join(lines) + "\n")
    study = analysis.load(out)
    assert f"{path} line {number}" in capsys.readouterr().err
    assert _status(study.trials, "generator-online", 1, 0) == {schema.DAMAGED}


def test_a_header_cut_by_the_first_append_is_an_empty_table(tmp_path, capsys):
    out = _study(tmp_path)
    (out / schema.STEPS).write_text("strategy,repeat,sweep_va")
    table = results_files.read_study_table(out, schema.STEPS)
    assert table.empty and f"{out / schema.STEPS} line 1" in capsys.readouterr().err
    results_files.keep_finished_trials(out)  # --resume then appends below a whole header
    assert (out / schema.STEPS).read_text() == ",".join(schema.STEP_COLUMNS) + "\n"


def test_the_report_is_drawn_without_the_damaged_trial(tmp_path):
    out = _study(tmp_path)
    path = out / schema.RESULTS
    path.write_text(path.read_text()[:-20])
    paths = report.build(out)
    assert (out / schema.SUMMARY) in paths and schema.DAMAGED in (out / schema.SUMMARY).read_text()


def test_a_failed_atomic_write_removes_its_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "summary.md"
    target.write_text("the old summary")

    def disk_full(descriptor):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        results_files.write_atomic(target, "a new summary")
    assert target.read_text() == "the old summary"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["summary.md"]


def test_a_new_study_moves_only_the_files_a_study_writes(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    ours = [*schema.STUDY_FILES, schema.SUMMARY, schema.EPOCH_TIME_PLOT]
    for name in ours:
        (out / name).write_text(name)
    (out / schema.LOGS).mkdir()
    (out / schema.LOGS / "001-arrays-block1.log").write_text("log")
    theirs = ["notes.txt", "thesis.md", "holiday.png", "data.csv"]
    for name in theirs:
        (out / name).write_text(name)
    (out / "data").mkdir()
    (out / "data" / "keep.txt").write_text("keep")
    (out / ".results.csv.123.tmp").write_text("half")

    archive = results_files.archive_previous(out)
    assert sorted(path.name for path in archive.iterdir()) == sorted([*ours, schema.LOGS])
    assert all((out / name).read_text() == name for name in theirs)
    assert (out / "data" / "keep.txt").read_text() == "keep"
    assert not (out / ".results.csv.123.tmp").exists()


def test_the_study_knows_every_file_its_report_writes(tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    write_study(out)
    assert {path.name for path in report.build(out)} <= set(schema.WRITTEN_FILES)


# --- the tokenized-data cache ------------------------------------------------------------------------------


def _cache_file(cache_dir: Path) -> Path:
    return cache_dir / f"{SMALL_SPLIT.cache_key()}.npz"


def test_a_stale_cache_without_an_expected_array_is_rebuilt(tmp_path):
    first = corpus.prepare(SMALL_SPLIT, tmp_path)
    path = _cache_file(tmp_path)
    with np.load(path) as cached:
        stale = {name: cached[name] for name in cached.files if name != "train_index"}
    np.savez(path, **stale)  # an older layout: the same key, one array fewer
    again = corpus.prepare(SMALL_SPLIT, tmp_path, with_texts=True)
    assert np.array_equal(again.x_train, first.x_train) and len(again.train_texts) == SMALL_SPLIT.train_size
    with np.load(path) as cached:
        assert "train_index" in cached.files


@pytest.mark.parametrize("damage", ["truncated", "flipped bytes", "empty", "not a zip"])
def test_a_damaged_cache_is_rebuilt(tmp_path, damage):
    first = corpus.prepare(SMALL_SPLIT, tmp_path)
    path = _cache_file(tmp_path)
    content = path.read_bytes()
    damaged = {
        "truncated": content[: len(content) // 2],
        "flipped bytes": content[:200] + bytes(b ^ 0xFF for b in content[200:400]) + content[400:],
        "empty": b"",
        "not a zip": b"hello",
    }[damage]
    path.write_bytes(damaged)
    again = corpus.prepare(SMALL_SPLIT, tmp_path, with_texts=True)
    assert np.array_equal(again.x_train, first.x_train) and np.array_equal(again.y_val, first.y_val)
    assert path.read_bytes() == content


def test_a_failed_cache_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    def disk_full(file, **arrays):
        Path(file).write_bytes(b"PK half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError):
        corpus.prepare(SMALL_SPLIT, tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- TFRecord shards ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "missing"])
def test_damaged_shards_are_rebuilt_before_training(small_split, tmp_path, damage):
    from inputs.corpus.records import checked_builder, prepared_builder, records_dir, verify_shards

    _, cache_dir = small_split
    shutil.copytree(records_dir(str(cache_dir)), tmp_path / "tfds")
    builder = prepared_builder(SMALL_SPLIT, records_dir(str(tmp_path)))
    shard = sorted(Path(builder.data_dir).glob("*train.tfrecord*"))[2]
    content = shard.read_bytes()
    if damage == "flipped byte":
        shard.write_bytes(content[:100] + bytes([content[100] ^ 0xFF]) + content[101:])
    elif damage == "truncated":
        shard.write_bytes(content[:-10])
    else:
        shard.unlink()
    with pytest.raises(corpus.DataError, match=str(shard)):
        verify_shards(builder.info.splits["train"])
    rebuilt = checked_builder(SMALL_SPLIT, records_dir(str(tmp_path)))
    verify_shards(rebuilt.info.splits["train"])
    assert shard.read_bytes() == content


def test_the_check_before_the_study_repairs_the_records_or_names_the_problem(small_split, tmp_path):
    import dataclasses
    import json
    import subprocess
    import sys

    from inputs.corpus.records import StudyImdbConfig, records_dir
    from tests.conftest import PROJECT_ROOT

    _, cache_dir = small_split
    shutil.copytree(records_dir(str(cache_dir)), tmp_path / "tfds")
    folder = tmp_path / "tfds" / "study_imdb" / StudyImdbConfig(SMALL_SPLIT).name  # the records of SMALL_SPLIT only
    shard = sorted(folder.rglob("*train.tfrecord*"))[1]
    content = shard.read_bytes()
    shard.write_bytes(content[:-10])

    def check(folder):
        spec = {"settings": dataclasses.asdict(SMALL_SPLIT), "cache_dir": str(folder)}
        return subprocess.run([sys.executable, "-c", "import sys; from inputs.corpus.records import main; sys.exit(main())", json.dumps(spec)],
                              capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300)

    repaired = check(tmp_path)
    assert repaired.returncode == 0, repaired.stderr[-2000:]
    assert shard.is_file() and shard.stat().st_size != len(content) - 10  # written again
    written = {path: path.stat().st_mtime_ns for path in folder.rglob("*.tfrecord*")}
    assert check(tmp_path).returncode == 0  # intact now: checked, not rebuilt
    assert {path: path.stat().st_mtime_ns for path in folder.rglob("*.tfrecord*")} == written
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    refused = check(a_file)
    assert refused.returncode == 2 and "TFRecords in" in refused.stderr.strip().splitlines()[-1]


# --- a shard found damaged inside a trial: rebuilt once, the trial run again ------------------------------------


def test_a_shard_damaged_inside_a_trial_is_rebuilt_and_the_trial_run_again(tmp_path):
    import pandas as pd

    from tests.conftest import run_cli

    out, marker = tmp_path / "out", tmp_path / "damaged-shard"
    result = run_cli(
        "--strategies", "damages-a-record-once", "--model", "small", "--limit", "64", "--batch-size", "32",
        "--repeats", "1", "--epochs", "2", "--out", str(out),
        env_extra={"INPUT_STUDY_PLUGINS": "tests.faulty_strategies:DamagesARecordOnce", "SHARD_DAMAGE_MARKER": str(marker)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    shard = marker.read_text()
    assert f"{shard} was found damaged: rebuilding it and running the trial again." in result.stdout
    trials = pd.read_csv(out / "trials.csv").set_index("strategy")
    assert len(trials) == 2 and (trials["status"] == "ok").all()  # it and the limit, each once
    assert trials.loc["damages-a-record-once", "error"] == f"ran again after rebuilding damaged {shard}"
    results = pd.read_csv(out / "results.csv")
    assert sorted(results[results["strategy"] == "damages-a-record-once"]["epoch"]) == [1, 2]


def _outcome(status="ok", error="", damaged_file=""):
    from study.trial_process import TrialOutcome

    return TrialOutcome(status, error, [], {}, 1.0, 0.5, 0.1, 100.0, damaged_file=damaged_file)


DAMAGED = _outcome("failed", "DamagedFileError: TFRecord shard /records/train-3 is damaged (truncated record at 100): "
                   "delete /records and the records are rebuilt on the next run", "/records/train-3")


class _Rebuilds(list):
    answer = None  # what each rebuild answers: None, rebuilt; else its one line of failure


@pytest.fixture
def rebuilds(monkeypatch):
    """The rebuilds asked for, the strategy's `prepare` replaced: each call appends its (config, strategy)."""
    from study import repair

    asked = _Rebuilds()
    monkeypatch.setattr(repair, "rebuild", lambda config, strategy: asked.append((config, strategy)) or asked.answer)
    return asked


def _run(outcomes):
    from study import repair
    from study.config import StudyConfig

    runs, said = iter(outcomes), []
    return repair.run_rebuilding_once(StudyConfig(), "tfrecord", lambda: next(runs), said.append), said


def test_a_trial_without_damage_runs_once(rebuilds):
    failed = _outcome("failed", "RuntimeError: boom")
    assert _run([failed]) == (failed, []) and rebuilds == []


def test_a_trial_that_runs_well_after_the_rebuild_is_recorded_as_run_again(rebuilds):
    final, said = _run([DAMAGED, _outcome()])
    assert final.status == "ok" and final.error == "ran again after rebuilding damaged /records/train-3"
    assert said == ["/records/train-3 was found damaged: rebuilding it and running the trial again."]
    assert [strategy for _, strategy in rebuilds] == ["tfrecord"]  # its own files, by its own prepare


def test_damage_found_again_after_the_rebuild_is_one_line_naming_the_file(rebuilds):
    final, _ = _run([DAMAGED, DAMAGED])
    assert final.status == "failed" and len(rebuilds) == 1  # rebuilt once only
    assert final.error == f"damaged again after it was rebuilt once: {DAMAGED.error}"
    assert "\n" not in final.error and "/records/train-3" in final.error


def test_a_rebuild_that_fails_fails_the_trial_naming_the_file(rebuilds):
    rebuilds.answer = "TFRecords in /records: [Errno 28] No space left on device"
    final, _ = _run([DAMAGED])  # not run again
    assert final.status == "failed"
    assert final.error == ("/records/train-3 is damaged, and rebuilding it failed: TFRecords in /records: "
                           "[Errno 28] No space left on device")


def test_rows_appended_to_a_table_begun_by_an_older_version_keep_its_columns(tmp_path):
    # A study resumed after an upgrade that added a column: its trials.csv keeps the header it began with, and every
    # row has as many fields as that header - none is read as damaged, none is rerun for it.
    from study.results_files import append_rows

    path = tmp_path / "trials.csv"
    append_rows(path, ["strategy", "repeat", "status"], [{"strategy": "arrays", "repeat": 1, "status": "ok"}])
    append_rows(path, ["strategy", "repeat", "status", "added"],
                [{"strategy": "tfdata", "repeat": 1, "status": "ok", "added": 2.5}])
    assert path.read_text() == "strategy,repeat,status\narrays,1,ok\ntfdata,1,ok\n"
