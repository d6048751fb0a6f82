"""The study's files on disk (their names and columns are in study.schema): append-only tables flushed to
disk, atomic rewrites, and the output folder's life (a new study archives an earlier one; a resumed one
keeps only finished trials' rows).

A crash, a kill or a full disk may stop a study at any moment; what was appended before stays readable, and a
report file is either the old one or the new one, never half of one.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import os
import shutil
from pathlib import Path

from study import schema


class ResultsError(Exception):
    """A results file cannot be read; the message names it and says what to do."""


def append_rows(path: Path, columns: list[str], rows: list[dict]) -> None:
    """Append rows (writing the header first if the file is new), then flush and fsync."""
    new = not path.exists() or path.stat().st_size == 0
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    if new:
        writer.writeheader()
    writer.writerows(rows)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(buffer.getvalue())
        handle.flush()
        os.fsync(handle.fileno())


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write to a temporary name in the same folder, fsync, then rename over `path`."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    mode = "wb" if isinstance(content, bytes) else "w"
    with open(temporary, mode, **({} if isinstance(content, bytes) else {"encoding": "utf-8"})) as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def write_json(path: Path, value) -> None:
    write_atomic(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


def read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ResultsError(f"{path} is unreadable ({error}); delete it or choose another --out") from error


def read_table(path: Path, required: list[str]):
    """A results table as a DataFrame; a truncated last line (a crash mid-append) is dropped, anything
    worse is named with the fix."""
    import pandas as pd

    if not path.exists() or path.stat().st_size == 0:
        return pd.DataFrame(columns=required)
    try:
        table = pd.read_csv(path, on_bad_lines="skip", engine="python")
    except Exception as error:
        raise ResultsError(
            f"{path} is corrupt ({type(error).__name__}); move it away and rerun, or rerun with another --out"
        ) from error
    missing = [column for column in required if column not in table.columns]
    if missing:
        raise ResultsError(
            f"{path} lacks the columns {', '.join(missing)}: not a file of this study; move it away or use another --out"
        )
    return table.dropna(subset=[column for column in required if column in ("strategy", "repeat")])


def read_study_table(out: Path, name: str):
    """One of the study's tables (schema.RESULTS, STEPS or TRIALS), with its sweep values normalized."""
    return schema.normalize_sweep_column(read_table(out / name, schema.REQUIRED[name]))


def has_study(out: Path) -> bool:
    return any((out / name).exists() for name in schema.STUDY_FILES)


def archive_previous(out: Path) -> Path:
    """Move an earlier study's files aside so a new study never overwrites measurements."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    archive = out / "archive" / stamp
    archive.mkdir(parents=True)
    for path in out.iterdir():
        if path.name not in ("archive", ".study.lock") and (path.is_file() or path.name == "logs"):
            shutil.move(str(path), archive / path.name)
    return archive


def keep_finished_trials(out: Path) -> set:
    """Rewrite the tables keeping the rows of finished trials only; returns their keys (for --resume).

    A crash may leave rows of an unfinished trial, and failed trials are run again: only ok trials stay."""
    keys = schema.finished_keys(read_study_table(out, schema.TRIALS))
    for name, columns in schema.COLUMNS.items():
        path = out / name
        table = read_table(path, ["strategy", "repeat"])
        if not table.empty:
            kept = schema.of_finished_trials(table, keys)
            write_atomic(path, kept.reindex(columns=columns).to_csv(index=False))
    return keys
