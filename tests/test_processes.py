"""processes: children stop with a grace period; a child ends when its parent is gone.

Plain Python commands (no TensorFlow). No test asserts a duration.
"""

import signal
import subprocess
import sys
import time

from processes import children
from tests.conftest import PROJECT_ROOT


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path):
    ready = tmp_path / "ready"
    child = children.start(
        [sys.executable, "-c", f"import signal, time, pathlib\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
         f"pathlib.Path({str(ready)!r}).touch()\ntime.sleep(600)\n"], subprocess.DEVNULL, subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert time.monotonic() < deadline, "the child did not start"
        time.sleep(0.05)
    (ended,) = children.stop([child], grace_seconds=1.0)
    assert ended.exit_code == -signal.SIGKILL


def test_a_child_started_after_its_parent_died_ends_at_once():
    # The parent-death signal is set in the child, after it started: a parent already gone must be noticed.
    code = subprocess.run(
        [sys.executable, "-c", "from processes import parent_death\nparent_death.exit_with_parent(1)\n"
         "import time\ntime.sleep(60)"],
        cwd=PROJECT_ROOT, env=children.child_environment(), timeout=30,
    ).returncode
    assert code == -signal.SIGKILL
