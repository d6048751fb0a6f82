"""Is a tf.data service dispatcher there? `check_dispatcher` answers within a bounded time, without TensorFlow."""

from __future__ import annotations

import re
import socket
import time

_ADDRESS = re.compile(r"^grpc://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(?P<port>[0-9]{1,5})$")
# The dispatcher's gRPC method that lists registered workers (tensorflow/core/data/service/dispatcher.proto).
_GET_WORKERS = "/tensorflow.data.DispatcherService/GetWorkers"


class ServiceError(Exception):
    """The tf.data service cannot be used: the message is the one line the user sees."""


def parse_address(address: str) -> tuple[str, int]:
    """(host, port) of a "grpc://HOST:PORT" address; ServiceError for anything else."""
    match = _ADDRESS.match(address or "")
    port = int(match["port"]) if match else 0
    if not match or not 0 < port < 65536:
        raise ServiceError(f"invalid tf.data service address {address!r}: expected grpc://HOST:PORT")
    return match["host"].strip("[]"), port


def check_dispatcher(address: str, timeout_seconds: float = 10.0, min_workers: int = 1) -> tuple[str, ...]:
    """The addresses of the workers registered with the dispatcher at `address`, checked within the timeout.

    Raises ServiceError when the address is malformed, nothing answers there, what answers is not a tf.data
    service dispatcher, or fewer than `min_workers` workers are registered (a job would then wait forever).
    Costs one TCP connection and one gRPC call; does not import TensorFlow.
    """
    host, port = parse_address(address)
    deadline = time.monotonic() + timeout_seconds

    def unreachable(reason):
        return ServiceError(f"cannot reach tf.data service dispatcher at {address}: {reason}")

    try:  # plain TCP first: a refused or unroutable port fails here in milliseconds, with the OS's reason
        with socket.create_connection((host, port), timeout=max(0.05, deadline - time.monotonic())):
            pass
    except socket.timeout:
        raise unreachable(f"no answer within {timeout_seconds:g} s") from None
    except OSError as error:
        raise unreachable(error.strerror or str(error)) from None

    try:
        workers = _registered_workers(host, port, max(0.05, deadline - time.monotonic()))
    except _NotADispatcher:
        raise unreachable("the server there is not a tf.data service dispatcher") from None
    except TimeoutError:
        raise unreachable(f"no answer within {timeout_seconds:g} s") from None
    except ConnectionError as error:
        raise unreachable(str(error)) from None
    if len(workers) < min_workers:
        raise ServiceError(
            f"the tf.data service dispatcher at {address} has {len(workers)} worker(s) registered, "
            f"{min_workers} needed: start one with python -m inputs.service worker --dispatcher {host}:{port}"
        )
    return workers


def dead_part(address: str, timeout_seconds: float = 2.0) -> str | None:
    """One line naming a part of the service at `address` that is certainly gone - the dispatcher, or a
    worker it still lists (a dispatcher keeps listing a dead worker for a long time) - else None.

    Only a refused connection counts: a slow answer from a busy machine is not a dead server."""
    host, port = parse_address(address)
    if _refused(host, port, timeout_seconds):
        return f"the tf.data service dispatcher at {address} is gone (connection refused)"
    try:
        workers = _registered_workers(host, port, timeout_seconds)
    except (_NotADispatcher, TimeoutError, ConnectionError):
        return None  # undecided; the next look, or the process watch, decides
    for worker in workers:
        worker_host, _, worker_port = worker.rpartition(":")
        if worker_port.isdigit() and _refused(worker_host.strip("[]"), int(worker_port), timeout_seconds):
            return f"tf.data service worker {worker} (listed by the dispatcher at {address}) is gone (connection refused)"
    return None


def _refused(host: str, port: int, timeout_seconds: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_seconds):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


class _NotADispatcher(Exception):
    pass


def _registered_workers(host: str, port: int, timeout_seconds: float) -> tuple[str, ...]:
    import grpc  # TensorFlow's own gRPC binding (a dependency of tensorflow)

    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    channel = grpc.insecure_channel(target, options=[("grpc.enable_http_proxy", 0)])
    try:
        get_workers = channel.unary_unary(_GET_WORKERS)  # no serializers: raw protobuf bytes both ways
        reply = get_workers(b"", timeout=timeout_seconds)  # GetWorkersRequest is empty
    except grpc.RpcError as error:
        code = error.code()
        if code in (grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN):
            raise _NotADispatcher() from None
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            raise TimeoutError() from None
        raise ConnectionError(error.details() or code.name) from None
    finally:
        channel.close()
    return tuple(_worker_addresses(reply))


def _worker_addresses(reply: bytes) -> list[str]:
    """GetWorkersResponse {repeated WorkerInfo workers = 1}, WorkerInfo {string address = 1}, by hand."""
    infos = _length_delimited_fields(reply).get(1, [])
    return [_length_delimited_fields(info).get(1, [b""])[0].decode() for info in infos]


def _length_delimited_fields(message: bytes) -> dict[int, list[bytes]]:
    fields: dict[int, list[bytes]] = {}
    position = 0
    while position < len(message):
        key, position = _varint(message, position)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            _, position = _varint(message, position)
        elif wire_type == 2:
            size, position = _varint(message, position)
            fields.setdefault(number, []).append(message[position : position + size])
            position += size
        else:  # the messages read here hold only varints and bytes
            raise _NotADispatcher()
    return fields


def _varint(data: bytes, position: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if position >= len(data):
            raise _NotADispatcher()
        byte = data[position]
        value |= (byte & 0x7F) << shift
        position, shift = position + 1, shift + 7
        if not byte & 0x80:
            return value, position
