"""The IMDB corpus, prepared: split, vocabulary, tokenized arrays, cached on disk.

No strategy logic lives here. Every feed strategy receives a `PreparedData` and must deliver the same
integers: the offline arrays built here, or the same rule (`inputs.text`) applied per batch.

- split: stratified, seeded, `train_size` / `validation_size`;
- vocabulary from the training split only: 0 = padding, 1 = out-of-vocabulary, then the most frequent
  words (ties broken alphabetically, so the vocabulary is deterministic), so every id < vocab_size;
- the arrays are cached keyed by every setting they depend on (`DataSettings.cache_key`).
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from inputs.text import FIRST_WORD_ID, encode, encode_texts, tokenize, word_index

# Bump when the tokenization rule or the cache layout changes: old caches are then rebuilt, not reused.
CACHE_FORMAT = 2


class DataError(Exception):
    """A data source is missing or unreadable; the message says what to do."""


class DamagedFileError(DataError):
    """A file the study wrote and can write again (a TFRecord shard) is missing or damaged: `path` names it.
    Found inside a trial, the study rebuilds the data once and runs the trial again (study.repair)."""

    def __init__(self, message: str, path):
        super().__init__(message)
        self.path = str(path)


@dataclasses.dataclass(frozen=True)
class DataSettings:
    """Everything the tokenized arrays depend on; it keys the cache."""

    source: str = "embedded"
    seed: int = 0
    train_size: int = 20_000
    validation_size: int = 5_000
    vocab_size: int = 20_000
    sequence_length: int = 80

    def cache_key(self) -> str:
        fields = dataclasses.asdict(self) | {"format": CACHE_FORMAT}
        digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()
        return f"imdb-{self.source}-{digest[:16]}"


@dataclasses.dataclass(frozen=True)
class PreparedData:
    """Tokenized, padded splits plus what per-batch (online) strategies need to redo the work."""

    x_train: np.ndarray  # int32 [n_train, sequence_length]
    y_train: np.ndarray  # int32 [n_train]
    x_val: np.ndarray
    y_val: np.ndarray
    vocabulary: tuple[str, ...]  # vocabulary[i] is the word with id i + FIRST_WORD_ID
    sequence_length: int
    train_texts: tuple[str, ...] | None = None  # raw review text, aligned with x_train; None unless asked for
    settings: DataSettings | None = None  # what `prepare` made it from (None: data made by hand, in tests)

    @property
    def num_train(self) -> int:
        return len(self.y_train)

    def limited(self, limit: int | None) -> "PreparedData":
        """The first `limit` training examples (validation unchanged)."""
        if limit is None or limit >= self.num_train:
            return self
        texts = None if self.train_texts is None else self.train_texts[:limit]
        return dataclasses.replace(
            self, x_train=self.x_train[:limit], y_train=self.y_train[:limit], train_texts=texts
        )

    def replicated(self, copies: int) -> "PreparedData":
        """The training split repeated `copies` times: a corpus `copies` times larger, same content."""
        if copies == 1:
            return self
        texts = None if self.train_texts is None else self.train_texts * copies
        return dataclasses.replace(
            self,
            x_train=np.tile(self.x_train, (copies, 1)),
            y_train=np.tile(self.y_train, copies),
            train_texts=texts,
        )


# --- vocabulary and split ----------------------------------------------------------------------------


def build_vocabulary(token_lists, vocab_size: int) -> tuple[str, ...]:
    """The `vocab_size - 2` most frequent words; equal counts are ordered alphabetically."""
    counts = collections.Counter()
    for tokens in token_lists:
        counts.update(tokens)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(word for word, _ in ranked[: vocab_size - FIRST_WORD_ID])


def load_corpus(source: str) -> tuple[list[str], np.ndarray]:
    """Raw texts and labels of a source (inputs.corpus.sources)."""
    from inputs.corpus import sources

    return sources.load(source)


def stratified_split(labels: np.ndarray, train_size: int, validation_size: int, seed: int):
    """Seeded, stratified train / validation indices; the train indices come shuffled."""
    rng = np.random.default_rng(seed)
    total = train_size + validation_size
    if len(labels) < total:
        raise DataError(f"the corpus has {len(labels)} examples, fewer than {total} needed for the split")
    train, val = [], []
    classes = np.unique(labels)
    for position, label in enumerate(classes):
        members = rng.permutation(np.flatnonzero(labels == label))
        share = np.sum(labels == label) / len(labels)
        if position < len(classes) - 1:
            n_train, n_val = round(train_size * share), round(validation_size * share)
        else:  # the last class takes the rounding remainder so the sizes are exact
            n_train, n_val = train_size - sum(map(len, train)), validation_size - sum(map(len, val))
        train.append(members[:n_train])
        val.append(members[n_train : n_train + n_val])
    return rng.permutation(np.concatenate(train)), np.sort(np.concatenate(val))


# --- cache -------------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    return Path(os.environ.get("STUDY_CACHE_DIR", Path.home() / ".cache" / "input-pipeline-study"))


def _build(settings: DataSettings, texts, labels):
    train_index, val_index = stratified_split(
        labels, settings.train_size, settings.validation_size, settings.seed
    )
    train_tokens = [tokenize(texts[i]) for i in train_index]
    vocabulary = build_vocabulary(train_tokens, settings.vocab_size)
    index = word_index(vocabulary)
    x_train = np.stack([encode(tokens, index, settings.sequence_length) for tokens in train_tokens])
    x_val = encode_texts([texts[i] for i in val_index], index, settings.sequence_length)
    return {
        "x_train": x_train,
        "y_train": labels[train_index],
        "x_val": x_val,
        "y_val": labels[val_index],
        "train_index": train_index,
        "val_index": val_index,
        "vocabulary": np.array(vocabulary, dtype=str),
    }


# Every array a cache holds; a cache missing any (an older layout, a damaged file) is rebuilt.
CACHED_ARRAYS = ("x_train", "y_train", "x_val", "y_val", "train_index", "val_index", "vocabulary")


def _load_cache(path: Path, settings: DataSettings):
    """The cached arrays, or None when the file is missing, unreadable, damaged, of an older layout or not for
    these settings: the caller then rebuilds it."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as cached:
            if not set(CACHED_ARRAYS) <= set(cached.files):
                return None
            arrays = {name: cached[name] for name in CACHED_ARRAYS}  # reads (and CRC-checks) every member
        train, val = settings.train_size, settings.validation_size
        ok = (
            arrays["x_train"].shape == (train, settings.sequence_length)
            and arrays["x_val"].shape == (val, settings.sequence_length)
            and arrays["y_train"].shape == (train,) and arrays["y_val"].shape == (val,)
            and arrays["train_index"].shape == (train,) and arrays["val_index"].shape == (val,)
            and arrays["vocabulary"].ndim == 1 and len(arrays["vocabulary"]) <= settings.vocab_size - FIRST_WORD_ID
            and all(np.issubdtype(arrays[name].dtype, np.integer) for name in CACHED_ARRAYS if name != "vocabulary")
        )
        return arrays if ok else None
    except Exception:  # noqa: BLE001 - any damage (zlib.error, BadZipFile, EOFError, ...) means: rebuild
        return None


