"""A real two-node Ray cluster on loopback (ragtune.testing.ray), one per session.

Skipped with the reason when Ray is not installed or cannot start; ``RAGTUNE_REQUIRE_RAY=1``
(set by ``.ci/run``) turns that skip into a failure, so CI never passes without these tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from ragtune.testing.ray import RayCluster


def start_cluster(nodes: int = 2) -> RayCluster:
    try:
        import ray  # noqa: F401

        return RayCluster(nodes=nodes, cpus=2).__enter__()
    except (ImportError, RuntimeError, OSError) as exc:
        if os.environ.get("RAGTUNE_REQUIRE_RAY"):
            pytest.fail(f"RAGTUNE_REQUIRE_RAY is set but no Ray cluster could start: {exc}")
        pytest.skip(f"no Ray cluster here: {exc}")


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[RayCluster]:
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()
