#!/usr/bin/env python
"""Which kernels the training step runs, by the batch shape it was traced for: the TF profiler over one steady
epoch of `arrays` (batches of static size, (32, 80)) and of `tfdata` (any size, (None, 80)), one fresh process each.

Prints, per variant, the host ops of TensorFlow's compute threads by op type: how many ran and their summed time.
The profiler's own overhead inflates every duration (it records each op), so read the kinds and counts of kernels,
not the times.

Usage: python benchmarks/step_kernels.py [--limit 2048] [--top 25]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ONE_RUN = r"""
import collections, glob, json, sys
import keras
import tensorflow as tf
from tensorflow.tsl.profiler.protobuf import xplane_pb2
from inputs import corpus, registry
from inputs.options import FeedOptions
from models import build_model

variant, limit, logdir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = corpus.prepare(corpus.DataSettings(seed=0)).limited(limit)
model = build_model("lstm", seed=0)


class Profile(keras.callbacks.Callback):  # the third epoch: after the warm-up and a steady one
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            tf.profiler.experimental.start(logdir)
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 2:
            tf.profiler.experimental.stop()


model.fit(**registry.get(variant).fit_arguments(data, FeedOptions(batch_size=32, seed=0)), epochs=3, verbose=0,
          callbacks=[Profile()])
space = xplane_pb2.XSpace()
space.ParseFromString(open(sorted(glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True))[-1], "rb").read())
counts, seconds = collections.Counter(), collections.Counter()
for plane in space.planes:
    if not plane.name.startswith("/host:CPU"):
        continue
    names = {key: value.name for key, value in plane.event_metadata.items()}
    for line in plane.lines:
        if not line.name.startswith("tf_Compute"):
            continue
        for event in line.events:
            name = names.get(event.metadata_id, "?")
            if ":" in name:  # "scope/op_name:OpType": an op kernel
                op_type = name.rsplit(":", 1)[1]
                counts[op_type] += 1
                seconds[op_type] += event.duration_ps / 1e12
print(json.dumps({"counts": counts, "seconds": seconds}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=2048)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2")
    found = {}
    for variant in ("arrays", "tfdata"):
        with tempfile.TemporaryDirectory() as logdir:
            result = subprocess.run([sys.executable, "-c", ONE_RUN, variant, str(args.limit), logdir],
                                    capture_output=True, text=True, env=env, check=True)
        found[variant] = json.loads(result.stdout.strip().splitlines()[-1])
    print(f"one steady epoch of {-(-args.limit // 32)} steps, model lstm; op kernels in TensorFlow's compute threads")
    print(f"{'op type':<28} {'arrays (32, 80): ops':>22} {'s':>7}   {'tfdata (None, 80): ops':>24} {'s':>7}")
    kinds = collections.Counter()
    for variant in found.values():
        kinds.update(variant["seconds"])
    for kind, _ in kinds.most_common(args.top):
        cells = [(found[v]["counts"].get(kind, 0), found[v]["seconds"].get(kind, 0.0)) for v in ("arrays", "tfdata")]
        print(f"{kind:<28} {cells[0][0]:>22,} {cells[0][1]:>7.2f}   {cells[1][0]:>24,} {cells[1][1]:>7.2f}")
    only = lambda a, b: sorted(set(found[a]["counts"]) - set(found[b]["counts"]))  # noqa: E731
    print(f"only with batches of static size: {', '.join(only('arrays', 'tfdata')) or 'none'}")
    print(f"only with batches of unknown size: {', '.join(only('tfdata', 'arrays')) or 'none'}")


if __name__ == "__main__":
    main()
