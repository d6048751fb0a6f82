"""Import TensorFlow and Keras in a process that trains, without the optional packages Keras imports only because
they are installed.

Why: Keras 3 imports pandas (and with it pyarrow) for DataFrame inputs, IPython for its saved-file editor and
matplotlib for its image gallery, at `import keras` - and `import tensorflow` imports Keras - whenever they are
installed, as the study's report needs them to be. A trial feeds NumPy arrays, generators, tf.data or Grain, and
never uses them, yet every fresh trial process paid for them: on the 2-core development machine the import took a
median 5.83 s with them and 4.11 s without, 1.5 s saved per process (`python benchmarks/lean_import.py --rounds 10`,
reports/benchmarks/lean_import.txt). Keras guards each of these imports (`try: import pandas except ImportError:
pandas = None`), so hidden while it imports, each reads as not installed; nothing it does with arrays or datasets
changes.

Only during that import: afterwards they import as usual, for whatever needs them later (tensorflow-datasets, say).
Where one is already imported, it stays what it is.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import sys

# What Keras imports only when installed and a training process never uses (keras/src/trainers/data_adapters/
# array_slicing.py, keras/src/saving/file_editor.py, keras/src/visualization/plot_image_gallery.py).
KERAS_OPTIONAL_PACKAGES = ("pandas", "pyarrow", "IPython", "matplotlib")


class _Hidden(importlib.abc.MetaPathFinder):
    def __init__(self, packages):
        self.packages = frozenset(packages)

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.packages:
            raise ModuleNotFoundError(f"No module named {name!r} (hidden while TensorFlow and Keras import)", name=name)
        return None  # not ours: the next finder looks


@contextlib.contextmanager
def hidden(packages=KERAS_OPTIONAL_PACKAGES):
    """Within: importing any of `packages` (or a module of theirs) fails as if it were not installed."""
    finder = _Hidden(packages)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


def import_tensorflow_and_keras() -> None:
    """Import both, as the first thing a training process does, without Keras' optional companions."""
    with hidden():
        import keras  # noqa: F401
        import tensorflow  # noqa: F401
