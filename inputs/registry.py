"""Strategy names -> strategies. Adding a strategy is one module and one line here; the contract test
(tests/test_strategy_contract.py) then checks its promises.

Strategies of your own can also be added without editing this file: set INPUT_STUDY_PLUGINS to a comma list of
`module:Class` (the module importable, the class a FeedStrategy with a unique name). They are loaded when the
registry is first asked for its strategies (`strategies()`, `get`), not when this module is imported.
"""

import functools
import importlib
import os
from types import MappingProxyType

from inputs.arrays import ArraysStrategy
from inputs.compute_bound import ComputeBound
from inputs.generator import GeneratorStrategy
from inputs.generator_online import GeneratorOnlineStrategy
from inputs.grain_text import GrainProcessesStrategy, GrainThreadsStrategy
from inputs.pydataset import PyDatasetStrategy
from inputs.pydataset_restored_malloc import PyDatasetRestoredMallocStrategy
from inputs.tfdata import TfDataStrategy
from inputs.tfdata_autotune_off import TfDataAutotuneOffStrategy
from inputs.tfdata_gather import TfDataGatherStrategy
from inputs.tfdata_online import TfDataOnlineStrategy
from inputs.tfdata_repeat import TfDataRepeatStrategy
from inputs.tfdata_service import TfDataServiceStrategy
from inputs.tfrecord import TfRecordStrategy

BUILT_IN = {
    strategy.name: strategy
    for strategy in (
        ArraysStrategy(),
        GeneratorStrategy(),
        TfDataStrategy(),
        TfDataRepeatStrategy(),
        TfDataAutotuneOffStrategy(),
        TfDataGatherStrategy(),
        GeneratorOnlineStrategy(),
        TfDataOnlineStrategy(),
        PyDatasetStrategy(),
        PyDatasetRestoredMallocStrategy(),
        TfRecordStrategy(),
        TfDataServiceStrategy(),
        GrainProcessesStrategy(),
        GrainThreadsStrategy(),
    )
}

# Measured in every block, never chosen: the limit the strategies are compared with.
COMPUTE_BOUND = ComputeBound()


class PluginError(Exception):
    """INPUT_STUDY_PLUGINS names something that is not a loadable strategy."""


def _load_plugins() -> dict:
    """INPUT_STUDY_PLUGINS' strategies by name; anything wrong with one is a PluginError naming the variable."""
    from inputs.base import FeedStrategy

    built_in = set(BUILT_IN) | {COMPUTE_BOUND.name}
    plugins = {}
    for spec in filter(None, (item.strip() for item in os.environ.get("INPUT_STUDY_PLUGINS", "").split(","))):
        module_name, _, class_name = spec.partition(":")
        if not module_name or not class_name:
            raise PluginError(f"INPUT_STUDY_PLUGINS: {spec!r} must look like module:Class")
        try:
            strategy = getattr(importlib.import_module(module_name), class_name)()
        except Exception as error:  # noqa: BLE001 - whatever the plugin's import raises, name the variable
            raise PluginError(f"INPUT_STUDY_PLUGINS: cannot load {spec!r} ({type(error).__name__}: {error})") from None
        if not isinstance(strategy, FeedStrategy):
            raise PluginError(f"INPUT_STUDY_PLUGINS: {spec!r} is not a FeedStrategy (inputs.base)")
        name = getattr(strategy, "name", None)
        if not isinstance(name, str) or not name or "," in name or name != name.strip():
            raise PluginError(f"INPUT_STUDY_PLUGINS: {spec!r} has no usable name ({name!r})")
        if name in built_in:
            raise PluginError(f"INPUT_STUDY_PLUGINS: {spec!r} is named {name!r}, like a built-in strategy; rename it")
        if name in plugins:
            raise PluginError(f"INPUT_STUDY_PLUGINS: {spec!r} is named {name!r}, like another plugin; rename one")
        plugins[name] = strategy
    return plugins


@functools.cache  # an exception is not cached: a PluginError comes again on every call
def strategies():
    """Every strategy a study may choose, by name: the built-ins in their order, then INPUT_STUDY_PLUGINS' (loaded
    on the first call)."""
    return MappingProxyType({**BUILT_IN, **_load_plugins()})


def get(name: str):
    """The strategy (or the compute-bound limit) of that name; KeyError for a name no strategy has."""
    return COMPUTE_BOUND if name == COMPUTE_BOUND.name else strategies()[name]
