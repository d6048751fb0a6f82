"""processes: the supervisor ends every descendant of its command when its parent dies, however it dies, and
reports the command's own exit and usage; the tree is read at any depth; children stop with a grace period.

Plain Python commands (no TensorFlow), so each test takes a second or so. No test asserts a duration: "gone
within conftest.GONE_WITHIN" is a generous deadline for the thing to have happened at all.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from processes import children, parent_death, supervisor, tree
from tests.conftest import PROJECT_ROOT, all_gone, alive


# A command with descendants of every kind: a child, a grandchild, and a daemon in a session of its own whose
# parent has exited (so init would inherit it without a subreaper). It prints their pids, then waits.
FAMILY = textwrap.dedent("""
    import json, subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import subprocess, sys, time\\n"
                              "grandchild = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\\n"
                              "print(grandchild.pid, flush=True)\\ntime.sleep(600)"], stdout=subprocess.PIPE, text=True)
    grandchild = int(child.stdout.readline())
    middle = subprocess.Popen([sys.executable, "-c", "import subprocess, sys\\n"
                               "daemon = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'], start_new_session=True)\\n"
                               "print(daemon.pid, flush=True)"], stdout=subprocess.PIPE, text=True)
    daemon = int(middle.stdout.readline())
    middle.wait()
    print(json.dumps({"child": child.pid, "grandchild": grandchild, "daemon": daemon}), flush=True)
    time.sleep(600)
""")


def supervised(code, parent_pid=None, **options):
    environment = children.child_environment()
    environment[parent_death.PARENT_PID_VARIABLE] = str(parent_pid or os.getpid())
    return supervisor.start([sys.executable, "-c", code], subprocess.PIPE, subprocess.PIPE, environment=environment,
                            cwd=PROJECT_ROOT, text=True, **options)


def test_the_tree_holds_every_descendant_also_one_in_a_session_of_its_own(cleanup):
    family = subprocess.Popen([sys.executable, "-c", FAMILY], stdout=subprocess.PIPE, text=True)
    cleanup.append(family.pid)
    pids = json.loads(family.stdout.readline())
    cleanup.extend(pids.values())  # only what this test started: this process has others (the session's servers)
    found = tree.descendants(os.getpid())
    assert family.pid in found and pids["child"] in found and pids["grandchild"] in found
    assert tree.descendants(pids["child"]) == [pids["grandchild"]]
    assert pids["daemon"] not in found  # orphaned to init (or our own subreaper): no longer below us


# A process whose main thread has ended while another thread runs on: /proc shows it as a zombie, yet its child
# keeps it as parent until its last thread ends - what a SIGKILLed trial looks like mid-exit, with its workers below.
ZOMBIE_LEADER = textwrap.dedent("""
    import ctypes, subprocess, sys, threading, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
    print(child.pid, flush=True)
    threading.Thread(target=time.sleep, args=(600,)).start()
    ctypes.CDLL(None).pthread_exit(None)
""")


def test_the_tree_holds_the_children_of_a_process_whose_main_thread_has_ended(cleanup):
    leader = subprocess.Popen([sys.executable, "-c", ZOMBIE_LEADER], stdout=subprocess.PIPE, text=True)
    cleanup.append(leader.pid)
    child = int(leader.stdout.readline())
    cleanup.append(child)
    deadline = time.monotonic() + 30
    while psutil.Process(leader.pid).status() != psutil.STATUS_ZOMBIE:  # its main thread is ending
        assert time.monotonic() < deadline, "the main thread never ended"
        time.sleep(0.05)
    found = tree.descendants(os.getpid())
    assert child in found and leader.pid not in found


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_the_parents_death_ends_every_descendant_of_the_command(how, cleanup):
    # The parent: a process that starts the supervised family and waits; the test kills it.
    parent_code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(PROJECT_ROOT)!r})
        from tests.test_processes import FAMILY, supervised
        process = supervised(FAMILY)
        print(process.pid, process.stdout.readline().strip(), flush=True)
        import time
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", parent_code], stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT,
                              env=children.child_environment())
    cleanup.append(parent.pid)
    supervisor_pid, family = parent.stdout.readline().split(" ", 1)
    everyone = [int(supervisor_pid), *tree.descendants(int(supervisor_pid))]
    cleanup.extend(everyone)
    assert json.loads(family)["daemon"] in everyone  # adopted by the supervisor, a subreaper
    assert len(everyone) == 5  # the supervisor, the command, its child and grandchild, the daemon
    parent.send_signal(getattr(signal, how))
    parent.wait()
    assert all_gone(everyone), f"{[pid for pid in everyone if alive(pid)]} outlived the parent"


def test_the_command_exit_status_and_its_own_usage_are_reported():
    burn = textwrap.dedent("""
        import json, resource, sys, time
        ballast = bytearray(200 * 1024 * 1024)  # 200 MB, touched: the peak memory is the command's
        for i in range(0, len(ballast), 4096):
            ballast[i] = 1
        start = time.process_time()
        while time.process_time() - start < 0.3:
            pass
        own = resource.getrusage(resource.RUSAGE_SELF)
        print(json.dumps({"cpu": own.ru_utime + own.ru_stime, "peak_kb": own.ru_maxrss}), flush=True)
        sys.exit(3)
    """)
    process = supervised(burn)
    measured = json.loads(process.stdout.readline())
    ended = children.reap(process, None)
    assert ended.exit_code == 3 and process.returncode == 3
    assert ended.usage.ru_utime + ended.usage.ru_stime >= measured["cpu"]  # all of the command's CPU time
    assert ended.usage.ru_maxrss >= measured["peak_kb"] > 200 * 1024  # and its peak memory, not the supervisor's


def test_a_command_killed_by_a_signal_is_reported_killed_by_it():
    process = supervised("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    assert children.reap(process, None).exit_code == -signal.SIGKILL
    assert process.returncode == -signal.SIGKILL


def test_what_the_command_leaves_running_ends_with_it(cleanup):
    process = supervised(FAMILY.replace("time.sleep(600)\n", "") + "\n")  # the command itself exits at once
    pids = json.loads(process.stdout.readline())
    cleanup.extend(pids.values())
    assert children.reap(process, None).exit_code == 0
    assert all_gone(list(pids.values()))


def test_stop_gives_sigterm_then_the_grace_period_then_sigkill(cleanup):
    polite = supervised("import time\nprint('ready', flush=True)\ntime.sleep(600)")
    stubborn = supervised("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                          "print('ready', flush=True)\ntime.sleep(600)", grace_seconds=1.0)
    cleanup.extend([polite.pid, stubborn.pid])
    assert polite.stdout.readline() == stubborn.stdout.readline() == "ready\n"
    ended_polite, ended_stubborn = children.stop([polite, stubborn])
    assert ended_polite.exit_code == -signal.SIGTERM
    assert ended_stubborn.exit_code == -signal.SIGKILL  # by the supervisor, after its grace period


def test_a_command_that_cannot_start_is_one_line():
    environment = dict(children.child_environment(), **{parent_death.PARENT_PID_VARIABLE: str(os.getpid())})
    process = supervisor.start(["no-such-command-here"], subprocess.DEVNULL, subprocess.PIPE, environment=environment,
                               cwd=PROJECT_ROOT, text=True)
    errors = process.stderr.read()
    assert children.reap(process, None).exit_code == 127
    assert errors.strip() == "cannot start no-such-command-here: No such file or directory"


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
