"""Which replica this server is: the ``replica`` field of every audit line and of ``/health``, so
that a log collector merging the replicas' audit files and a load balancer's health check can
tell the servers apart."""

from __future__ import annotations

import os
import re
import socket

from ragtune.config import ServeConfig
from ragtune.errors import ConfigError

REPLICA_ENV = "RAGTUNE_REPLICA_ID"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,99}")  # as [serve] replica_id


def replica_id(settings: ServeConfig) -> str:
    """``[serve] replica_id``, else $RAGTUNE_REPLICA_ID (e.g. a Kubernetes pod name), else
    ``<hostname>-<pid>``: unique per process even when replicas share a host."""
    if settings.replica_id:
        return settings.replica_id
    named = os.environ.get(REPLICA_ENV, "").strip()
    if named:
        if not _NAME.fullmatch(named):
            raise ConfigError(f"${REPLICA_ENV} = {named!r}: use up to 100 letters, digits and . _ : - "
                              "(starting with a letter or digit)")
        return named
    return f"{socket.gethostname()}-{os.getpid()}"
