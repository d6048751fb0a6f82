"""`generator`: the reference study's `fit_generator`, which Keras 3 folds into `fit`.

A Python generator that draws a new permutation every epoch and yields ceil(n / batch) slices, the last one
partial, forever; `steps_per_epoch` tells fit where an epoch ends.
"""

from inputs.base import FeedStrategy, epoch_permutation, steps_per_epoch


def shuffled_batches(x, y, batch_size, seed):
    epoch = 0
    while True:
        order = epoch_permutation(len(y), seed, epoch)
        for start in range(0, len(order), batch_size):
            chosen = order[start : start + batch_size]
            yield x[chosen], y[chosen]
        epoch += 1


class GeneratorStrategy(FeedStrategy):
    name = "generator"
    description = "a Python generator yielding a new permutation's batches each epoch (the reference's fit_generator)"

    def fit_arguments(self, data, options):
        return {
            "x": shuffled_batches(data.x_train, data.y_train, options.batch_size, options.seed),
            "steps_per_epoch": steps_per_epoch(data.num_train, options.batch_size),
        }
