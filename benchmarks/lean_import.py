"""How much of a fresh trial process' start does hiding Keras' optional companions save? (Issue 19: every trial is a
fresh process, and importing TensorFlow and Keras is most of a trial's time outside its epochs.)

Keras imports pandas (with pyarrow), IPython and matplotlib whenever they are installed, and a training process
never uses them (processes/lean_import.py). Each round starts two fresh interpreters, in alternating order (ABBA):
- full: `import keras, tensorflow`, as every trial process did;
- lean: the same inside processes.lean_import.hidden(), as trial processes now do.
Per process: the import's own seconds (measured inside it), the process' wall time from start to exit, and how many
modules it holds. Printed: the medians and the paired ratio lean / full with a t interval over rounds. One process at
a time; nothing else should run on the machine.

    python benchmarks/lean_import.py --rounds 10
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD = """
import json, sys, time
started = time.perf_counter()
if {lean}:
    from processes import lean_import
    lean_import.import_tensorflow_and_keras()
else:
    import keras, tensorflow
seconds = time.perf_counter() - started
print(json.dumps({{"import_seconds": seconds, "modules": len(sys.modules),
                  "pandas": "pandas" in sys.modules, "matplotlib": "matplotlib" in sys.modules}}))
"""


def one(lean: bool) -> dict:
    started = time.perf_counter()
    output = subprocess.run([sys.executable, "-c", CHILD.format(lean=lean)], cwd=ROOT, capture_output=True, text=True,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), check=True).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    figures["process_seconds"] = time.perf_counter() - started
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    rounds = parser.parse_args().rounds
    runs = {"full": [], "lean": []}
    for number in range(rounds):
        for design in (("full", "lean") if number % 2 == 0 else ("lean", "full")):
            figures = one(design == "lean")
            runs[design].append(figures)
            print(f"round {number + 1}: {design}: import {figures['import_seconds']:.2f} s, process "
                  f"{figures['process_seconds']:.2f} s, {figures['modules']} modules, pandas imported: "
                  f"{figures['pandas']}, matplotlib imported: {figures['matplotlib']}", flush=True)
    from study import stats  # after the rounds: this process imports nothing heavy while it times its children

    print()
    for measure in ("import_seconds", "process_seconds"):
        full = [run[measure] for run in runs["full"]]
        lean = [run[measure] for run in runs["lean"]]
        print(f"{measure.replace('_', ' ')}: full median {statistics.median(full):.2f}, lean median "
              f"{statistics.median(lean):.2f}, saved median {statistics.median(f - l for f, l in zip(full, lean)):.2f} s; "
              f"lean / full {stats.ratio_of_pairs_text(lean, full)} (95% t interval over {rounds} rounds)")


if __name__ == "__main__":
    main()
