"""The tf.data service a trial feeds from: fresh local servers for the trial alone, or the user's dispatcher."""

from __future__ import annotations

import contextlib

from study.config import StudyConfig
from study.plan import Trial


class ServiceStartError(Exception):
    """The local tf.data service servers for a trial did not start."""


@contextlib.contextmanager
def service_for(config: StudyConfig, trial: Trial):
    """Yields (address, watch) for the trial's tf.data service: fresh local servers when the trial's strategy
    needs a dispatcher and the user named none (fresh, like the trial's process, so no trial inherits
    another's warm workers), the user's dispatcher when named, else (None, None). `watch()` names a dead
    server, or a listed worker that is gone. Local servers stop when the trial ends, fails or is interrupted.
    The address reaches the trial's FeedOptions only; the study's config keeps what the user said."""
    from inputs import registry

    if not registry.get(trial.strategy).needs_service:
        yield None, None
        return
    from inputs import service
    from inputs.service.check import dead_part

    if config.service_address:
        yield None, lambda: dead_part(config.service_address)
        return
    from inputs.service.cluster import watched_local_cluster

    with contextlib.ExitStack() as servers:
        try:
            cluster = servers.enter_context(watched_local_cluster(config.service_workers))
        except service.ServiceError as error:
            raise ServiceStartError(f"tf.data service did not start: {error}") from None
        yield cluster.address, cluster.dead_server  # its processes: a look costs no request to the servers