def _save_cache(path: Path, arrays: dict) -> None:
    """Written to a temporary name and renamed: a crash mid-write never leaves a truncated cache behind, and a
    failed write (a full disk) removes its temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp.npz")
    try:
        np.savez(temporary, **arrays)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def prepare(settings: DataSettings, cache_dir: Path | None = None, with_texts: bool = False) -> PreparedData:
    """Tokenized splits, from the cache when it is valid, else built and cached (atomically)."""
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    path = cache_dir / f"{settings.cache_key()}.npz"
    arrays = _load_cache(path, settings)
    texts = None
    if arrays is None:
        texts, labels = load_corpus(settings.source)
        arrays = _build(settings, texts, labels)
        _save_cache(path, arrays)
    train_texts = None
    if with_texts:
        if texts is None:
            texts, _ = load_corpus(settings.source)
        train_texts = tuple(texts[i] for i in arrays["train_index"])
    return PreparedData(
        x_train=arrays["x_train"].astype(np.int32),
        y_train=arrays["y_train"].astype(np.int32),
        x_val=arrays["x_val"].astype(np.int32),
        y_val=arrays["y_val"].astype(np.int32),
        vocabulary=tuple(str(word) for word in arrays["vocabulary"]),
        sequence_length=settings.sequence_length,
        train_texts=train_texts,
        settings=settings,
    )
