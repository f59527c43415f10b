"""Embedding models the RAG system can serve with text-embeddings-inference (TEI), and TEI's image per GPU.

Model facts are from each model's Hugging Face model card and config (hidden_size = output dimension,
max_position_embeddings / the sentence-transformers max_seq_length = max tokens; parameter counts as the cards
state them), read from memory of those cards: not re-checked offline (docs/rag.md). Pooling is not set here: TEI
reads it from the repository's sentence-transformers `1_Pooling/config.json`.

Images: TEI v1.9.3 README "Docker Images" (shared/FACTS-wave2.md section 5). TEI has no multi-arch GPU image
besides `cuda-1.9`; each tag below is built for one compute capability, so the tag must match the pool's GPU.
"""
from dataclasses import dataclass

TEI_VERSION = "1.9"          # the image tags carry the minor; v1.9.3 is the newest patch (2026-03-23)
TEI_REPOSITORY = "ghcr.io/huggingface/text-embeddings-inference"
TEI_CPU_TAG = f"cpu-{TEI_VERSION}"
TEI_PORT = 80                # the images set ENV PORT=80 (the binary's own default is 3000)

# Our GPU key (catalog/gpus.py) -> the TEI tag built for its compute capability.
TEI_GPU_TAGS = {
    "a100-40gb": TEI_VERSION, "a100-80gb": TEI_VERSION,                          # Ampere sm_80
    "a10g-24gb": f"86-{TEI_VERSION}",                                             # Ampere sm_86
    "l4-24gb": f"89-{TEI_VERSION}", "l40s-48gb": f"89-{TEI_VERSION}",             # Ada Lovelace sm_89
    "h100-80gb": f"hopper-{TEI_VERSION}", "h100-nvl-94gb": f"hopper-{TEI_VERSION}",
    "h200-141gb": f"hopper-{TEI_VERSION}",                                        # Hopper sm_90
    "t4-16gb": f"turing-{TEI_VERSION}",                                           # Turing sm_75 (experimental)
}
TEI_ALL_ARCH_TAG = f"cuda-{TEI_VERSION}"   # every architecture in one (larger) image


@dataclass(frozen=True)
class EmbeddingModel:
    key: str              # the name used in stack config
    hf_repo: str
    dimensions: int       # vector size: the Qdrant collection must use the same
    max_tokens: int       # longer inputs are truncated (TEI --auto-truncate defaults to true since v1.9.0)
    params_m: int         # millions of parameters
    distance: str = "Cosine"

    @property
    def weights_mib(self) -> int:
        # fp32 on CPU: 4 bytes per parameter (TEI's CPU backend runs fp32).
        return self.params_m * 4

    @property
    def memory_mib(self) -> int:
        """Memory request: the weights, TEI's tokenizer and batch buffers (max-batch-tokens 16384 activations),
        and the runtime. An estimate: 2x the weights plus 512 MiB, at least 1 GiB."""
        return max(1024, 2 * self.weights_mib + 512)


EMBEDDING_MODELS: dict[str, EmbeddingModel] = {m.key: m for m in (
    EmbeddingModel("all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2", 768, 384, 110),
    EmbeddingModel("bge-base-en-v1.5", "BAAI/bge-base-en-v1.5", 768, 512, 110),
    EmbeddingModel("bge-large-en-v1.5", "BAAI/bge-large-en-v1.5", 1024, 512, 335),
    EmbeddingModel("e5-base-v2", "intfloat/e5-base-v2", 768, 512, 110),
    EmbeddingModel("gte-base", "thenlper/gte-base", 768, 512, 110),
)}


def tei_image(gpu_key: str = "") -> str:
    return f"{TEI_REPOSITORY}:{TEI_GPU_TAGS[gpu_key] if gpu_key else TEI_CPU_TAG}"
