"""What the study ran on: recorded with the results and shown in the report."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_commit() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=root, capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (commit + ("+uncommitted" if dirty else "")) if commit else "unknown"


def collect() -> dict:
    """Versions, machine and threads, without importing TensorFlow (the parent stays light)."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "tensorflow": _version("tensorflow"),
        "keras": _version("keras"),
        "numpy": _version("numpy"),
        "tensorflow_datasets": _version("tensorflow-datasets"),
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        # What TensorFlow's pools default to here (0 = one thread per logical core); --intra-op-threads overrides the
        # first in every trial, and trials.csv records what each trial asked for.
        "tf_intra_op_threads": os.environ.get("TF_NUM_INTRAOP_THREADS", "0 (TensorFlow default)"),
        "tf_inter_op_threads": os.environ.get("TF_NUM_INTEROP_THREADS", "0 (TensorFlow default)"),
        "git_commit": _git_commit(),
    }
