"""`grain` and `grain-threads`: a Grain pipeline over the raw review text, handed straight to `model.fit`.

    MapDataset.source((text, label) records) -> shuffle(seed) -> map(tokenize + pad one review)
        -> batch(batch_size) -> repeat() -> to_iter_dataset(ReadOptions) [-> mp_prefetch(MultiprocessingOptions)]

Each review is tokenized and padded with `inputs.text` (plus the `--preprocess-cost` work), so a
batch holds exactly the integers of the same examples in `PreparedData.x_train`.

Epochs: a Grain MapDataset reads indices past its length as later epochs. `shuffle` reseeds every epoch
(seed + epoch), `batch` batches each epoch on its own (so every epoch ends with its own partial batch) and
`repeat()` only makes the stream endless. fit gets `steps_per_epoch = ceil(n / batch)`: with it, Keras' epoch
iterator keeps one iterator across epochs, so epoch k is batches [k * steps, (k + 1) * steps) of the stream.
Without it Keras would call iter() on the same Grain dataset again each epoch, which restarts at epoch 0:
the same order every epoch.

Keras (3.11+) takes the Grain IterDataset through its GrainDatasetAdapter; on the TensorFlow backend that wraps
it in `tf.data.Dataset.from_generator`. The adapter first draws two batches from a fresh iterator to learn the
batch shapes, so worker processes are started (and stopped) once more before training begins.

The two variants differ only in where Grain does the per-example work, with `workers` from the options:
- `grain`: `mp_prefetch` with `workers` spawned processes; worker i computes batches i, i + workers, ... and
  Grain interleaves them back in order, so the batches are the same for any number of workers.
- `grain-threads`: `ReadOptions(num_threads=workers)` in the training process; the threads share its GIL.
Both keep PREFETCH_PER_WORKER ready batches per worker.
"""

from __future__ import annotations

import numpy as np

from inputs import preprocess_cost, text
from inputs.base import FeedStrategy, steps_per_epoch, train_texts

PREFETCH_PER_WORKER = 2  # ready batches each worker (process or thread) keeps ahead of the training loop


class TokenizeReview:
    """(text, label) -> (ids int32 [sequence_length], label int32), after `cost_iterations` of extra work.

    A plain callable at module level, so it pickles by name into Grain's spawned worker processes.
    """

    def __init__(self, vocabulary, sequence_length: int, cost_iterations: int = 0):
        self.index = text.word_index(vocabulary)
        self.sequence_length = sequence_length
        self.cost_iterations = cost_iterations

    def __call__(self, example):
        review, label = example
        preprocess_cost.python_work(self.cost_iterations)
        return text.encode(text.tokenize(review), self.index, self.sequence_length), np.int32(label)


def grain_seed(seed: int) -> int:
    """The 32-bit Grain shuffle seed for a study seed.

    Grain shuffles epoch e with seed + e, so study seeds s and s + 1 given unchanged would share all but one
    epoch order (s's epoch 1 = s + 1's epoch 0). Spreading the seeds keeps different seeds unrelated.
    """
    return int(np.random.SeedSequence(seed).generate_state(1)[0])


def review_batches(texts, labels, vocabulary, sequence_length, batch_size, seed, cost_iterations=0):
    """The endless Grain MapDataset of (ids int32 [b, sequence_length], labels int32 [b]) batches, epoch after
    epoch: every example once per epoch, the last batch of each epoch partial, a new seeded order each epoch."""
    import grain

    records = list(zip(texts, np.asarray(labels, dtype=np.int32)))
    return (
        grain.MapDataset.source(records)
        .shuffle(seed=grain_seed(seed))
        .map(TokenizeReview(vocabulary, sequence_length, cost_iterations))
        .batch(batch_size, drop_remainder=False)
        .repeat()
    )


class GrainProcessesStrategy(FeedStrategy):
    name = "grain"
    description = "Grain MapDataset from raw text: shuffle -> map(tokenize + pad) -> batch, on worker processes"
    needs_texts = True

    def pipeline(self, batches, workers: int):
        """The IterDataset fit iterates: `workers` spawned processes, each reading its share of the batches."""
        import grain

        return batches.to_iter_dataset(grain.ReadOptions(num_threads=0, prefetch_buffer_size=0)).mp_prefetch(
            grain.MultiprocessingOptions(num_workers=workers, per_worker_buffer_size=PREFETCH_PER_WORKER)
        )

    def fit_arguments(self, data, options):
        batches = review_batches(
            train_texts(data), data.y_train, data.vocabulary, data.sequence_length, options.batch_size,
            options.seed, preprocess_cost.python_iterations(options.preprocess_cost_us),
        )
        # shuffle=False: the order is Grain's; fit's default shuffle=True would only make Keras warn it ignores it.
        return {
            "x": self.pipeline(batches, options.workers),
            "steps_per_epoch": steps_per_epoch(data.num_train, options.batch_size),
            "shuffle": False,
        }


class GrainThreadsStrategy(GrainProcessesStrategy):
    name = "grain-threads"
    description = "the same Grain pipeline read by ReadOptions threads in the training process (shared GIL)"

    def pipeline(self, batches, workers: int):
        import grain

        return batches.to_iter_dataset(
            grain.ReadOptions(num_threads=workers, prefetch_buffer_size=PREFETCH_PER_WORKER * workers)
        )
