from __future__ import annotations

import pytest

from ragtune.chunk.tokenizer import load_tokenizer
from ragtune.config import DEFAULT_CONFIG_TOML, ChunkingConfig, EmbedderConfig, RagtuneConfig
from ragtune.errors import ConfigError
from ragtune.workspace import Workspace


def test_defaults_and_the_commented_template_agree(tmp_path):
    ws = Workspace(tmp_path / "ws")
    assert ws.init() is True and ws.init() is False
    assert ws.load_config() == RagtuneConfig()
    assert "chunk_tokens = 200" in DEFAULT_CONFIG_TOML


def test_missing_file_means_defaults(tmp_path):
    assert RagtuneConfig.load(tmp_path / "none.toml") == RagtuneConfig()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[chunking]\nchunk_tokns = 100\n", "chunking.chunk_tokns: Extra inputs are not permitted"),
        ("[chunking]\nchunk_tokens = 100\noverlap_tokens = 100\n", "overlap_tokens (100) must be smaller"),
        ("[chunking]\nchunk_tokens = 400\n", "exceeds what the embedder"),
        ("[ingest]\nmax_file_bytes = -1\n", "ingest.max_file_bytes"),
        ("[ingest.json]\ntext_fields = []\n", "ingest.json.text_fields"),
        ("[chunking\n", "not valid TOML"),
    ],
)
def test_invalid_configuration_names_file_and_field(tmp_path, toml, message):
    path = tmp_path / "ragtune.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        RagtuneConfig.load(path)
    assert str(path) in str(info.value) and message in str(info.value)


def test_workspace_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("RAGTUNE_WORKSPACE", str(tmp_path / "env-ws"))
    assert Workspace.resolve().root == tmp_path / "env-ws"
    assert Workspace.resolve(tmp_path / "opt").root == tmp_path / "opt"
    monkeypatch.delenv("RAGTUNE_WORKSPACE")
    assert str(Workspace.resolve().root) == ".ragtune"


def test_unknown_embedder_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown embedder model 'no-such-model'"):
        load_tokenizer(ChunkingConfig(), EmbedderConfig(model="no-such-model"))
    with pytest.raises(ConfigError, match="no tokenizer.json"):
        load_tokenizer(ChunkingConfig(tokenizer="/nonexistent/tok"), EmbedderConfig())
