"""A real multi-node Ray cluster on loopback, for tests and benchmarks (not for production).

Each node is ``ray start --block`` on its own loopback address (127.0.0.2, 127.0.0.3, …: Ray
otherwise advertises the machine's external interface) with ``--num-cpus``. Ray's worker
processes leave the process group of the ``ray start`` that spawned them, so every process of a
node is found by a marker in its environment, which all of them inherit, and stopped by PID:
SIGTERM, then SIGKILL for what is left (some ``ray::`` workers ignore SIGTERM).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

MARKER = "RAGTUNE_TEST_RAY_NODE"


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _ray_command() -> str:
    found = Path(sys.executable).with_name("ray")
    if found.exists():
        return str(found)
    which = shutil.which("ray")
    if which is None:
        raise RuntimeError("the 'ray' command is not installed (pip install 'ragtune[ray]')")
    return which


def _environments() -> dict[int, dict[str, str]]:
    """Each process's environment, read from /proc directly: psutil's parser stops early on
    the environment block that Ray's process titles rewrite."""
    out: dict[int, dict[str, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "stat").read_text().split(") ", 1)[1].startswith("Z"):
                continue  # a zombie: gone, waiting to be reaped
            raw = (entry / "environ").read_bytes()
        except (OSError, IndexError):
            continue
        pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
        out[int(entry.name)] = {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}
    return out


@dataclass
class RayNode:
    host: str
    marker: str
    process: subprocess.Popen[bytes]
    log: Path

    seen: set[int] = field(default_factory=set)

    def pids(self) -> list[int]:
        """Every live process of this node: those with the marker, and the agents the raylet
        starts with a fresh environment that names it (``RAY_RAYLET_PID``)."""
        environs = {pid: env for pid, env in _environments().items() if env}
        self.seen.update(pid for pid, env in environs.items() if env.get(MARKER) == self.marker)
        return [pid for pid, env in environs.items()
                if pid in self.seen or env.get("RAY_RAYLET_PID", "") in {str(p) for p in self.seen}]

    def kill(self, sig: int = signal.SIGKILL) -> int:
        pids = self.pids()
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        return len(pids)


@dataclass
class RayCluster:
    """``with RayCluster(nodes=2) as cluster: ... cluster.address ...``"""

    nodes: int = 2
    cpus: int = 2
    first_host: int = 2
    """127.0.0.<first_host> is the head; the other nodes follow."""
    started: list[RayNode] = field(default_factory=list)
    address: str = ""
    temp_dir: Path | None = None

    def __enter__(self) -> RayCluster:
        self.temp_dir = Path(tempfile.mkdtemp(prefix="rt-ray-"))  # short: Ray's socket paths have a length limit
        token = secrets.token_hex(4)
        try:
            head = f"127.0.0.{self.first_host}"
            port = _free_port(head)
            self.address = f"{head}:{port}"
            self._start(head, f"{token}-0", ["--head", f"--port={port}", "--include-dashboard=false",
                                              f"--temp-dir={self.temp_dir}"])
            for n in range(1, self.nodes):
                self._start(f"127.0.0.{self.first_host + n}", f"{token}-{n}", [f"--address={self.address}"])
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, host: str, marker: str, options: list[str]) -> None:
        assert self.temp_dir is not None
        log = self.temp_dir / f"node-{host}.log"
        env = {**os.environ, MARKER: marker, "RAY_USAGE_STATS_ENABLED": "0"}
        command = [_ray_command(), "start", "--block", f"--node-ip-address={host}", f"--num-cpus={self.cpus}",
                   "--disable-usage-stats", *options]
        with open(log, "wb") as out:
            process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        node = RayNode(host, marker, process, log)
        self.started.append(node)
        deadline = time.monotonic() + 120
        while b"Ray runtime started" not in log.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Ray node {host} did not start: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.2)

    def kill_node(self, index: int) -> int:
        """SIGKILL every process of node ``index`` (not the head, 0): a machine that died."""
        return self.started[index].kill(signal.SIGKILL)

    def stop(self) -> None:
        for node in reversed(self.started):
            node.kill(signal.SIGTERM)
        deadline = time.monotonic() + 5
        while any(node.pids() for node in self.started) and time.monotonic() < deadline:
            time.sleep(0.2)
        for node in self.started:
            node.kill(signal.SIGKILL)
            try:
                node.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        self.started.clear()
        if self.temp_dir is not None:
            shutil.rmtree(self.temp_dir, ignore_errors=True)

    def __exit__(self, *exc: object) -> None:
        self.stop()
