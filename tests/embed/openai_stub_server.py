"""A real HTTP server speaking OpenAI's ``POST /v1/embeddings`` wire format, for tests.

A stand-in until ragtune's own OpenAI-compatible server lands: the vectors come from the real
``HashingEmbedder``, so a client's results can be checked against local computation.

    python tests/embed/openai_stub_server.py [--dimension 256] [--api-key KEY]

Listens on 127.0.0.1 (a free port) and prints ``PORT <n>`` once ready. With ``--api-key`` every
request must carry ``Authorization: Bearer KEY`` (else HTTP 401). The requested model name picks
a behaviour:

- ``fail-500``: HTTP 500 whose body echoes the request's Authorization header, as some proxies do;
- ``short``: one embedding fewer than inputs;
- ``not-json``: HTTP 200 with an HTML body;
- ``slow``: answers after 2 s;
- anything else: the embeddings, listed in reverse order (the specification gives each item an
  ``index`` but promises no order, so clients must sort by it).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ragtune.embed.hashing import HashingEmbedder


def make_handler(embedder: HashingEmbedder, api_key: str | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _error(self, status: int, message: str) -> None:
            self._send(status, json.dumps({"error": {"message": message, "type": "invalid_request_error"}}).encode())

        def do_POST(self) -> None:
            if self.path.rstrip("/") != "/v1/embeddings":
                return self._error(404, f"no route {self.path}")
            authorization = self.headers.get("Authorization", "")
            if api_key is not None and authorization != f"Bearer {api_key}":
                return self._error(401, "invalid API key")
            try:
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                model, inputs = request["model"], request["input"]
            except (ValueError, KeyError, TypeError):
                return self._error(400, "expected a JSON body with 'model' and 'input'")
            inputs = [inputs] if isinstance(inputs, str) else list(inputs)
            if model == "fail-500":
                return self._error(500, f"upstream failure; request headers: Authorization: {authorization}")
            if model == "not-json":
                return self._send(200, b"<html>gateway page</html>", "text/html")
            if model == "slow":
                time.sleep(2)
            vectors = embedder.embed(inputs)
            data = [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)]
            if model == "short":
                data = data[:-1]
            body = {
                "object": "list",
                "data": data[::-1],
                "model": model,
                "usage": {"prompt_tokens": 0, "total_tokens": 0},
            }
            self._send(200, json.dumps(body).encode())

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dimension", type=int, default=256)
    parser.add_argument("--api-key")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(HashingEmbedder(args.dimension), args.api_key))
    print(f"PORT {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
