"""inputs.text's tf.strings rule, which tfdata-online (and every tf.data strategy tokenizing text) applies:
exactly the Python rule's integers, on every character that could separate words. The promises, and the
offline integers on tricky text through the strategy itself, are in test_strategy_contract.py."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import string

import numpy as np

from inputs import corpus, text
from inputs.text import tf_tokenize_batch_fn


def tf_ids(texts, vocabulary, sequence_length=80):
    import tensorflow as tf

    tokenize = tf_tokenize_batch_fn(vocabulary, sequence_length)
    ids, _ = tokenize(tf.constant(list(texts), tf.string), tf.zeros([len(texts)], tf.int64))
    return ids.numpy()


def python_ids(texts, vocabulary, sequence_length=80):
    return text.encode_texts(texts, text.word_index(vocabulary), sequence_length)


def tricky_texts():
    """Every ASCII and Latin/Greek/Cyrillic character between words, plus cases the rule names."""
    characters = [chr(code) for code in range(1, 0x530)]
    texts = [f"Ab{c}cD word{c}x <br{c}/>y" for c in characters]
    texts += [
        "İstanbul ΣΑΣ ΟΔΟΣ. Ǆ ǅ K ẞ Straße",  # multi-character and context-dependent lower-casing
        "<br /><BR><br/><Br   /><br\t\n/>",
        string.punctuation.join(["a", "b"]),
        "em\u2003space nbsp\u00a0space ideographic\u3000space",  # not ASCII: not separators in either path
    ]
    return texts


def test_tf_strings_rule_equals_the_python_rule_on_tricky_text():
    texts = tricky_texts()
    vocabulary = corpus.build_vocabulary([text.tokenize(review) for review in texts], 5000)
    np.testing.assert_array_equal(tf_ids(texts, vocabulary), python_ids(texts, vocabulary))


def test_keeps_the_last_tokens_and_pads_on_the_left():
    vocabulary = ("one", "two", "three")  # ids 2, 3, 4; 1 is out of vocabulary, 0 padding
    texts = ["one two three unknown", "two", "", "three three three three"]
    expected = [[3, 4, 1], [0, 0, 3], [0, 0, 0], [4, 4, 4]]
    np.testing.assert_array_equal(tf_ids(texts, vocabulary, sequence_length=3), expected)
    np.testing.assert_array_equal(python_ids(texts, vocabulary, sequence_length=3), expected)
