"""inputs.service: the server command, local_cluster's start and cleanup, check_dispatcher's one-line errors.

Servers are real processes on 127.0.0.1. No test asserts a duration: "within the timeout" is shown by the
error naming the timeout, not by a clock.
"""

import selectors
import signal
import socket
import subprocess
import sys

import psutil
import pytest

from inputs.service import ServiceError, check_dispatcher, cluster, local_cluster
from inputs.service import server as server_command


def listening(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def own_children():
    return {child.pid for child in psutil.Process().children(recursive=True)}


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1:5050", "grpc://127.0.0.1", "grpc://127.0.0.1:0", "grpc://127.0.0.1:70000", "http://127.0.0.1:5050",
     "grpc://127.0.0.1:5050/path", ""],
)
def test_a_malformed_address_is_refused_with_the_expected_form(address):
    with pytest.raises(ServiceError, match=r"invalid tf.data service address .*: expected grpc://HOST:PORT$"):
        check_dispatcher(address)


def test_a_closed_port_is_refused_at_once_with_the_reason(closed_port):
    address = f"grpc://127.0.0.1:{closed_port}"
    with pytest.raises(ServiceError) as raised:
        check_dispatcher(address, timeout_seconds=5)
    assert str(raised.value) == f"cannot reach tf.data service dispatcher at {address}: Connection refused"


def test_a_server_that_never_answers_is_refused_when_the_timeout_ends():
    with socket.socket() as silent:  # accepts TCP connections (the backlog) but never speaks gRPC
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"grpc://127.0.0.1:{silent.getsockname()[1]}"
        with pytest.raises(ServiceError) as raised:
            check_dispatcher(address, timeout_seconds=1)
    assert str(raised.value) == f"cannot reach tf.data service dispatcher at {address}: no answer within 1 s"


def test_local_cluster_serves_and_stops_every_server_when_the_body_raises():
    before = own_children()
    with pytest.raises(KeyboardInterrupt):
        with local_cluster(1) as address:
            assert address.startswith("grpc://127.0.0.1:")
            (worker_address,) = check_dispatcher(address)  # the dispatcher lists its one worker
            servers = own_children() - before
            assert len(servers) == 2
            ports = [port_of(address), port_of(worker_address)]
            assert all(listening(port) for port in ports)
            with pytest.raises(ServiceError, match="the server there is not a tf.data service dispatcher"):
                check_dispatcher(f"grpc://{worker_address}")
            with pytest.raises(ServiceError, match="has 1 worker"):
                check_dispatcher(address, min_workers=2)
            raise KeyboardInterrupt  # what Ctrl-C raises in the parent
    assert not any(psutil.pid_exists(pid) for pid in servers)
    assert not any(listening(port) for port in ports)


def test_a_worker_that_dies_during_start_stops_the_cluster_with_one_line(monkeypatch):
    real_command = cluster._server_command

    def broken_worker(*arguments):
        if arguments[0] == "worker":
            return [sys.executable, "-c", "import sys; sys.exit('no worker today')"]
        return real_command(*arguments)

    monkeypatch.setattr(cluster, "_server_command", broken_worker)
    before = own_children()
    with pytest.raises(ServiceError) as raised:
        with local_cluster(2):
            pytest.fail("the block must not run")
    assert raised.match(r"^tf.data service worker [12] exited with status 1 during start: no worker today$")
    assert own_children() - before == set()  # the dispatcher that had started is gone too


def test_a_cluster_not_ready_in_time_is_stopped():
    before = own_children()
    with pytest.raises(ServiceError, match=r"^tf.data service dispatcher not ready within 0.2 s$"):
        with local_cluster(1, startup_timeout=0.2):
            pytest.fail("the block must not run")
    assert own_children() - before == set()


def test_a_cluster_needs_a_worker():
    with pytest.raises(ValueError, match="at least one worker"):
        with local_cluster(0):
            pass


def test_the_command_prints_its_address_and_stops_cleanly_on_sigterm():
    server = subprocess.Popen(
        [sys.executable, "-m", "inputs.service", "dispatcher", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(server.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=120), "no ready line"
        ready = server.stdout.readline()
        assert ready.startswith("tf.data service dispatcher ready at grpc://127.0.0.1:")
        address = ready.split(" ready at ")[1].split()[0]
        assert check_dispatcher(address, min_workers=0) == ()
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=60) == 0
        assert server.stdout.read() == "tf.data service dispatcher stopped\n"
        assert not listening(port_of(address))
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stdout.close()


def test_the_command_explains_itself_and_rejects_a_bad_dispatcher_address(capsys):
    with pytest.raises(SystemExit) as stopped:
        server_command.main(["worker", "--dispatcher", "somewhere"])
    assert stopped.value.code == 2
    assert "argument --dispatcher: expected HOST:PORT, got 'somewhere'" in capsys.readouterr().err
    help_text = server_command.build_parser().format_help()
    assert "dispatcher" in help_text and "worker" in help_text and "Ctrl-C or SIGTERM" in help_text
