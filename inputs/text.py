"""The tokenizing rule, in Python and in tf.strings: raw review text -> int32 ids, padded.

The rule (DESIGN.md, "Data"): lower-case; HTML line breaks and ASCII punctuation removed; split on runs of
ASCII whitespace; vocabulary[i] has id i + FIRST_WORD_ID, other words OOV_ID; keep the last `sequence_length`
tokens, padded with PAD_ID on the left (Keras `pad_sequences` defaults).

The corpus builds the offline arrays with the Python spelling; the online strategies redo it per batch, in
Python (`encode_batch`) or in tf.data (`tf_tokenize_batch_fn`), and must deliver exactly the same integers.
`tf.strings.lower(encoding="utf-8")` applies the same full Unicode case mapping as `str.lower`, the line-break
and punctuation patterns are shared, and `tf.strings.split` splits on the same ASCII whitespace. The one known
difference: Python 3.11 also lower-cases the ~40 capital letters added in Unicode 14 (such as U+2C2F), which
TensorFlow's ICU does not know yet; none occurs in the corpus.
"""

from __future__ import annotations

import re
import string

import numpy as np

from inputs import preprocess_cost

PAD_ID = 0
OOV_ID = 1
FIRST_WORD_ID = 2

# One spelling for Python's `re` and for tf.strings (RE2), so offline and online paths match exactly. Spaces
# are spelled out because `\s` differs between the two: Python's matches Unicode spaces, RE2's not even \v.
LINE_BREAK_PATTERN = r"<br[ \t\n\r\f\v]*/?>"
PUNCTUATION_PATTERN = "[" + re.escape(string.punctuation) + "]"

_LINE_BREAK = re.compile(LINE_BREAK_PATTERN)
_PUNCTUATION = re.compile(PUNCTUATION_PATTERN)
_WHITESPACE = re.compile(r"[ \t\n\r\f\v]+")  # the ASCII spaces tf.strings.split splits on


def standardize(text: str) -> str:
    """Lower-case, replace HTML line breaks by spaces, delete ASCII punctuation."""
    text = _LINE_BREAK.sub(" ", text.lower())
    return _PUNCTUATION.sub("", text)


def tokenize(text: str) -> list[str]:
    return [token for token in _WHITESPACE.split(standardize(text)) if token]


def word_index(vocabulary) -> dict[str, int]:
    return {word: index + FIRST_WORD_ID for index, word in enumerate(vocabulary)}


def encode(tokens: list[str], index: dict[str, int], sequence_length: int) -> np.ndarray:
    """Ids of the last `sequence_length` tokens, left-padded with PAD_ID."""
    ids = [index.get(token, OOV_ID) for token in tokens[-sequence_length:]]
    row = np.full(sequence_length, PAD_ID, dtype=np.int32)
    if ids:
        row[sequence_length - len(ids) :] = ids
    return row


def encode_texts(texts, index: dict[str, int], sequence_length: int) -> np.ndarray:
    rows = [encode(tokenize(text), index, sequence_length) for text in texts]
    return np.stack(rows) if rows else np.zeros((0, sequence_length), np.int32)


def encode_batch(texts, index, sequence_length, cost_iterations=0):
    """int32 [len(texts), sequence_length] ids of a batch of raw texts, after `cost_iterations` per example."""
    preprocess_cost.python_work(cost_iterations * len(texts))
    return encode_texts(texts, index, sequence_length)


def tf_tokenize_batch_fn(vocabulary, sequence_length: int, cost_iterations: int = 0):
    """A function (texts [b] string, labels [b]) -> (ids int32 [b, sequence_length], labels int32 [b]).

    The rule of `encode`, in tf.strings. `cost_iterations` adds `preprocess_cost.tf_work` per batch, tied to
    the ids by a control dependency so it always runs.
    """
    import tensorflow as tf

    table = tf.lookup.StaticHashTable(
        tf.lookup.KeyValueTensorInitializer(
            keys=tf.constant(list(vocabulary), dtype=tf.string),
            values=tf.range(FIRST_WORD_ID, FIRST_WORD_ID + len(vocabulary), dtype=tf.int64),
        ),
        default_value=OOV_ID,
    )

    def tokenize_batch(texts, labels):
        text = tf.strings.lower(texts, encoding="utf-8")
        text = tf.strings.regex_replace(text, LINE_BREAK_PATTERN, " ")
        text = tf.strings.regex_replace(text, PUNCTUATION_PATTERN, "")
        ids = table.lookup(tf.strings.split(text))[:, -sequence_length:]  # ragged [b, <= sequence_length]
        # to_tensor pads on the right; reversing each row before and after pads on the left instead.
        ids = tf.reverse(tf.reverse(ids, axis=[1]).to_tensor(PAD_ID, shape=[None, sequence_length]), [1])
        ids = tf.cast(ids, tf.int32)
        if cost_iterations:
            with tf.control_dependencies([preprocess_cost.tf_work(tf.shape(texts)[0], cost_iterations)]):
                ids = tf.identity(ids)
        return ids, tf.cast(labels, tf.int32)

    return tokenize_batch
