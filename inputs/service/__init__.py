"""tf.data service servers: a command to run one anywhere, a local cluster for one trial, a reachability check.

- `python -m inputs.service dispatcher --port 5050` and
  `python -m inputs.service worker --dispatcher HOST:5050 [--port P]` run one server (a
  `tf.data.experimental.service.DispatchServer` or `WorkerServer`) until SIGINT or SIGTERM, after printing one
  line that says it is ready and at which address (`server`).
- `local_cluster(workers)` starts a dispatcher and `workers` workers as separate processes of that command on
  127.0.0.1, yields the dispatcher's address and stops them all when the block ends, however it ends (`cluster`).
- `check_dispatcher(address)` says within a bounded time whether a dispatcher answers at `grpc://HOST:PORT`
  and has workers, before a trial starts training against it (`check`).

TensorFlow's servers listen on every interface of the machine (its configs have a port but no bind address);
`--host` only sets the name they announce. The servers `local_cluster` starts for the study listen on the
loopback address only, through a preloaded bind() shim (`loopback_bind.c`). The service has no
authentication: on a shared network, keep its ports behind a firewall.
"""

from inputs.service.check import ServiceError, check_dispatcher, parse_address
from inputs.service.cluster import local_cluster

__all__ = ["ServiceError", "check_dispatcher", "local_cluster", "parse_address"]
