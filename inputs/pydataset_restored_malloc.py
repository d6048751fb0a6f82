"""`pydataset-restored-malloc`: `pydataset`, with glibc malloc's mmap threshold set back once fit has built its dataset.

Keras feeds a `keras.utils.PyDataset` (like a Python generator or a Grain dataset) through
`tf.data.Dataset.from_generator`, whose kernel fixes malloc's mmap threshold at 128 KiB for the whole process
(inputs/malloc_threshold.py): every large block is then mapped afresh and faulted in again at every step. This
strategy is `pydataset` (the same batches, the same orders, the same workers) plus a Keras callback that sets the
threshold back at each epoch's first step - a change a user of any PyDataset, generator or Grain dataset can copy.
"""

from inputs import malloc_threshold
from inputs.pydataset import PyDatasetStrategy


class PyDatasetRestoredMallocStrategy(PyDatasetStrategy):
    name = "pydataset-restored-malloc"
    description = ("`pydataset`, with glibc malloc's mmap threshold set back after tf.data's from_generator fixes it "
                   "at 128 KiB (a Keras callback)")
    restores_mmap_threshold_of = PyDatasetStrategy.name

    def fit_arguments(self, data, options):
        return {**super().fit_arguments(data, options), "callbacks": [malloc_threshold.restored_callback()]}

    def usage(self):
        return (
            "import ctypes\n\nimport keras\n\n\n"
            "class MmapThresholdRestored(keras.callbacks.Callback):\n"
            "    # tf.data's from_generator (which Keras uses for a PyDataset, a generator or a Grain dataset) sets glibc's\n"
            "    # mmap threshold to 128 KiB: large blocks are then mapped afresh and faulted in again every step.\n"
            "    # Set it back (32 MiB) once fit has built the epoch's dataset.\n"
            "    def on_train_batch_begin(self, batch, logs=None):\n"
            "        if batch == 0:\n"
            "            ctypes.CDLL(\"libc.so.6\").mallopt(-3, 32 * 1024 * 1024)  # M_MMAP_THRESHOLD (glibc)\n\n\n"
            "model.fit(batches, epochs=3, shuffle=False,  # batches: your keras.utils.PyDataset\n"
            "          callbacks=[MmapThresholdRestored()])\n"
        )
