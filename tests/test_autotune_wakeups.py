"""The probe's watch of an iterator's threads (study/autotune_wakeups.py), on plain Python threads that wake when
the test says: it finds the threads started between two looks, sees a thread wake, says when the first wake-up after
an age came, and says nothing - at once - for threads that never wake."""

import sys
import threading
import time

import pytest

from study import autotune_wakeups

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/task")


def _sleeper(*naps: float):
    """A thread that sleeps `naps` one after another (each end a wake-up), then waits, asleep, until released."""
    release = threading.Event()

    def run():
        for nap in naps:
            time.sleep(nap)
        release.wait()

    before = autotune_wakeups.threads()
    born = time.perf_counter()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started = autotune_wakeups.started_between(before, autotune_wakeups.threads())
    return thread, release, started, born


def test_the_threads_started_between_two_looks_are_found():
    thread, release, started, _ = _sleeper()
    try:
        assert started == {thread.native_id}
    finally:
        release.set()


def test_the_first_wake_up_after_an_age_is_the_one_that_came_after_it():
    thread, release, started, born = _sleeper(1.2, 1.4)  # wakes about 1.2 s and 2.6 s after it starts
    watch = autotune_wakeups.WakeupWatch(started, born)
    try:
        autotune_wakeups.sleep_until(born + 2.0)
        after = autotune_wakeups.next_wakeup_after(watch, 2.0, deadline=born + 10.0)
    finally:
        watch.close()
        release.set()
    assert watch.rises >= 2
    assert after is not None and 2.6 <= after < 2.6 + 1.5  # seen by the first poll after it (one is due every 0.1 s)
    assert any(1.2 <= wakeup < 2.0 for wakeup in watch.wakeups)


def test_the_slow_polls_place_the_wake_up_before_an_age_to_within_their_interval():
    thread, release, started, born = _sleeper(2.5, 4.0)  # wakes about 2.5 s and 6.5 s after it starts
    watch = autotune_wakeups.WakeupWatch(started, born)
    try:
        autotune_wakeups.sleep_until(born + 5.5)  # polls once a second until the last second before 5.5 s
        before = autotune_wakeups.last_wakeup_before(watch, 5.5)
        after = autotune_wakeups.next_wakeup_after(watch, 5.5, deadline=born + 20.0)
    finally:
        watch.close()
        release.set()
    assert before is not None and 2.5 <= before < 2.5 + 1.5  # seen by the first slow poll after it
    assert after is not None and 6.5 <= after < 6.5 + 1.5
    assert autotune_wakeups.last_wakeup_before(watch, 2.0) is None  # nothing woke before 2 s


def test_threads_that_never_wake_give_no_wake_up_and_no_wait():
    thread, release, started, born = _sleeper()
    watch = autotune_wakeups.WakeupWatch(started, born)
    try:
        autotune_wakeups.sleep_until(born + 1.5)
        asked = time.perf_counter()
        after = autotune_wakeups.next_wakeup_after(watch, 1.5, deadline=born + 60.0)
        waited = time.perf_counter() - asked
    finally:
        watch.close()
        release.set()
    assert after is None and watch.rises == 0
    assert waited < 30.0  # not held to the deadline: there is nothing to wait for


def test_a_watch_of_ended_threads_stops_watching():
    thread, release, started, born = _sleeper()
    watch = autotune_wakeups.WakeupWatch(started, born)
    release.set()
    thread.join()
    autotune_wakeups.poll_all()
    assert watch not in autotune_wakeups._WATCHING
    assert autotune_wakeups.next_wakeup_after(watch, 0.0, deadline=time.perf_counter() + 60.0) is None
