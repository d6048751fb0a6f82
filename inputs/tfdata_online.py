"""`tfdata-online`: tf.data starting from raw review text every epoch, tokenizing per batch with tf.strings.

from_tensor_slices(texts, labels) -> shuffle(whole set, seeded) -> batch -> map(tokenize + preprocess cost,
AUTOTUNE) -> prefetch(AUTOTUNE). Tokenizing after `batch` runs the string ops once per batch, vectorized, with
`inputs.text.tf_tokenize_batch_fn`: exactly the integers of the same examples in `PreparedData.x_train`
(the rule is checked on tricky text in tests/test_tfdata_online.py, the strategy in test_strategy_contract.py).
"""

from __future__ import annotations

from inputs import preprocess_cost
from inputs.base import FeedStrategy, train_texts
from inputs.text import tf_tokenize_batch_fn


def online_dataset(data, options):
    """The tf.data pipeline from raw texts to (ids int32 [b, sequence_length], labels int32 [b]) batches.

    One iteration is one epoch: every example once, in a new seeded order each iteration, the last batch
    partial. `options.preprocess_cost_us` adds that much calibrated CPU work per example.
    """
    import tensorflow as tf

    cost_iterations = preprocess_cost.tf_iterations(options.preprocess_cost_us, options.batch_size)
    return (
        tf.data.Dataset.from_tensor_slices((list(train_texts(data)), data.y_train))
        .shuffle(data.num_train, seed=options.seed, reshuffle_each_iteration=True)
        .batch(options.batch_size)
        .map(tf_tokenize_batch_fn(data.vocabulary, data.sequence_length, cost_iterations), num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


class TfDataOnlineStrategy(FeedStrategy):
    name = "tfdata-online"
    description = "tf.data from raw text: shuffle -> batch -> map(tf.strings tokenize + pad, AUTOTUNE) -> prefetch"
    needs_texts = True

    def fit_arguments(self, data, options):
        return {"x": online_dataset(data, options)}
