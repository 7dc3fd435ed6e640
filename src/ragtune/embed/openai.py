"""Embeddings from any server that speaks OpenAI's ``POST /v1/embeddings`` (vLLM, Ollama,
llama.cpp's server, text-embeddings-inference, OpenAI itself)."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import numpy as np

from ragtune.embed.base import ProgressCallback
from ragtune.errors import EmbedderError


def embeddings_url(base_url: str) -> str:
    """Accept the forms people copy from server docs: the root, the ``/v1`` prefix (what OpenAI
    clients call base_url), or the full endpoint."""
    url = base_url.rstrip("/")
    if url.endswith("/embeddings"):
        return url
    if url.endswith("/v1"):
        return url + "/embeddings"
    return url + "/v1/embeddings"


class OpenAIEmbedder:
    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        dimension: int | None = None,
        batch_size: int = 64,
        timeout: float = 60,
    ) -> None:
        self.url = embeddings_url(base_url)
        self.model = model
        self.identity = f"openai:{model}"
        self.batch_size = batch_size
        self.timeout = timeout
        self._dimension = dimension
        # The key lives only in the client's headers; it is scrubbed from every error message
        # because some servers and proxies echo request headers in their error bodies.
        self._secret = api_key or None
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers)

    @property
    def dimension(self) -> int:
        """Learnt from the first answer; asking before any embedding costs one probe request."""
        if self._dimension is None:
            self._dimension = self._request(["dimension probe"]).shape[1]
        return self._dimension

    def embed(self, texts: Sequence[str], *, progress: ProgressCallback | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = []
        for start in range(0, len(texts), self.batch_size):
            batch = list(texts[start : start + self.batch_size])
            parts.append(self._request(batch))
            if progress is not None:
                progress(len(batch))
        return np.concatenate(parts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OpenAIEmbedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, texts: list[str]) -> np.ndarray:
        try:
            response = self._client.post(self.url, json={"model": self.model, "input": texts})
        except httpx.TimeoutException as exc:
            raise self._error(f"no answer within {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise self._error(f"request failed: {exc}") from exc
        if response.status_code != 200:
            raise self._error(f"HTTP {response.status_code}: {response.text[:300]}")
        try:
            data = response.json()["data"]
            pairs = sorted((int(item["index"]), item["embedding"]) for item in data)
        except (ValueError, KeyError, TypeError) as exc:
            raise self._error(f"answer is not an embeddings response ({type(exc).__name__}: {exc})") from exc
        # The specification does not promise answer order, only an index per input.
        if [i for i, _ in pairs] != list(range(len(texts))):
            raise self._error(f"answered {len(pairs)} embeddings with indexes {[i for i, _ in pairs][:10]} for {len(texts)} inputs")
        lengths = {len(vector) for _, vector in pairs}
        expected = self._dimension
        if len(lengths) != 1 or (expected is not None and lengths != {expected}):
            raise self._error(f"answered vectors of length {sorted(lengths)}, expected {expected or 'one length'}")
        try:
            vectors = np.array([vector for _, vector in pairs], dtype=np.float32)
        except (ValueError, TypeError) as exc:
            raise self._error(f"answered non-numeric embeddings ({exc})") from exc
        norms = np.linalg.norm(vectors, axis=1)
        if not np.all(np.isfinite(norms)) or np.any(norms == 0):
            raise self._error("answered a zero or non-finite vector")
        self._dimension = vectors.shape[1]
        return vectors / norms[:, None]

    def _error(self, detail: str) -> EmbedderError:
        message = f"embedding server {self.url} (model '{self.model}'): {detail}"
        if self._secret:
            message = message.replace(self._secret, "***")
        return EmbedderError(message)
