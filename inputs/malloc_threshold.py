"""glibc malloc's mmap threshold, which `tf.data.Dataset.from_generator` fixes at 128 KiB, and setting it back.

Keras feeds a Python generator, a `keras.utils.PyDataset` and a Grain dataset to TensorFlow through
`tf.data.Dataset.from_generator`. Building that dataset's kernel (GeneratorDatasetOp) calls TensorFlow's
`ApplyPython311MemoryPatch()`, which calls `mallopt(M_MMAP_THRESHOLD, 131072)` for the whole process (seen with gdb,
`break mallopt`, TensorFlow 2.21). A threshold set that way also switches glibc's dynamic threshold off: from then on
every block of 128 KiB or more - every tensor that large - is a fresh mmap, handed back to the kernel when freed, and
the next training step faults all its pages in again. For the study's LSTM (a 20,000 x 128 embedding) that is about
10,000 page faults per step (benchmarks/generator_malloc.py).

`restore()` sets the threshold to 32 MiB, glibc's own ceiling for its dynamic threshold, so that blocks under 32 MiB
come from malloc's heap and are reused from step to step. It must run after fit has built the dataset, which
`MmapThresholdRestored` (a Keras callback) does at the start of every epoch's first step. A no-op where the C library
is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_MMAP_THRESHOLD = -3  # glibc's <malloc.h>
KEEP_BELOW_BYTES = 32 * 1024 * 1024  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64-bit: its dynamic threshold's ceiling
_M_MMAPPED = 0x2  # the IS_MMAPPED bit of a glibc chunk's size field, the word before the block


@functools.cache
def _glibc():
    """The C library if it is glibc (it has mallopt and gnu_get_libc_version), else None."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 - only glibc has it
        libc.mallopt  # noqa: B018
    except (OSError, AttributeError):
        return None
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    return libc


def restore(threshold: int = KEEP_BELOW_BYTES) -> bool:
    """Sets glibc's mmap threshold to `threshold` bytes; False where that cannot be done (not glibc)."""
    libc = _glibc()
    return bool(libc and libc.mallopt(M_MMAP_THRESHOLD, threshold) == 1)


def is_mapped_afresh(size: int) -> bool | None:
    """Whether malloc served a block of `size` bytes with a fresh mmap just now (glibc's chunk header says so); None
    where the C library is not glibc. Only when its arena cannot serve it from memory it already holds does malloc
    consult the threshold at all."""
    libc = _glibc()
    if libc is None:
        return None
    block = libc.malloc(size)
    try:
        return bool(ctypes.c_size_t.from_address(block - ctypes.sizeof(ctypes.c_size_t)).value & _M_MMAPPED)
    finally:
        libc.free(block)


def restored_callback():
    """A Keras callback that restores the threshold at the first step of every epoch (after fit has built the
    epoch's dataset, whose from_generator kernel fixes it again). Made on first use: importing this module does not
    import Keras."""
    import keras

    class MmapThresholdRestored(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:
                restore()

    return MmapThresholdRestored()


def threshold_fixed_low(size: int = 30 * 1024 * 1024) -> bool | None:
    """Whether the mmap threshold is now fixed below `size` bytes (as from_generator leaves it at 128 KiB), rather than
    glibc's dynamic threshold or a restored one; None where the C library is not glibc. Two blocks of `size`, one
    after the other, each mapped afresh unless the heap holds that much free (rare for 30 MiB, and then it answers
    False): freeing the first raises a dynamic threshold above it, so the second comes from the heap - unless the
    threshold is fixed. (It leaves a dynamic threshold at 30 MiB; it touches no page of either block.)"""
    first = is_mapped_afresh(size)
    return None if first is None else bool(first and is_mapped_afresh(size))
