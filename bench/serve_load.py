"""Load test of ``ragtune serve`` on loopback: many clients on /search, fewer on chat completions.

    .venv/bin/python bench/serve_load.py                        # 50 x /search and 10 x chat, 60 s each
    .venv/bin/python bench/serve_load.py --duration 20 --search-clients 20 --chat-clients 4

Builds a workspace from the sample corpus (MiniLM embedder, SmolLM2 through llama.cpp, the rate
limit off), creates a key, starts the server as a user would (``ragtune serve``, a separate
process), then runs each phase as a bounded loop of asyncio clients that send their next request
as soon as the last one is answered. Reports requests, throughput, latency percentiles, errors
(any non-2xx or transport error) and the server's resident memory before and after. Only
loopback addresses are used.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
RAGTUNE = Path(sys.executable).parent / "ragtune"
QUERIES = [
    "How much are meals refunded per day on a business trip?",
    "Where are e-bike batteries charged in the workshop?",
    "What does the Commuter 200 Belt cost?",
    "Can I work from home on Fridays?",
    "Who approves flights?",
    "How long is the warranty of the frame?",
    "What must a strong password contain?",
    "When must expense claims be submitted?",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(*args: str) -> str:
    done = subprocess.run([str(RAGTUNE), *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"ragtune {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


async def phase(url: str, key: str, clients: int, duration: float, make_request) -> dict[str, float]:  # type: ignore[no-untyped-def]
    latencies: list[float] = []
    errors: dict[str, int] = {}
    deadline = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=300,
                                 limits=limits) as http:
        async def client(n: int) -> None:
            rng = random.Random(n)
            while time.perf_counter() < deadline:
                method, path, body = make_request(rng)
                started = time.perf_counter()
                try:
                    response = await http.request(method, path, json=body)
                    if 200 <= response.status_code < 300:
                        latencies.append(time.perf_counter() - started)
                    else:
                        errors[str(response.status_code)] = errors.get(str(response.status_code), 0) + 1
                except httpx.HTTPError as exc:
                    errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(clients)))
        elapsed = time.perf_counter() - started
    if not latencies:
        return {"requests": 0, "errors": errors, "seconds": elapsed}
    return {
        "requests": len(latencies), "errors": errors, "seconds": elapsed,
        "throughput": len(latencies) / elapsed,
        "p50": percentile(latencies, 50) * 1000, "p95": percentile(latencies, 95) * 1000,
        "p99": percentile(latencies, 99) * 1000,
    }


def search_request(rng: random.Random) -> tuple[str, str, dict]:
    return "POST", "/search", {"query": rng.choice(QUERIES), "k": 10}


def chat_request(max_tokens: int):  # type: ignore[no-untyped-def]
    def make(rng: random.Random) -> tuple[str, str, dict]:
        return "POST", "/v1/chat/completions", {
            "model": "ragtune", "max_tokens": max_tokens,
            "messages": [{"role": "user", "content": rng.choice(QUERIES)}],
        }
    return make


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per phase")
    parser.add_argument("--search-clients", type=int, default=50)
    parser.add_argument("--chat-clients", type=int, default=10)
    parser.add_argument("--max-tokens", type=int, default=64, help="answer length cap for chat requests")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        ws = Path(folder)
        (ws / "ragtune.toml").write_text("[serve]\nrate_limit_per_minute = 0\n")
        run("sync", str(ROOT / "examples" / "sample_corpus"), "--workspace", str(ws), "--groups", "staff")
        key = run("keys", "create", "--user", "load", "--groups", "staff", "--workspace", str(ws)).strip().splitlines()[-1]
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([str(RAGTUNE), "serve", "--port", str(port), "--workspace", str(ws)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "NO_COLOR": "1"})
        try:
            for _ in range(600):
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            else:
                sys.exit("the server did not start")
            process = psutil.Process(server.pid)
            # warm both paths (model load, vector index) so the phases measure steady state
            httpx.post(f"{url}/v1/chat/completions", headers={"Authorization": f"Bearer {key}"}, timeout=300,
                       json={"model": "ragtune", "max_tokens": 8, "messages": [{"role": "user", "content": QUERIES[0]}]})
            rss = [process.memory_info().rss]
            results = {}
            results["search"] = asyncio.run(phase(url, key, args.search_clients, args.duration, search_request))
            rss.append(process.memory_info().rss)
            results["chat"] = asyncio.run(phase(url, key, args.chat_clients, args.duration, chat_request(args.max_tokens)))
            rss.append(process.memory_info().rss)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=60)

    cores = os.cpu_count()
    print(f"ragtune serve load test: {cores} cores, {args.duration:.0f} s per phase, loopback")
    print("| endpoint | clients | requests | req/s | p50 ms | p95 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for name, clients in (("search", args.search_clients), ("chat", args.chat_clients)):
        r = results[name]
        path = "/search" if name == "search" else f"/v1/chat/completions (max_tokens {args.max_tokens})"
        if r["requests"]:
            print(f"| {path} | {clients} | {r['requests']} | {r['throughput']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} | "
                  f"{r['p99']:.0f} | {sum(r['errors'].values())} {r['errors'] or ''} |")
        else:
            print(f"| {path} | {clients} | 0 | - | - | - | - | {r['errors']} |")
    mb = [x / 2**20 for x in rss]
    print(f"server RSS: {mb[0]:.0f} MB after warm-up, {mb[1]:.0f} MB after /search, {mb[2]:.0f} MB after chat "
          f"(growth {mb[2] - mb[0]:+.0f} MB)")


if __name__ == "__main__":
    main()
