"""Open models, their quantized checkpoints, and the architecture facts sizing needs.

Source: each model's config.json on its Hugging Face repository (num_hidden_layers, num_attention_heads,
num_key_value_heads, hidden_size / num_attention_heads, hidden_size, intermediate_size, vocab_size,
tie_word_embeddings, max_position_embeddings, torch_dtype), and the parameter counts on the model cards;
cross-checked with shared/FACTS.md (2026-11). Mixtral counts all experts: every expert's weights are resident even
though two are active per token; its intermediate_size is per expert (what vLLM's FusedMoE splits across TP ranks).
"""
from dataclasses import dataclass
from typing import Optional

AS_OF = "2026-11"

# Bytes per weight / KV element for each dtype name the spec accepts.
DTYPE_BYTES = {"bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "int8": 1.0, "int4": 0.5}
# KV cache dtype. `auto` is the model's 16-bit dtype: vLLM 0.33.0 vllm/config/cache.py CacheConfig.cache_dtype
# "If 'auto', will use model data type" — never the quantized weight width.
KV_DTYPE_BYTES = {"auto": 2.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0}


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
    hidden: int = 0               # hidden_size (0 = unknown: embedding size and its TP rule are not checked)
    intermediate: int = 0         # MLP intermediate_size, per expert for MoE (0 = unknown, not checked)
    vocab: int = 0                # vocab_size (0 = unknown, not checked)
    tied_embeddings: bool = False  # lm_head shares the embedding matrix

    def weight_bytes(self, dtype: str) -> float:
        return self.params_b * 1e9 * DTYPE_BYTES[dtype]

    @property
    def embedding_params(self) -> float:
        """Input embedding plus lm_head: the parts quantized checkpoints keep in 16 bits."""
        return self.vocab * self.hidden * (1 if self.tied_embeddings else 2)

    def kv_bytes_per_token(self, kv_dtype_bytes: float) -> float:
        # K and V, per layer, per KV head, per head dim element (all GPUs together, no replication).
        return 2 * self.layers * self.kv_heads * self.head_dim * kv_dtype_bytes


MODELS: dict[str, ModelArch] = {m.key: m for m in (
    ModelArch("llama-3.1-8b", "meta-llama/Llama-3.1-8B-Instruct", 8.03, 32, 32, 8, 128, 131072, "bf16",
              4096, 14336, 128256),
    ModelArch("llama-3.1-70b", "meta-llama/Llama-3.1-70B-Instruct", 70.6, 80, 64, 8, 128, 131072, "bf16",
              8192, 28672, 128256),
    ModelArch("llama-3.1-405b", "meta-llama/Llama-3.1-405B-Instruct", 405.9, 126, 128, 8, 128, 131072, "bf16",
              16384, 53248, 128256),
    ModelArch("mistral-7b-instruct-v0.2", "mistralai/Mistral-7B-Instruct-v0.2", 7.24, 32, 32, 8, 128, 32768, "bf16",
              4096, 14336, 32000),
    ModelArch("mixtral-8x7b", "mistralai/Mixtral-8x7B-Instruct-v0.1", 46.7, 32, 32, 8, 128, 32768, "bf16",
              4096, 14336, 32000),
    ModelArch("llama-2-7b", "meta-llama/Llama-2-7b-chat-hf", 6.74, 32, 32, 32, 128, 4096, "fp16",
              4096, 11008, 32000),
    ModelArch("qwen2.5-7b", "Qwen/Qwen2.5-7B-Instruct", 7.6, 28, 28, 4, 128, 32768, "bf16",
              3584, 18944, 152064),
    ModelArch("qwen2.5-72b", "Qwen/Qwen2.5-72B-Instruct", 72.7, 80, 64, 8, 128, 32768, "bf16",
              8192, 29568, 152064),
    # 10 KV heads: TP 4 and 8 neither split nor replicate them; 5 and 10 would, but the vocabulary 32064 does not
    # split into 5 or 10, so vLLM accepts only TP 1 and 2.
    ModelArch("phi-3-medium", "microsoft/Phi-3-medium-4k-instruct", 13.96, 40, 40, 10, 128, 4096, "bf16",
              5120, 17920, 32064),
)}


@dataclass(frozen=True)
class Checkpoint:
    """A quantized checkpoint of a catalog model: what vLLM downloads and keeps resident."""
    model: str                    # ModelArch key
    method: str                   # llmfleet's `quantization` value that selects it
    hf_id: str                    # the quantized repository (its quantization_config tells vLLM the method)
    bits: int                     # width of the quantized linear weights
    weight_bytes: float           # resident weights, embeddings and lm_head included
    source: str                   # measured (where) or computed (how)
    group_size: Optional[int] = None  # quantization group along the input dimension (TP must keep whole groups)


def quantized_weight_bytes(arch: ModelArch, bits: int, group_size: Optional[int] = None) -> float:
    """Linear layers at `bits` (plus one 16-bit scale per group, and a packed zero point for int4), embeddings
    and lm_head at 16 bits: AWQ, GPTQ and FP8 checkpoints leave both unquantized."""
    embed = arch.embedding_params
    linear = arch.params_b * 1e9 - embed
    per_weight = bits / 8 + ((2 + bits / 8) / group_size if group_size else 0)
    return linear * per_weight + embed * 2


def _computed(model: str, method: str, hf_id: str, bits: int, group_size: Optional[int] = None) -> Checkpoint:
    arch = MODELS[model]
    return Checkpoint(model, method, hf_id, bits, quantized_weight_bytes(arch, bits, group_size),
                      "computed: linear layers at the quantized width, embeddings and lm_head at 16 bits",
                      group_size)


CHECKPOINTS: dict[tuple[str, str], Checkpoint] = {(c.model, c.method): c for c in (
    _computed("llama-3.1-8b", "fp8", "RedHatAI/Meta-Llama-3.1-8B-Instruct-FP8", 8),
    _computed("llama-3.1-70b", "fp8", "RedHatAI/Meta-Llama-3.1-70B-Instruct-FP8", 8),
    _computed("llama-3.1-70b", "awq", "hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4", 4, 128),
    _computed("llama-3.1-8b", "awq", "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4", 4, 128),
    _computed("qwen2.5-72b", "awq", "Qwen/Qwen2.5-72B-Instruct-AWQ", 4, 128),
    _computed("qwen2.5-72b", "gptq", "Qwen/Qwen2.5-72B-Instruct-GPTQ-Int4", 4, 128),
    # Meta's own FP8 release keeps attention, the first and last layers, embeddings and lm_head in bf16: vLLM logged
    # "Loading model weights took 57.7520 GB" (GiB) per GPU at TP 8 (vllm-project/vllm issue #6746), 8 x 57.752 GiB;
    # params x 1 byte would have been 47.3 GiB per GPU.
    Checkpoint("llama-3.1-405b", "fp8", "meta-llama/Llama-3.1-405B-Instruct-FP8", 8, 8 * 57.752 * 1024 ** 3,
               "measured: vLLM log, 8 x 57.752 GiB at TP 8 (vllm-project/vllm issue #6746)"),
)}
