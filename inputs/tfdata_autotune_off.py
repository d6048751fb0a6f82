"""`tfdata-autotune-off`: the `tfdata` pipeline with tf.data's autotuning switched off.

Keeps Keras' one-iterator-per-epoch behaviour but removes the autotune model thread whose shutdown a discarded
iterator waits for (see inputs/tfdata_repeat.py). Without autotuning, `prefetch(AUTOTUNE)` falls back to
tf.data's fixed default buffer, so this also measures what autotuning buys this pipeline.
"""

from inputs.base import FeedStrategy
from inputs.tfdata import shuffled_batches


class TfDataAutotuneOffStrategy(FeedStrategy):
    name = "tfdata-autotune-off"
    description = "tfdata with options.autotune.enabled = False: a new iterator each epoch, no autotune thread"

    def fit_arguments(self, data, options):
        import tensorflow as tf

        tf_options = tf.data.Options()
        tf_options.autotune.enabled = False
        dataset = shuffled_batches(data, options).prefetch(tf.data.AUTOTUNE).with_options(tf_options)
        return {"x": dataset}
