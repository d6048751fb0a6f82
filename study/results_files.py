"""The study's files on disk (their names and columns are in study.schema): append-only tables flushed to
disk, atomic rewrites, and the output folder's life (a new study archives an earlier one; a resumed one
keeps only finished trials' rows).

A crash, a kill or a full disk may stop a study at any moment; what was appended before stays readable, and a
report file is either the old one or the new one, never half of one.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import json
import os
import shutil
import sys
from pathlib import Path

from study import schema


class ResultsError(Exception):
    """A results file cannot be read; the message names it and says what to do."""


def append_rows(path: Path, columns: list[str], rows: list[dict]) -> None:
    """Append rows (writing the header first if the file is new), then flush and fsync. A file begun by an older
    version of the study (a resumed study) keeps its own columns: a column added since is left out of its rows, so
    that every row has as many fields as its header."""
    new = not path.exists() or path.stat().st_size == 0
    if not new:
        with open(path, encoding="utf-8", newline="") as handle:
            header = next(csv.reader([handle.readline()]), [])
        if header and set(header) <= set(columns) and header != list(columns):
            columns = header
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
    """Write to a temporary name in the same folder, fsync, then rename over `path`; a failed write (a full
    disk) removes the temporary file and leaves `path` as it was."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    mode = "wb" if isinstance(content, bytes) else "w"
    try:
        with open(temporary, mode, **({} if isinstance(content, bytes) else {"encoding": "utf-8"})) as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_json(path: Path, value) -> None:
    write_atomic(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


def read_json(path: Path) -> dict:
    """A study's JSON file (config.json, environment.json): a JSON object, or a ResultsError naming the file."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ResultsError(f"{path} is unreadable ({error}); delete it or choose another --out") from error
    if not isinstance(value, dict):
        raise ResultsError(
            f"{path} holds a JSON {type(value).__name__}, not the object of settings a study writes; "
            "delete it or choose another --out"
        )
    return value


_warned: set = set()


def warn(message: str) -> None:
    """One line on stderr, once per message (the report reads a file more than once)."""
    if message not in _warned:
        _warned.add(message)
        print(f"warning: {message}", file=sys.stderr)


@dataclasses.dataclass(frozen=True)
class DamagedRow:
    path: Path
    line: int  # 1-based, the header is line 1
    reason: str
    key: tuple | None  # the trial it belongs to, when its key survived


def _row_problem(row: dict, name: str) -> str | None:
    """Why a row of table `name` cannot be read back, or None."""
    for column in schema.REQUIRED_VALUES.get(name, ()):
        if not row.get(column):
            return f"no {column}"
    for column, value in row.items():
        if not value or column in schema.TEXT_COLUMNS:
            continue
        try:
            number = float(value)  # integers too: a table rewritten by pandas may say 3.0 for 3
        except ValueError:
            return f"{column} {value!r} is not a number"
        if column in schema.INTEGER_COLUMNS and not number.is_integer():
            return f"{column} {value!r} is not a whole number"
        if column in schema.POSITIVE_COLUMNS and not number > 0:
            return f"{column} {value!r} is not positive"
    return None


def _row_key(row: dict) -> tuple | None:
    try:
        if not row.get("strategy"):
            return None
        value = row.get("sweep_value") or None
        return schema.trial_key(int(float(row["repeat"])), row["strategy"], None if value is None else int(float(value)))
    except (KeyError, TypeError, ValueError):
        return None


def _read_rows(path: Path, required: list[str]):
    """(header, good rows as lists, damaged rows). A row is damaged when it has the wrong number of fields,
    lacks a required value or holds a non-number where a number belongs; the last line of a file is also
    damaged when it has no line end (append_rows ends every line: it was cut by a crash or a full disk)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ResultsError(
            f"{path} is unreadable ({getattr(error, 'strerror', None) or error}); move it away and rerun, or use another --out"
        ) from None
    if "\x00" in text:
        raise ResultsError(f"{path} is corrupt (it holds NUL bytes); move it away and rerun, or rerun with another --out")
    try:
        records = list(csv.reader(io.StringIO(text)))
        line_numbers, reader = [], csv.reader(io.StringIO(text))
        for _ in reader:
            line_numbers.append(reader.line_num)
    except csv.Error as error:
        raise ResultsError(f"{path} is corrupt ({error}); move it away and rerun, or rerun with another --out") from None
    if not records:
        return list(required), [], []
    if len(records) == 1 and not text.endswith("\n"):  # the first append was cut inside the header: no rows yet
        return list(required), [], [DamagedRow(path, 1, "the header was cut (no line end)", None)]
    header = records[0]
    missing = [column for column in required if column not in header]
    if missing:
        raise ResultsError(
            f"{path} lacks the columns {', '.join(missing)}: not a file of this study; move it away or use another --out"
        )
    good, damaged = [], []
    last = len(records) - 1
    for index in range(1, len(records)):
        fields, line = records[index], line_numbers[index - 1] + 1
        if not fields:  # a blank line
            continue
        row = dict(zip(header, fields))
        if index == last and not text.endswith("\n"):
            reason = "the line was cut (no line end)"
        elif len(fields) != len(header):
            reason = f"{len(fields)} fields, not {len(header)}"
        else:
            reason = _row_problem(row, path.name)
        if reason:
            damaged.append(DamagedRow(path, line, reason, _row_key(row)))
        else:
            good.append(fields)
    return header, good, damaged


def read_table(path: Path, required: list[str]):
    """A results table as a DataFrame of its intact rows; each damaged row (a cut last line, a torn or
    garbled row) is named, file and line, in a warning and left out; a file that is not a table of this study
    at all is a ResultsError with the fix."""
    import pandas as pd

    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        return pd.DataFrame(columns=required)
    header, good, damaged = _read_rows(path, required)
    for row in damaged:
        warn(f"{row.path} line {row.line}: damaged row ({row.reason}); left out of the report, --resume reruns its trial")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(good)
    buffer.seek(0)
    if not good:
        return pd.DataFrame(columns=header)
    return pd.read_csv(buffer)


def damaged_trials(out: Path) -> dict:
    """The trials some of whose rows in results.csv or steps.csv are damaged: key -> where (file and line)."""
    found = {}
    for name in (schema.RESULTS, schema.STEPS):
        path = out / name
        if path.is_file() and path.stat().st_size:
            for row in _read_rows(path, schema.REQUIRED[name])[2]:
                if row.key is not None:
                    found.setdefault(row.key, f"{name} line {row.line}")
    return found


def read_study_table(out: Path, name: str):
    """One of the study's tables (schema.RESULTS, STEPS or TRIALS), with its sweep values normalized. In
    trials.csv, a trial marked ok whose rows elsewhere are damaged is marked `damaged`: it is left out of the
    report (and listed with the failures) and --resume runs it again."""
    table = schema.normalize_sweep_column(read_table(out / name, schema.REQUIRED[name]))
    if name == schema.TRIALS and len(table):
        damaged = damaged_trials(out)
        if damaged:
            table = table.astype({"status": object, "error": object}) if "error" in table else table.astype({"status": object})
            for index, row in table.iterrows():
                key = schema.trial_key(row["repeat"], row["strategy"], row["sweep_value"])
                if row["status"] == schema.OK and key in damaged:
                    table.at[index, "status"] = schema.DAMAGED
                    table.at[index, "error"] = f"damaged row in {damaged[key]}; --resume reruns it"
    return table


def has_study(out: Path) -> bool:
    return any((out / name).exists() for name in schema.STUDY_FILES)


def archive_previous(out: Path) -> Path:
    """Move an earlier study's files aside so a new study never overwrites measurements. Only what a study
    writes is moved (schema.WRITTEN_FILES, its logs folder, its leftover temporary files); everything else
    in the folder is the user's and stays where it is."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    archive = out / "archive" / stamp
    archive.mkdir(parents=True)
    for path in out.iterdir():
        ours = (path.is_file() and path.name in schema.WRITTEN_FILES) or (path.is_dir() and path.name == schema.LOGS)
        leftover = path.is_file() and path.name.startswith(".") and path.name.endswith(".tmp") and any(
            path.name.startswith(f".{name}.") for name in schema.WRITTEN_FILES
        )
        if ours:
            shutil.move(str(path), archive / path.name)
        elif leftover:
            path.unlink()  # a temporary file of an interrupted rewrite: its content is not a result
    return archive


def keep_finished_trials(out: Path) -> set:
    """Rewrite the tables keeping the rows of finished trials only; returns their keys (for --resume).

    A crash may leave rows of an unfinished trial, and failed trials are run again: only ok trials stay."""
    keys = schema.finished_keys(read_study_table(out, schema.TRIALS))
    for name, columns in schema.COLUMNS.items():
        path = out / name
        if path.is_file() and path.stat().st_size:  # rewritten even when no row stays: a cut header goes too
            kept = schema.of_finished_trials(read_table(path, ["strategy", "repeat"]), keys)
            write_atomic(path, kept.reindex(columns=columns).to_csv(index=False))
    return keys
