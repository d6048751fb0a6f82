"""`python -m inputs.service dispatcher|worker`: run one tf.data service server until SIGINT or SIGTERM,
after printing one line that says it is ready and at which address."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading
import time

from inputs.service.check import ServiceError, parse_address
from inputs.service.cluster import LOOPBACK
from processes import parent_death

DEFAULT_DISPATCHER_PORT = 5050


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port < 65536:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}")
    return port


def _host_port(text: str) -> str:
    address = text if text.startswith("grpc://") else f"grpc://{text}"
    try:
        host, port = parse_address(address)
    except ServiceError:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}") from None
    return f"{host}:{port}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m inputs.service",
        description="Run one tf.data service server until Ctrl-C or SIGTERM. Start the dispatcher first, "
        "then one or more workers pointing at it; training then reads with --service-address grpc://HOST:PORT.",
        epilog="Servers listen on all interfaces (TensorFlow has no bind-address option) and have no "
        "authentication: on a shared network, firewall their ports.",
    )
    roles = parser.add_subparsers(dest="role", required=True, metavar="{dispatcher,worker}")
    host_help = (
        "name or IP address under which the other machines reach this one, announced to the dispatcher "
        "and to clients (default %(default)s: this machine only)"
    )

    dispatcher = roles.add_parser(
        "dispatcher", help="the coordinator that workers register with and clients connect to",
        description="Run a tf.data service dispatcher.",
    )
    dispatcher.add_argument(
        "--port", type=_port, default=DEFAULT_DISPATCHER_PORT,
        help="port to listen on (default %(default)s; 0 = any free port, printed on the ready line)",
    )
    dispatcher.add_argument("--host", default=LOOPBACK, help=host_help)

    worker = roles.add_parser(
        "worker", help="a server that runs input pipelines for the dispatcher's jobs",
        description="Run a tf.data service worker. It waits until the dispatcher answers, registers, "
        "then prints its ready line.",
    )
    worker.add_argument(
        "--dispatcher", type=_host_port, required=True, metavar="HOST:PORT",
        help="the dispatcher's address, e.g. 127.0.0.1:5050 (grpc:// in front is accepted)",
    )
    worker.add_argument("--port", type=_port, default=0, help="port to listen on (default 0 = any free port)")
    worker.add_argument("--host", default=LOOPBACK, help=host_help)

    for role in (dispatcher, worker):  # for local_cluster: stop with the process that started this one
        role.add_argument("--exit-with-parent", type=int, metavar="PID", help=argparse.SUPPRESS)
    return parser


def _start_server(arguments):
    """(server, announced address) for the parsed command line; blocks until a worker has registered."""
    import tensorflow as tf

    service = tf.data.experimental.service
    if arguments.role == "dispatcher":
        server = service.DispatchServer(service.DispatcherConfig(port=arguments.port))
        return server, f"grpc://{arguments.host}:{server._server.bound_port()}"
    config = service.WorkerConfig(
        dispatcher_address=arguments.dispatcher,
        worker_address=f"{arguments.host}:%port%",  # what the dispatcher tells clients to connect to
        data_transfer_address=f"{arguments.host}:%dts_port%",
        port=arguments.port,
    )
    server = service.WorkerServer(config)
    return server, f"{arguments.host}:{server._server.bound_port()}"


STOP_SECONDS = 10  # a server whose stop() hangs (a worker whose dispatcher is gone) is ended by SIGALRM


def port_in_use(port: int) -> bool:
    """True if something listens on `port` already. gRPC sets SO_REUSEPORT, so a second server on a taken
    port would share it silently and report ready; a plain bind, without that option, is refused instead."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return True
    return False


def main(argv=None) -> int:
    arguments = build_parser().parse_args(argv)
    name = f"tf.data service {arguments.role}"
    # Until the server is up, SIGINT and SIGTERM end the process at once (the kernel's default action): a
    # worker waiting for its dispatcher blocks in TensorFlow with the GIL held, so a Python handler would
    # never run and the signals would be ignored.
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, signal.SIG_DFL)
    if arguments.exit_with_parent:
        parent_death.exit_with_parent(arguments.exit_with_parent)
    if arguments.port and port_in_use(arguments.port):
        print(f"{name} failed to start: port {arguments.port} is in use (another server there?); choose another --port",
              file=sys.stderr, flush=True)
        return 1

    outcome: dict = {}

    def start():
        try:
            outcome["server"], outcome["address"] = _start_server(arguments)
        except Exception as error:  # reported by the main thread, in one line
            outcome["error"] = error

    # Starting runs in a thread so that the main thread can report a failure in one line.
    starter = threading.Thread(target=start, daemon=True)
    if arguments.role == "worker":
        print(f"{name} connecting to dispatcher {arguments.dispatcher} ...", file=sys.stderr, flush=True)
    starter.start()
    while starter.is_alive():
        starter.join(timeout=0.1)
    if "error" in outcome:
        print(f"{name} failed to start: {outcome['error']}", file=sys.stderr, flush=True)
        return 1
    stop_requested = []  # a handler only appends: taking a lock in a signal handler can deadlock
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda number, _: stop_requested.append(number))
    print(f"{name} ready at {outcome['address']} (pid {os.getpid()})", flush=True)
    while not stop_requested:
        time.sleep(0.1)
    # A second signal, or STOP_SECONDS without stop() returning, ends the process at once.
    for signal_number in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
        signal.signal(signal_number, signal.SIG_DFL)
    signal.alarm(STOP_SECONDS)
    outcome["server"].stop()
    print(f"{name} stopped", flush=True)
    return 0
