"""inputs.service: the server command, local_cluster's start and cleanup, check_dispatcher's one-line errors.

Servers are real processes on 127.0.0.1. No test asserts a duration: "within the timeout" is shown by the
error naming the timeout, not by a clock.
"""

import ipaddress
import selectors
import signal
import socket
import subprocess
import sys

import psutil
import pytest

from inputs.service import ServiceError, check_dispatcher, cluster, local_cluster
from inputs.service import server as server_command
from processes import children


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


# --- hand-started servers listen on loopback unless --bind says otherwise ------------------------------------


@pytest.fixture
def servers():
    """Starts `python -m inputs.service ...` processes; stops them all after the test."""
    started = []

    def start(*arguments, env_extra=None):
        process = subprocess.Popen(
            [sys.executable, "-m", "inputs.service", *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, start_new_session=True, env=dict(children.child_environment(), **(env_extra or {})),
        )
        started.append(process)
        return process

    yield start
    children.stop(started)
    for process in started:
        process.stdout.close()
        process.stderr.close()


def first_line(server):
    """The server's ready line, or its one line of failure."""
    with selectors.DefaultSelector() as selector:
        selector.register(server.stdout, selectors.EVENT_READ)
        assert selector.select(timeout=180), "no ready line"
    return server.stdout.readline().strip() or server.stderr.read().strip()


def listening_ips(pid):
    return [connection.laddr.ip for connection in psutil.Process(pid).net_connections(kind="inet")
            if connection.status == psutil.CONN_LISTEN]


def only_loopback(ip):
    address = ipaddress.ip_address(ip)
    address = getattr(address, "ipv4_mapped", None) or address  # ::ffff:127.0.0.1, gRPC's dual-stack form
    return address.is_loopback


def test_hand_started_servers_listen_on_loopback_only_by_default(servers):
    dispatcher = servers("dispatcher", "--port", "0")
    ready = first_line(dispatcher)
    assert ready.startswith("tf.data service dispatcher ready at grpc://127.0.0.1:") and "WARNING" not in ready
    worker = servers("worker", "--dispatcher", ready.split(" ready at grpc://")[1].split()[0])
    ready = first_line(worker)
    assert ready.startswith("tf.data service worker ready at 127.0.0.1:") and "WARNING" not in ready
    for server in (dispatcher, worker):
        ips = listening_ips(server.pid)
        assert ips and all(only_loopback(ip) for ip in ips), ips  # nothing outside 127.0.0.0/8 or ::1


def test_bind_every_interface_is_what_the_ready_line_warns_about(servers):
    dispatcher = servers("dispatcher", "--port", "0", "--bind", "0.0.0.0", "--host", "training-peer")
    ready = first_line(dispatcher)
    port = ready.split(" ready at grpc://training-peer:")[1].split()[0]
    assert ready.endswith(
        f"; WARNING: listening on every interface (port {port}) and tf.data service has no authentication: whoever "
        "reaches it can run any dataset graph in this process; let only the training machines reach it"
    )
    assert any(ipaddress.ip_address(ip).is_unspecified for ip in listening_ips(dispatcher.pid))


def _an_address_of_this_machine_beyond_loopback():
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET and not ipaddress.ip_address(address.address).is_loopback:
                return address.address
    pytest.skip("this machine has no IPv4 address beyond loopback")


def test_bind_one_address_listens_there_only_and_the_ready_line_names_it(servers):
    address = _an_address_of_this_machine_beyond_loopback()
    dispatcher = servers("dispatcher", "--port", "0", "--bind", address)
    ready = first_line(dispatcher)
    assert ready.startswith(f"tf.data service dispatcher ready at grpc://{address}:")  # --host defaults to it
    port = ready.split(" ready at grpc://")[1].split()[0].rsplit(":", 1)[1]
    assert f"; WARNING: listening on {address}:{port} and tf.data service has no authentication" in ready
    assert {str(ipaddress.ip_address(ip).ipv4_mapped or ip) if ":" in ip else ip
            for ip in listening_ips(dispatcher.pid)} == {address}


def test_a_server_whose_bind_shim_did_not_take_refuses_to_serve(servers):
    # The shim "preloaded" under a name that does not exist: the loader skips it, the server binds every
    # interface as TensorFlow makes it - and its own check of its listening sockets stops it.
    dispatcher = servers("dispatcher", "--port", "0", env_extra={
        "LD_PRELOAD": "/nonexistent/input-pipeline-study-bind-missing.so", "INPUT_STUDY_BIND_ADDRESS": "127.0.0.1"})
    assert dispatcher.wait(timeout=180) == 1
    assert dispatcher.stdout.read() == ""  # never said it was ready
    last = dispatcher.stderr.read().strip().splitlines()[-1]
    assert last.startswith("tf.data service dispatcher failed to start: it listens on ")
    assert last.endswith(", not only on 127.0.0.1 as --bind asks; stopped it")


@pytest.mark.parametrize("arguments, message", [
    (["dispatcher", "--host", "b.example.org"],
     "python -m inputs.service: error: --host b.example.org: other machines would be told to connect, but without "
     "--bind the server listens on 127.0.0.1 only; add --bind with this machine's address on their network "
     "(or --bind 0.0.0.0 for every interface)"),
    (["worker", "--dispatcher", "127.0.0.1:5050", "--bind", "b.example.org"],
     "python -m inputs.service worker: error: argument --bind: expected an IP address of this machine "
     "(or 0.0.0.0 for every interface), got 'b.example.org'"),
])
def test_a_host_for_other_machines_needs_an_explicit_bind(arguments, message, capsys):
    with pytest.raises(SystemExit) as stopped:
        server_command.main(arguments)
    assert stopped.value.code == 2
    assert capsys.readouterr().err.strip() == message  # one line, no usage dump
