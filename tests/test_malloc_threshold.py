"""tf.data's from_generator fixes glibc malloc's mmap threshold at 128 KiB for the whole process; inputs/malloc_threshold.py
sees that and sets it back; `pydataset-restored-malloc` does so during fit; every trial records how its fit left it.
The process-wide malloc state is checked in processes of their own, never in the test process."""

import os
import subprocess
import sys

import pandas as pd
import pytest

from inputs import malloc_threshold
from tests.conftest import PROJECT_ROOT, run_cli

pytestmark = pytest.mark.skipif(malloc_threshold.is_mapped_afresh(1024) is None, reason="glibc malloc only")

FROM_GENERATOR = """
import tensorflow as tf
from inputs import malloc_threshold

print("before", malloc_threshold.threshold_fixed_low())
batches = tf.data.Dataset.from_generator(lambda: iter([[1, 2], [3, 4]]), output_signature=tf.TensorSpec((2,), tf.int32))
assert [list(b.numpy()) for b in batches] == [[1, 2], [3, 4]]
print("after from_generator", malloc_threshold.threshold_fixed_low())
print("restored", malloc_threshold.restore(), malloc_threshold.threshold_fixed_low())
"""


def test_from_generator_fixes_the_mmap_threshold_low_and_restore_sets_it_back():
    shown = subprocess.run([sys.executable, "-c", FROM_GENERATOR], capture_output=True, text=True, check=True,
                           cwd=PROJECT_ROOT, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(PROJECT_ROOT))).stdout
    assert shown.splitlines() == ["before False", "after from_generator True", "restored True False"]


def test_each_trial_records_whether_its_fit_left_the_threshold_fixed(tmp_path):
    out = tmp_path / "out"
    result = run_cli("--strategies", "pydataset,pydataset-restored-malloc", "--model", "small", "--limit", "64",
                     "--batch-size", "32", "--repeats", "1", "--epochs", "2", "--out", str(out))
    assert result.returncode == 0, result.stderr
    trials = pd.read_csv(out / "trials.csv").set_index("strategy")["mmap_threshold_fixed"]
    assert trials.to_dict() == {"pydataset": True, "pydataset-restored-malloc": False, "compute-bound": False}
