"""Write a PEFT LoRA adapter as a GGUF adapter file that llama.cpp applies to the base GGUF
(``Llama(model_path=base.gguf, lora_path=adapter.gguf)``).

Serving the tuned model this way keeps llama.cpp's speed and the base file's quantisation, and
loses nothing: the adapter was trained on the dequantised weights of that very file. A LoRA GGUF
holds, for every adapted weight ``blk.N.<tensor>.weight``, the two factors ``...weight.lora_a``
(r x in) and ``...weight.lora_b`` (out x r), plus ``adapter.type = lora`` and the alpha that
llama.cpp divides by the rank, as PEFT does.

Tensor names come from the ``gguf`` package's own HF -> GGUF name map. One detail is llama.cpp's
own: for the ``llama`` architecture the query and key weights are stored with their rows permuted
for its rotary embedding, and transformers undoes that permutation when it dequantises. The
adapter's output factor (``lora_b``) of those two projections gets the same permutation here.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from ragtune.errors import TrainingError

_PERMUTED = {"llama": {"attn_q": "head_count", "attn_k": "head_count_kv"}}
_KEY = re.compile(r"^(?:base_model\.model\.)?(.+)\.lora_([AB])\.weight$")


def _field(reader, key: str):  # type: ignore[no-untyped-def]
    entry = reader.fields.get(key)
    return None if entry is None else entry.contents()


def _rope_permute(matrix: np.ndarray, heads: int) -> np.ndarray:
    """Interleave each head's two rotary halves, row-wise, as llama.cpp's llama tensors are."""
    rows = matrix.shape[0]
    return matrix.reshape(heads, 2, rows // heads // 2, *matrix.shape[1:]).swapaxes(1, 2).reshape(matrix.shape)


def write_gguf_adapter(adapter_dir: Path, base_gguf: Path, target: Path) -> Path:
    import gguf
    from safetensors.numpy import load_file

    reader = gguf.GGUFReader(str(base_gguf))
    arch = _field(reader, "general.architecture")
    arch_enum = {name: key for key, name in gguf.MODEL_ARCH_NAMES.items()}.get(arch)
    blocks = _field(reader, f"{arch}.block_count")
    if arch_enum is None or blocks is None:
        raise TrainingError(f"{base_gguf}: unknown GGUF architecture {arch!r}; cannot write a llama.cpp adapter")
    config = json.loads((adapter_dir / "adapter_config.json").read_text(encoding="utf-8"))
    if config.get("use_rslora") or config.get("use_dora"):
        raise TrainingError("GGUF export supports plain LoRA only (no rsLoRA or DoRA scaling)")
    names = gguf.get_tensor_name_map(arch_enum, int(blocks))
    heads = {tensor: int(_field(reader, f"{arch}.attention.{key}")) for tensor, key in _PERMUTED.get(arch, {}).items()}
    weights = load_file(str(adapter_dir / "adapter_model.safetensors"))
    writer = gguf.GGUFWriter(str(target), arch)
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(config["lora_alpha"]))
    for key in sorted(weights):
        match = _KEY.match(key)
        if match is None:
            raise TrainingError(f"{adapter_dir}: tensor {key} is not a LoRA factor; only LoRA layers can be exported")
        module, factor = match.groups()
        mapped = names.get_name(module)
        if mapped is None:
            raise TrainingError(f"{adapter_dir}: no llama.cpp tensor for {module} in architecture {arch}")
        matrix = weights[key].astype(np.float32)
        tensor = mapped.rsplit(".", 1)[-1]
        if factor == "B" and tensor in heads:
            matrix = _rope_permute(matrix, heads[tensor])
        writer.add_tensor(f"{mapped}.weight.lora_{factor.lower()}", matrix.astype(np.float16))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return target
