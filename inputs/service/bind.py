"""Where a tf.data service server listens: one address, the loopback address unless asked otherwise.

TensorFlow's servers take a port but no address: `GrpcDataServerBase::Start`
(tensorflow/core/data/service/server_lib.cc) listens on "0.0.0.0:<port>", which gRPC opens as a dual-stack
[::] socket, and neither `DispatcherConfig` nor `WorkerConfig` - nor their protos in
tensorflow/core/protobuf/service_config.proto - has a field for an address (checked in TensorFlow 2.21).
So a server kept to one address runs with `bind_address.c` preloaded, built once with the system's C
compiler, which rewrites its wildcard bind() to the address in $INPUT_STUDY_BIND_ADDRESS; and once up, the
server reads its own listening sockets (`listening_addresses`) and refuses to serve if one is elsewhere.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

LOOPBACK = "127.0.0.1"
ADDRESS_VARIABLE = "INPUT_STUDY_BIND_ADDRESS"  # read by bind_address.c
_SOURCE = Path(__file__).with_name("bind_address.c")


class BindError(Exception):
    """A server cannot be kept to the address asked for: the message is one line."""


def parse_address(text: str) -> str:
    """An IP address as a server binds it (normalized); ValueError with the expected form otherwise."""
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        raise ValueError(f"expected an IP address of this machine (or 0.0.0.0 for every interface), got {text!r}") from None


def is_every_interface(address: str) -> bool:
    return ipaddress.ip_address(address).is_unspecified


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address) means this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def for_url(host: str) -> str:
    """`host` as it goes before ":PORT" (an IPv6 address in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def environment_binding(environment: dict, address: str) -> dict:
    """`environment` for a server that listens on `address` only: the shim preloaded, the address set."""
    library = str(preload_library())
    preloaded = environment.get("LD_PRELOAD", "").split()
    return dict(environment, LD_PRELOAD=" ".join([library, *[name for name in preloaded if name != library]]),
                **{ADDRESS_VARIABLE: address})


def is_bound_by(environment: dict, address: str) -> bool:
    """Whether a process with `environment` already runs with the shim for `address` (no need to start again)."""
    return environment.get(ADDRESS_VARIABLE) == address and any(
        Path(name).name.startswith("input-pipeline-study-bind-") for name in environment.get("LD_PRELOAD", "").split()
    )


@functools.lru_cache(maxsize=None)
def preload_library() -> Path:
    """The shim (`bind_address.c`) as a shared library, built once per source version into the temporary
    folder; BindError saying why where that cannot be done (not Linux, no C compiler)."""
    if not sys.platform.startswith("linux"):
        raise BindError(f"keeping a server to one address needs Linux (LD_PRELOAD of {_SOURCE.name}), not {sys.platform}")
    try:
        source = _SOURCE.read_bytes()
    except OSError as error:
        raise BindError(f"cannot read {_SOURCE}: {error.strerror}") from None
    library = Path(tempfile.gettempdir()) / (
        f"input-pipeline-study-bind-{hashlib.sha256(source).hexdigest()[:16]}-{os.getuid()}.so")
    if library.exists():
        return library
    compiler = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if compiler is None:
        raise BindError(f"keeping a server to one address needs a C compiler to build {_SOURCE.name} (none found; set CC)")
    partial = library.with_suffix(f".{os.getpid()}.partial")
    built = subprocess.run([compiler, "-shared", "-fPIC", "-O2", "-o", str(partial), str(_SOURCE), "-ldl"],
                           capture_output=True, text=True)
    if built.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BindError(f"cannot build {_SOURCE.name}: {built.stderr.strip()[:200]}")
    os.replace(partial, library)  # atomic: a concurrent server sees the whole library or none
    return library


def listening_addresses(pid: int | str = "self") -> list[tuple[str, int]]:
    """(address, port) of every TCP socket process `pid` listens on (Linux /proc; empty elsewhere)."""
    try:
        inodes = {os.readlink(entry.path)[len("socket:["):-1] for entry in os.scandir(f"/proc/{pid}/fd")
                  if os.readlink(entry.path).startswith("socket:[")}
    except OSError:
        return []
    found = []
    for table, family in (("tcp", socket.AF_INET), ("tcp6", socket.AF_INET6)):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:  # 0A: TCP_LISTEN
                continue
            hex_address, hex_port = local.split(":")
            # The kernel prints each 32-bit word of the address as a number in this machine's byte order.
            packed = b"".join(struct.pack("=I", int(hex_address[i : i + 8], 16)) for i in range(0, len(hex_address), 8))
            found.append((socket.inet_ntop(family, packed), int(hex_port, 16)))
    return found


def elsewhere(address: str, listening: list[tuple[str, int]]) -> list[str]:
    """The listening sockets not on `address` (an IPv4 address also counts as its ::ffff: form)."""
    wanted = {address, f"::ffff:{address}"}
    return [f"{for_url(host)}:{port}" for host, port in listening if host not in wanted]
