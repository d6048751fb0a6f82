"""tfrecord: the split written once as TFRecord shards by a TFDS builder - what is special about it (the
promises are in test_strategy_contract.py). The records are conftest's `small_split`, built while every
network connection was refused."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest

from inputs import corpus
from inputs.corpus.records import StudyImdb, StudyImdbConfig, prepared_builder, records_dir
from inputs.options import FeedOptions
from inputs.tfrecord import TfRecordStrategy
from tests.conftest import SMALL_SPLIT
from tests.strategy_checks import draw, example_ids

STRATEGY = TfRecordStrategy()


@pytest.fixture(scope="module")
def records(small_split):
    """(data, options) for the records of the small split."""
    data, cache_dir = small_split
    return data, FeedOptions(batch_size=16, seed=5, cache_dir=str(cache_dir))


def builder_of(options):
    return prepared_builder(SMALL_SPLIT, records_dir(options.cache_dir))


def test_the_records_are_the_split_of_prepare_in_its_order(records):
    import tensorflow_datasets as tfds

    data, options = records
    builder = builder_of(options)
    assert builder.info.splits["train"].num_examples == 200 and builder.info.splits["validation"].num_examples == 50
    assert len(builder.info.splits["train"].filenames) > 1  # shards to shuffle and interleave
    stored = tfds.as_numpy(builder.as_dataset(split="train", batch_size=-1))
    assert [text.decode() for text in stored["text"]] == list(data.train_texts)
    np.testing.assert_array_equal(stored["label"], data.y_train)


def test_the_builder_takes_the_study_default_split(tmp_path):
    builder = StudyImdb(config=StudyImdbConfig(corpus.DataSettings()), data_dir=str(tmp_path))
    assert not builder.is_prepared() and "train20000-val5000" in str(builder.data_dir)


def test_limit_reads_the_first_examples_and_scale_reads_them_scale_times(records):
    data, options = records
    scaled = data.limited(50).replicated(3)
    (epoch,) = draw(STRATEGY, scaled, dataclasses.replace(options, limit=50, scale=3), epochs=1)
    ids = example_ids(data, epoch)
    assert sorted(ids) == sorted(list(range(50)) * 3)


def test_later_runs_reuse_the_records(records, monkeypatch):
    data, options = records
    shards = sorted(Path(builder_of(options).data_dir).glob("*.tfrecord*"))
    written = [shard.stat().st_mtime_ns for shard in shards]

    def rebuild(*args):
        raise AssertionError("the records were built again")

    monkeypatch.setattr(StudyImdb, "_split_generators", rebuild)
    STRATEGY.fit_arguments(data, options)
    assert [shard.stat().st_mtime_ns for shard in shards] == written


@pytest.mark.parametrize("damage", ["flipped byte", "truncated"])
def test_a_damaged_shard_is_named(records, tmp_path, damage):
    data, options = records
    shutil.copytree(records_dir(options.cache_dir), tmp_path / "tfds")
    options = dataclasses.replace(options, cache_dir=str(tmp_path))
    shard = sorted(Path(builder_of(options).data_dir).glob("*train.tfrecord*"))[3]
    content = shard.read_bytes()
    if damage == "flipped byte":
        shard.write_bytes(content[:100] + bytes([content[100] ^ 0xFF]) + content[101:])
    else:
        shard.write_bytes(content[:-10])
    with pytest.raises(corpus.DataError, match=f"{shard}.*damaged.*delete"):
        STRATEGY.fit_arguments(data, options)


def test_a_missing_shard_is_named(records, tmp_path):
    data, options = records
    shutil.copytree(records_dir(options.cache_dir), tmp_path / "tfds")
    options = dataclasses.replace(options, cache_dir=str(tmp_path))
    shard = sorted(Path(builder_of(options).data_dir).glob("*train.tfrecord*"))[0]
    shard.unlink()
    with pytest.raises(corpus.DataError, match=f"{shard} is missing"):
        STRATEGY.fit_arguments(data, options)


def test_data_prepared_with_other_settings_is_refused(records):
    data, options = records
    with pytest.raises(corpus.DataError, match="hold 200 training examples x scale 1, but the trial's data has 100"):
        STRATEGY.fit_arguments(data.limited(100), options)


def test_data_made_by_hand_is_refused_with_one_line(online_data):
    with pytest.raises(corpus.DataError, match="prepare the data with inputs.corpus.prepare"):
        STRATEGY.fit_arguments(online_data, FeedOptions())


def test_the_boundary_probe_reads_the_whole_split_whatever_the_trial_s_limit(records):
    # The trial trained on the first 50 examples; the probe of its epoch boundary at full age draws the whole
    # split, as the user's fit would (study/boundary_probe.py).
    from study.boundary_probe import EPOCH_BOUNDARY, UsedIterator

    data, options = records
    probe = UsedIterator(STRATEGY, data, dataclasses.replace(options, limit=50))
    assert probe.steps == 13  # ceil(200 / 16)
    assert probe.destroyed_at == EPOCH_BOUNDARY
    figures = probe.hold_and_destroy(0.0)
    assert figures["destroy_seconds"] >= 0
