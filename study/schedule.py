"""Moved to study.plan; kept only for tests/test_stats.py, whose owner is moving its imports there."""

from study.plan import Trial, plan_blocks  # noqa: F401
