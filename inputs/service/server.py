"""`python -m inputs.service dispatcher|worker`: run one tf.data service server until SIGINT or SIGTERM,
after printing one line that says it is ready and at which address.

It listens on the loopback address unless `--bind ADDRESS` says otherwise (the service has no
authentication), kept there by `inputs.service.bind`: the process starts itself again with the bind()
shim preloaded, then checks its own listening sockets. Opened beyond loopback, the ready line says so.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
import threading
import time

from inputs.service import bind
from inputs.service.check import ServiceError, parse_address
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


def _bind_address(text: str) -> str:
    try:
        return bind.parse_address(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad option is one line on stderr and exit status 2 - no usage dump."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="python -m inputs.service",
        description="Run one tf.data service server until Ctrl-C or SIGTERM. Start the dispatcher first, "
        "then one or more workers pointing at it; training then reads with --service-address grpc://HOST:PORT.",
        epilog="tf.data service has no authentication: whoever reaches a server's port can make it run any dataset "
        "graph. So servers listen on 127.0.0.1 unless --bind says otherwise; opened up, let only the training "
        "machines reach their ports.",
    )
    roles = parser.add_subparsers(dest="role", required=True, metavar="{dispatcher,worker}")
    bind_help = (
        f"IP address to listen on (default {bind.LOOPBACK}: this machine only); this machine's address on the "
        "network the other machines use, or 0.0.0.0 for every interface. There is no authentication: "
        "the ready line then warns"
    )
    host_help = (
        "name or IP address under which the other machines reach this one, announced to the dispatcher "
        "and to clients (default: the --bind address; with --bind 0.0.0.0, this machine's host name)"
    )

    dispatcher = roles.add_parser(
        "dispatcher", help="the coordinator that workers register with and clients connect to",
        description="Run a tf.data service dispatcher.",
    )
    dispatcher.add_argument(
        "--port", type=_port, default=DEFAULT_DISPATCHER_PORT,
        help="port to listen on (default %(default)s; 0 = any free port, printed on the ready line)",
    )
    dispatcher.add_argument("--bind", type=_bind_address, metavar="ADDRESS", help=bind_help)
    dispatcher.add_argument("--host", help=host_help)

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
    worker.add_argument("--bind", type=_bind_address, metavar="ADDRESS", help=bind_help)
    worker.add_argument("--host", help=host_help)

    for role in (dispatcher, worker):  # for local_cluster: stop with the process that started this one
        role.add_argument("--exit-with-parent", type=int, metavar="PID", help=argparse.SUPPRESS)
    return parser


def parse_arguments(argv=None) -> argparse.Namespace:
    """The command line, with --bind and --host filled in; a --host for other machines on a server kept to
    loopback is refused (it would announce an address nobody else can reach)."""
    parser = build_parser()
    arguments = parser.parse_args(argv)
    if arguments.bind is None:
        if arguments.host is not None and not bind.is_loopback(arguments.host):
            parser.error(
                f"--host {arguments.host}: other machines would be told to connect, but without --bind the server "
                f"listens on {bind.LOOPBACK} only; add --bind with this machine's address on their network "
                "(or --bind 0.0.0.0 for every interface)"
            )
        arguments.bind = bind.LOOPBACK
    if arguments.host is None:
        arguments.host = socket.gethostname() if bind.is_every_interface(arguments.bind) else arguments.bind
    return arguments


def _start_server(arguments):
    """(server, announced address) for the parsed command line; blocks until a worker has registered."""
    from processes import lean_import

    lean_import.import_tensorflow_and_keras()  # a server runs dataset graphs only: no Keras companions
    import tensorflow as tf

    service = tf.data.experimental.service
    if arguments.role == "dispatcher":
        server = service.DispatchServer(service.DispatcherConfig(port=arguments.port))
        return server, f"grpc://{bind.for_url(arguments.host)}:{server._server.bound_port()}"
    host = bind.for_url(arguments.host)
    config = service.WorkerConfig(
        dispatcher_address=arguments.dispatcher,
        worker_address=f"{host}:%port%",  # what the dispatcher tells clients to connect to
        data_transfer_address=f"{host}:%dts_port%",
        port=arguments.port,
    )
    server = service.WorkerServer(config)
    return server, f"{host}:{server._server.bound_port()}"


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


def _start_bound(arguments, argv: list[str]) -> str | None:
    """For a server kept to one address: this command again, in place of this process (same pid), with the
    bind() shim preloaded - unless it runs so already. Returns why that cannot be done, else never (or None
    when nothing is to be done)."""
    if bind.is_every_interface(arguments.bind) or bind.is_bound_by(os.environ, arguments.bind):
        return None
    try:
        environment = bind.environment_binding(dict(os.environ), arguments.bind)
    except bind.BindError as error:
        return f"{error}; or pass --bind 0.0.0.0 to listen on every interface"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "inputs.service", *argv], environment)
    return None  # not reached


def _listening_elsewhere(arguments) -> str | None:
    """One line if this server listens anywhere but on the --bind address (the shim did not take)."""
    if bind.is_every_interface(arguments.bind):
        return None
    stray = bind.elsewhere(arguments.bind, bind.listening_addresses())
    if stray:
        return f"it listens on {', '.join(stray)}, not only on {arguments.bind} as --bind asks; stopped it"
    return None


def _ready_line(name: str, arguments, address: str) -> str:
    line = f"{name} ready at {address} (pid {os.getpid()})"
    if bind.is_loopback(arguments.bind):
        return line
    port = address.rsplit(":", 1)[1]
    where = f"every interface (port {port})" if bind.is_every_interface(arguments.bind) else f"{bind.for_url(arguments.bind)}:{port}"
    return (f"{line}; WARNING: listening on {where} and tf.data service has no authentication: whoever reaches it "
            "can run any dataset graph in this process; let only the training machines reach it")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    arguments = parse_arguments(argv)
    name = f"tf.data service {arguments.role}"
    problem = _start_bound(arguments, argv)
    if problem:
        print(f"{name} failed to start: cannot listen on {arguments.bind} only: {problem}", file=sys.stderr, flush=True)
        return 1
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
    stray = _listening_elsewhere(arguments)
    if stray:
        signal.alarm(STOP_SECONDS)
        outcome["server"].stop()
        print(f"{name} failed to start: {stray}", file=sys.stderr, flush=True)
        return 1
    stop_requested = []  # a handler only appends: taking a lock in a signal handler can deadlock
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda number, _: stop_requested.append(number))
    print(_ready_line(name, arguments, outcome["address"]), flush=True)
    while not stop_requested:
        time.sleep(0.1)
    # A second signal, or STOP_SECONDS without stop() returning, ends the process at once.
    for signal_number in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
        signal.signal(signal_number, signal.SIG_DFL)
    signal.alarm(STOP_SECONDS)
    outcome["server"].stop()
    print(f"{name} stopped", flush=True)
    return 0
