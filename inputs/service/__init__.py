"""tf.data service servers: a command to run one anywhere, a local cluster for one trial, a reachability check.

- `python -m inputs.service dispatcher --port 5050` and
  `python -m inputs.service worker --dispatcher HOST:5050 [--port P]` run one server (a
  `tf.data.experimental.service.DispatchServer` or `WorkerServer`) until SIGINT or SIGTERM, after printing one
  line that says it is ready and at which address (`server`).
- `local_cluster(workers)` starts a dispatcher and `workers` workers as separate processes of that command on
  127.0.0.1, yields the dispatcher's address and stops them all when the block ends, however it ends (`cluster`).
- `check_dispatcher(address)` says within a bounded time whether a dispatcher answers at `grpc://HOST:PORT`
  and has workers, before a trial starts training against it (`check`).

The service has no authentication, so every server listens on the loopback address unless `--bind ADDRESS`
asks otherwise; TensorFlow's servers would listen on every interface (their configs have a port but no
address), so a preloaded bind() shim keeps them to the address and each server checks its own listening
sockets (`bind`). `--host` only sets the name a server announces.
"""

from inputs.service.check import ServiceError, check_dispatcher, parse_address
from inputs.service.cluster import local_cluster

__all__ = ["ServiceError", "check_dispatcher", "local_cluster", "parse_address"]
