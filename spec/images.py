"""Per-image overrides (`llmfleet:images`): one reference per image the program itself renders, keyed by a fixed
catalog of names, e.g. `{vllm: "registry.example.com/mirror/vllm-openai@sha256:<64 hex>"}`.

Why: the catalog pins exact tags (catalog/versions.py), but a tag can be re-pushed. A digest is immutable, and the
program only carries one where upstream publishes it in a source that can be cited (none of these images do, see
docs/security.md): so the user fills digests from their own registry mirror here, where they can verify them.
Charts' images are pinned by the chart version and are not overridden here.
"""
import re
from dataclasses import dataclass, field
from typing import Optional

from catalog.versions import RAG_JOB_IMAGE, RAY_LLM_IMAGE, VLLM_IMAGE
from spec.reader import Obj, describe, nearest

# name -> (what renders it, the catalog default; None where the default depends on the stack, e.g. TEI per GPU)
IMAGES: dict[str, tuple[str, Optional[str]]] = {
    "vllm": ("vLLM model servers (engine vllm); same as llmfleet:serving.vllmImage", VLLM_IMAGE),
    "ray-llm": ("Ray Serve LLM head and workers (engine rayserve)", RAY_LLM_IMAGE),
    "tei": ("the RAG embedding service (text-embeddings-inference); same as llmfleet:rag.embedding.image", None),
    "rag-job": ("the RAG collection Job", RAG_JOB_IMAGE),
}
# [registry[:port]/]path[:tag][@sha256:<64 hex>], with a tag or a digest (or both); a bare name would mean latest.
_COMPONENT = r"[a-z0-9]+(?:[._-]+[a-z0-9]+)*"
REFERENCE = (rf"(?P<name>(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*)"
             r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9._-]{0,127}))?(?:@(?P<digest>sha256:[a-f0-9]{64}))?")
REFERENCE_HINT = "an image reference with a tag or a digest, e.g. repo/name:v1.2.3 or repo/name@sha256:<64 hex>"


@dataclass(frozen=True)
class ImagesSpec:
    overrides: dict = field(default_factory=dict)    # name -> reference, only what the stack sets

    def get(self, name: str, default: Optional[str] = None) -> Optional[str]:
        if name not in IMAGES:
            raise KeyError(f"{name!r} is not in spec.images.IMAGES")
        return self.overrides.get(name) or default or IMAGES[name][1]


def problem(reference: str) -> Optional[str]:
    """Why `reference` cannot be an override, or None."""
    m = re.fullmatch(REFERENCE, reference)
    if m is None:
        return f"must be {REFERENCE_HINT}, got {describe(reference)}"
    if not m.group("tag") and not m.group("digest"):
        return f"names no tag or digest (the runtime would pull latest): {REFERENCE_HINT}"
    if m.group("tag") == "latest" and not m.group("digest"):
        return "must be pinned: latest moves with every release; give a release tag or a digest"
    return None


def is_digest(reference: str) -> bool:
    m = re.fullmatch(REFERENCE, reference)
    return bool(m and m.group("digest"))


def read_images(o: Obj) -> ImagesSpec:
    out = {}
    # The stack file's order first (its lines come out in that order), then the names it leaves out: every name is
    # read through the accessor, so the generated config reference lists it.
    names = [str(k) for k in o] + [n for n in IMAGES if n not in o.raw]
    for name in names:
        if name not in IMAGES:
            o.seen.add(name)
            o.error(name, f"is not an image this program renders{nearest(name, IMAGES)}; allowed: "
                          f"{', '.join(IMAGES)} (chart images are pinned by the chart version)")
            continue
        value = o.str(name, None)
        if value is None or not o.valid(name):
            continue
        why = problem(value)
        if why:
            o.reject(name, why)
            continue
        out[name] = value
    return ImagesSpec(out)
