"""Connecting to a Ray cluster for bulk work (``--ray ADDRESS``): ingest and evaluation.

Ray itself is an optional dependency (``ragtune[ray]``). ``connected`` checks that a
``host:port`` answers before ``ray.init`` (which otherwise retries a dead address for minutes),
keeps Ray Data's per-execution logging and bars off the user's terminal, and disconnects after.
"""

from __future__ import annotations

import logging
import socket
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ragtune.errors import ConfigError, RagtuneError

logger = logging.getLogger(__name__)


def import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401 - Ray Data ships in the ray[data] extra
    except ImportError:
        raise ConfigError("--ray / [ingest] executor = \"ray\" needs Ray: pip install 'ragtune[ray]'") from None
    return ray


def check_reachable(address: str | None, setting: str, timeout: float = 5.0) -> None:
    """Refuse a ``host:port`` nobody listens on at once; ``setting`` names where it came from."""
    if not address or address == "auto" or "://" in address:
        return  # found from the local session, or a Ray Client URL with its own timeout
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"{setting}: {address!r} is not host:port, ray://host:port or 'auto'")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise RagtuneError(f"cannot connect to the Ray cluster at {address!r} ({setting}): "
                           f"{exc.strerror or exc}; is its head running ('ray start --head')?") from None


@contextmanager
def connected(address: str, setting: str = "--ray") -> Iterator[Any]:
    """``with connected(address) as ray: ...``; the module ``ray``, initialised for the block."""
    ray = import_ray()
    check_reachable(address, setting)
    started = time.perf_counter()
    try:
        ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING,
                 configure_logging=False, include_dashboard=False)
    except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError…
        raise RagtuneError(f"cannot connect to the Ray cluster at {address!r} ({setting}): "
                           f"{type(exc).__name__}: {exc}") from None
    with warnings.catch_warnings():  # Ray Data's context warns about its own deprecated fields
        warnings.simplefilter("ignore", DeprecationWarning)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # our CLI draws its own, as for a local run
        context.print_on_execution_start = False
    data_logger = logging.getLogger("ray.data")  # logs every execution at INFO/WARNING on stderr
    level = data_logger.level
    data_logger.setLevel(logging.ERROR)
    logger.info("connected to Ray at %s in %.1f s", address, time.perf_counter() - started)
    try:
        yield ray
    finally:
        data_logger.setLevel(level)
        ray.shutdown()


def alive_nodes(ray: Any) -> int:
    return max(1, sum(1 for node in ray.nodes() if node.get("Alive")))
