"""TensorFlow's intra-op thread pool in a trial's process (--intra-op-threads).

TensorFlow splits one op over up to one thread per core and runs ops side by side in a second pool of the same
size; on a machine of few cores both share those cores with the feed's own threads. On the 2-core machine one
intra-op thread made this LSTM's steps 16-19% shorter (benchmarks/thread_pools.py), so the study lets the user set
it and, swept, measures it. TensorFlow fixes its pools when the process runs its first op: `apply` must come before
anything builds a tensor, and one process keeps one setting (a block's shared process cannot sweep it).
"""

from __future__ import annotations


def apply(intra_op_threads: int) -> None:
    """Ask TensorFlow for `intra_op_threads` intra-op threads (0: leave its default, or $TF_NUM_INTRAOP_THREADS)."""
    if intra_op_threads:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(int(intra_op_threads))


def in_use() -> int:
    """The intra-op threads this process asked TensorFlow for (0: its default), as trials.csv records them."""
    import tensorflow as tf

    return int(tf.config.threading.get_intra_op_parallelism_threads())
