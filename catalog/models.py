"""Open models and the architecture facts sizing needs.

Source: each model's config.json on its Hugging Face repository (num_hidden_layers, num_attention_heads,
num_key_value_heads, hidden_size / num_attention_heads, max_position_embeddings, torch_dtype), and the parameter
counts on the model cards; cross-checked with shared/FACTS.md (2026-11). Mixtral counts all experts: every
expert's weights are resident even though two are active per token.
"""
from dataclasses import dataclass

AS_OF = "2026-11"

# Bytes per weight / KV element for each dtype name the spec accepts.
DTYPE_BYTES = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5}
KV_DTYPE_BYTES = {"auto": None, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0}


@dataclass(frozen=True)
class ModelArch:
    key: str
    hf_id: str                    # Hugging Face repository id (what vLLM serves)
    params_b: float               # parameters, billions (all experts for MoE)
    layers: int
    attention_heads: int
    kv_heads: int
    head_dim: int
    context: int                  # max_position_embeddings
    dtype: str                    # native weight dtype

    def weight_bytes(self, dtype: str) -> float:
        return self.params_b * 1e9 * DTYPE_BYTES[dtype]

    def kv_bytes_per_token(self, kv_dtype_bytes: float) -> float:
        # K and V, per layer, per KV head, per head dim element.
        return 2 * self.layers * self.kv_heads * self.head_dim * kv_dtype_bytes


MODELS: dict[str, ModelArch] = {m.key: m for m in (
    ModelArch("llama-3.1-8b", "meta-llama/Llama-3.1-8B-Instruct", 8.03, 32, 32, 8, 128, 131072, "bf16"),
    ModelArch("llama-3.1-70b", "meta-llama/Llama-3.1-70B-Instruct", 70.6, 80, 64, 8, 128, 131072, "bf16"),
    ModelArch("llama-3.1-405b", "meta-llama/Llama-3.1-405B-Instruct", 405.9, 126, 128, 8, 128, 131072, "bf16"),
    ModelArch("mistral-7b-instruct-v0.2", "mistralai/Mistral-7B-Instruct-v0.2", 7.24, 32, 32, 8, 128, 32768, "bf16"),
    ModelArch("mixtral-8x7b", "mistralai/Mixtral-8x7B-Instruct-v0.1", 46.7, 32, 32, 8, 128, 32768, "bf16"),
    ModelArch("llama-2-7b", "meta-llama/Llama-2-7b-chat-hf", 6.74, 32, 32, 32, 128, 4096, "fp16"),
    ModelArch("qwen2.5-7b", "Qwen/Qwen2.5-7B-Instruct", 7.6, 28, 28, 4, 128, 32768, "bf16"),
    ModelArch("qwen2.5-72b", "Qwen/Qwen2.5-72B-Instruct", 72.7, 80, 64, 8, 128, 32768, "bf16"),
)}
