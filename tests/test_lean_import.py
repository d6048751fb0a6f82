"""A training process imports TensorFlow and Keras without Keras' optional companions (processes/lean_import.py),
trains as before, and can still import them afterwards."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import sys
from processes import lean_import
lean_import.import_tensorflow_and_keras()
skipped = sorted(name for name in lean_import.KERAS_OPTIONAL_PACKAGES if name in sys.modules)
import keras, numpy
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
model.compile(loss="mse", optimizer="sgd")
history = model.fit(numpy.ones((8, 4)), numpy.ones((8, 1)), batch_size=4, epochs=1, verbose=0)
import pandas
print(skipped, len(history.history["loss"]), pandas.DataFrame({"a": [1]}).shape)
"""


def test_keras_imports_without_its_optional_companions_trains_and_they_import_afterwards():
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3", "HOME": str(Path.home())})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[] 1 (1, 1)"


def test_only_the_named_packages_are_hidden_and_only_inside():
    from processes import lean_import

    with lean_import.hidden(("no_such_package_of_the_study",)):
        import json  # noqa: F401 - not hidden: imports as usual
        try:
            import no_such_package_of_the_study.sub  # noqa: F401
        except ModuleNotFoundError as error:
            assert "hidden" in str(error)
        else:
            raise AssertionError("a hidden package imported")
    assert not any(isinstance(finder, lean_import._Hidden) for finder in sys.meta_path)
