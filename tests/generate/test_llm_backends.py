"""The LLM suite of ragtune.testing.llm, run against every backend with the real bundled model:
llama.cpp in process, the OpenAI-compatible client against a real llama_cpp.server, and
transformers on the same weights dequantised from the GGUF; then what is particular to each."""

from __future__ import annotations

import pytest

from ragtune.errors import ConfigError, GenerationError
from ragtune.generate.base import GenerationOptions, complete
from ragtune.generate.prompt import build_prompt
from ragtune.index.base import Hit
from ragtune.testing.llm import MESSAGES, LLMConformance
from tests.llm_fixtures import SERVER_KEY, THREADS

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def openai_llm(llama_server, monkeypatch_module):  # type: ignore[no-untyped-def]
    from ragtune.generate.openai_compat import OpenAICompatibleLLM

    monkeypatch_module.setenv("RAGTUNE_TEST_LLM_KEY", SERVER_KEY)
    llm = OpenAICompatibleLLM(llama_server, "chat", api_key_env="RAGTUNE_TEST_LLM_KEY", context_size=2048, timeout=60)
    yield llm
    llm.close()


@pytest.fixture(scope="module")
def monkeypatch_module():  # type: ignore[no-untyped-def]
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def transformers_llm(gguf_path):  # type: ignore[no-untyped-def]
    from ragtune.generate.transformers_llm import TransformersLLM

    llm = TransformersLLM(gguf_path.parent, gguf_file=gguf_path.name, context_size=2048, threads=THREADS)
    yield llm
    llm.close()


class TestLlamaCppLLM(LLMConformance):
    @pytest.fixture
    def llm(self, llama_llm):  # type: ignore[no-untyped-def]
        return llama_llm


class TestOpenAICompatibleLLM(LLMConformance):
    exact_prompt_tokens = False  # the remote count comes from the server itself

    @pytest.fixture
    def llm(self, openai_llm):  # type: ignore[no-untyped-def]
        return openai_llm


class TestTransformersLLM(LLMConformance):
    json_schema_refusal = "cannot constrain output to a JSON schema"

    @pytest.fixture
    def llm(self, transformers_llm):  # type: ignore[no-untyped-def]
        return transformers_llm


def test_count_tokens_matches_the_model_tokenizer(llama_llm) -> None:  # type: ignore[no-untyped-def]
    text = "Northwind Cycles refunds meals up to 40 EUR per day."
    tokens = llama_llm.count_tokens(text)
    assert 8 <= tokens <= 20
    assert llama_llm.count_prompt_tokens(MESSAGES) > llama_llm.count_tokens(MESSAGES[1].content) + 5


def test_prompt_budget_fits_sources_into_a_small_context(gguf_path) -> None:  # type: ignore[no-untyped-def]
    from ragtune.generate.llama_cpp import LlamaCppLLM

    small = LlamaCppLLM(gguf_path, context_size=512, threads=THREADS)
    try:
        text = "The workshop opens at 07:30 and closes at 17:00 on weekdays. " * 12
        hits = [Hit(f"c{i}", f"d{i}", f"doc{i}.md", text, 0, len(text), None, None, (), {}, 1.0) for i in range(5)]
        prompt = build_prompt("When does the workshop open?", hits, small, system="Answer from the sources.",
                              max_sources=5, reserve_tokens=128)
        assert 1 <= len(prompt.sources) < 5 and prompt.dropped == 5 - len(prompt.sources)
        assert prompt.prompt_tokens == small.count_prompt_tokens(prompt.messages) <= 512 - 128
        with pytest.raises(GenerationError, match="raise llm.context_size"):
            build_prompt("x " * 600, hits, small, system="s", max_sources=5, reserve_tokens=128)
    finally:
        small.close()


def test_missing_key_variable_and_unreachable_server_are_clear(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ragtune.generate.openai_compat import OpenAICompatibleLLM

    monkeypatch.delenv("RAGTUNE_NO_SUCH_KEY", raising=False)
    with pytest.raises(ConfigError, match="RAGTUNE_NO_SUCH_KEY is not set"):
        OpenAICompatibleLLM("http://127.0.0.1:9/v1", "m", api_key_env="RAGTUNE_NO_SUCH_KEY")
    monkeypatch.setenv("RAGTUNE_SECRET_KEY", "sk-very-secret-value")
    llm = OpenAICompatibleLLM("http://127.0.0.1:9/v1", "m", api_key_env="RAGTUNE_SECRET_KEY", timeout=2)
    with pytest.raises(GenerationError, match="cannot reach the LLM server at http://127.0.0.1:9/v1") as error:
        complete(llm, MESSAGES, GenerationOptions(max_tokens=4))
    assert "sk-very-secret-value" not in str(error.value)


def test_a_wrong_key_is_reported_without_echoing_it(llama_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from ragtune.generate.openai_compat import OpenAICompatibleLLM

    monkeypatch.setenv("RAGTUNE_WRONG_KEY", "wrong-key-123")
    llm = OpenAICompatibleLLM(llama_server, "chat", api_key_env="RAGTUNE_WRONG_KEY", timeout=30)
    with pytest.raises(GenerationError, match="answered 401") as error:
        complete(llm, MESSAGES, GenerationOptions(max_tokens=4))
    assert "wrong-key-123" not in str(error.value)


def test_unknown_model_names_are_clear() -> None:
    from ragtune.generate.models import resolve_gguf, resolve_hf_model

    with pytest.raises(ConfigError, match="unknown model 'gpt-5'.*smollm2-135m"):
        resolve_gguf("gpt-5")
    with pytest.raises(ConfigError, match="no GGUF file"):
        resolve_gguf("/nowhere/model.gguf")
    with pytest.raises(ConfigError, match="local model folder"):
        resolve_hf_model("not-a-folder")
