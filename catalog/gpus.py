"""GPU models and the instance / machine / VM types that carry them, per cloud.

Sources (read 2026-08 to 2026-11): AWS EC2 accelerated-computing instance pages; GCP "GPU machine types" (A2, A3, G2);
Azure "ND/NC family" VM size pages; NVIDIA MIG User Guide (supported profiles per GPU); the project's
shared/FACTS.md (memory as nvidia-smi reports it, in MiB). Region availability is not knowable offline: the
`regions` column lists regions where the type was documented, not a guarantee of capacity.

Sizing does not use the nvidia-smi figure: vLLM 0.33.0 budgets `ceil(total_memory * gpu_memory_utilization)`
where total_memory is what torch sees (`vllm/v1/worker/utils.py` request_memory, from the MemorySnapshot taken with
torch's mem_get_info), a few hundred MiB below nvidia-smi's total (the driver's reservation). `torch_memory_mib`
carries that figure with its source; where no vLLM log of the part was found it is the nvidia-smi figure minus the
largest reservation seen on a measured part of the same memory class (marked "derived"; check on a node with
`python -c "import torch; print(torch.cuda.mem_get_info()[1] / 2**20)"`).
"""
from dataclasses import dataclass, field
from typing import Optional

AS_OF = "2026-11"


@dataclass(frozen=True)
class GpuModel:
    key: str                      # our stable name, used in stack config (`gpu: h100-80gb`)
    display: str
    memory_mib: int               # as nvidia-smi reports it; sizing uses this
    family: str                   # GPU Feature Discovery `nvidia.com/gpu.family`
    mig_profiles: tuple[str, ...] = ()   # NVIDIA MIG profile names (GI size . memory), empty = no MIG
    torch_memory_mib: int = 0     # what torch (and so vLLM) sees as the GPU's total; see the module docstring
    # KAITO's model-independent per-GPU runtime reserve (pkg/workspace/estimator/budget.go: BaseOverheadGiB 2.3,
    # overridden to 1.5 for the 24 GB "NVIDIA A10"); sizing/estimate.py adds the weight-scaled part.
    overhead_base_gib: float = 2.3

    @property
    def memory_gib(self) -> float:
        return self.memory_mib / 1024

    @property
    def torch_bytes(self) -> int:
        return (self.torch_memory_mib or self.memory_mib) * 1024 ** 2


# torch-visible totals. Measured: vLLM startup logs of 80 GB parts print `total_gpu_memory` between 79.14 and
# 79.33 GiB (e.g. vllm-project/vllm PR #10511: 79.22 GiB; public logs with 79.14 and 79.15 GiB); both 80 GB parts
# take the lowest, 79.14 GiB = 81039 MiB. Derived: nvidia-smi x 0.989, the same 1.1% reservation (unverified).
_80GB_TORCH_MIB = 81039


def _derived(nvidia_smi_mib: int) -> int:
    return round(nvidia_smi_mib * 0.989)


GPUS: dict[str, GpuModel] = {g.key: g for g in (
    GpuModel("a100-40gb", "A100 SXM4 40GB", 40960, "ampere",
             ("1g.5gb", "1g.5gb+me", "1g.10gb", "2g.10gb", "3g.20gb", "4g.20gb", "7g.40gb"), _derived(40960)),
    GpuModel("a100-80gb", "A100 80GB", 81920, "ampere",
             ("1g.10gb", "1g.10gb+me", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"), _80GB_TORCH_MIB),
    GpuModel("h100-80gb", "H100 80GB HBM3", 81559, "hopper",
             ("1g.10gb", "1g.10gb+me", "1g.20gb", "2g.20gb", "3g.40gb", "4g.40gb", "7g.80gb"), _80GB_TORCH_MIB),
    # H100 NVL memory as nvidia-smi reports it is not in FACTS.md ("verify"); 95830 MiB is NVIDIA's H100 NVL
    # product brief figure (94 GB usable). Unverified on a real NC H100 v5 VM.
    GpuModel("h100-nvl-94gb", "H100 NVL 94GB", 95830, "hopper",
             ("1g.12gb", "1g.12gb+me", "1g.24gb", "2g.24gb", "3g.47gb", "4g.47gb", "7g.94gb"), _derived(95830)),
    GpuModel("h200-141gb", "H200 141GB", 143771, "hopper",
             ("1g.18gb", "1g.18gb+me", "1g.35gb", "2g.35gb", "3g.71gb", "4g.71gb", "7g.141gb"), _derived(143771)),
    # A10G is AWS's A10 (same 24 GB GA102 part): KAITO's lower 1.5 GiB base for "NVIDIA A10" applies. The L4 keeps
    # the default base: KAITO has no figure for it.
    GpuModel("a10g-24gb", "A10G 24GB", 23028, "ampere", (), _derived(23028), overhead_base_gib=1.5),
    GpuModel("l4-24gb", "L4 24GB", 23034, "ada-lovelace", (), _derived(23034)),
    GpuModel("l40s-48gb", "L40S 48GB", 46068, "ada-lovelace", (), _derived(46068)),
    GpuModel("t4-16gb", "T4 16GB", 15360, "turing", (), _derived(15360)),
)}


@dataclass(frozen=True)
class InstanceType:
    cloud: str                    # aws | gcp | azure
    name: str                     # the cloud's own type name
    gpu: str                      # GpuModel.key
    gpus: int
    vcpus: int
    memory_gib: int
    interconnect: str
    regions: tuple[str, ...] = ()
    # GKE: the guest_accelerator type string; others: None
    accelerator: Optional[str] = None
    notes: str = ""
    capacity: tuple[str, ...] = field(default=("on-demand", "spot"))

    @property
    def gpu_model(self) -> GpuModel:
        return GPUS[self.gpu]


def _aws(name, gpu, gpus, vcpus, mem, ic, regions=("us-east-1", "us-east-2", "us-west-2"), notes="", capacity=None):
    return InstanceType("aws", name, gpu, gpus, vcpus, mem, ic, regions, None, notes,
                        capacity or ("on-demand", "spot", "reserved"))


def _gcp(name, gpu, acc, gpus, vcpus, mem, ic, regions=("us-central1", "us-east4", "europe-west4"), notes="",
         capacity=None):
    return InstanceType("gcp", name, gpu, gpus, vcpus, mem, ic, regions, acc, notes,
                        capacity or ("on-demand", "spot", "reserved"))


def _az(name, gpu, gpus, vcpus, mem, ic, regions=("eastus", "westus3", "southcentralus"), notes=""):
    # AKS has no per-pool reservation knob: reserved instances are a billing construct, not a pool setting.
    return InstanceType("azure", name, gpu, gpus, vcpus, mem, ic, regions, None, notes, ("on-demand", "spot"))


_NVSWITCH = "NVLink/NVSwitch"
INSTANCE_TYPES: dict[tuple[str, str], InstanceType] = {(t.cloud, t.name): t for t in (
    # AWS P family (ML) — P4d/P4de/P5/P5e/P5en; EFA counts from the EC2 instance pages.
    _aws("p4d.24xlarge", "a100-40gb", 8, 96, 1152, _NVSWITCH + ", 4x100 Gbps EFA"),
    _aws("p4de.24xlarge", "a100-80gb", 8, 96, 1152, _NVSWITCH + ", 4x100 Gbps EFA", ("us-east-1", "us-west-2")),
    _aws("p5.48xlarge", "h100-80gb", 8, 192, 2048, _NVSWITCH + ", 32 EFA (3200 Gbps)"),
    _aws("p5.4xlarge", "h100-80gb", 1, 16, 256, "PCIe, 1 EFA", ("us-east-1",), "single-GPU P5: verify region"),
    _aws("p5e.48xlarge", "h200-141gb", 8, 192, 2048, _NVSWITCH + ", 32 EFA (3200 Gbps)", ("us-east-2",)),
    _aws("p5en.48xlarge", "h200-141gb", 8, 192, 2048, _NVSWITCH + ", 16 EFAv3 (3200 Gbps)",
         ("us-east-1", "us-east-2", "us-west-2")),
    # AWS G family (dev sizes)
    _aws("g5.xlarge", "a10g-24gb", 1, 4, 16, "PCIe"),
    _aws("g5.2xlarge", "a10g-24gb", 1, 8, 32, "PCIe"),
    _aws("g5.12xlarge", "a10g-24gb", 4, 48, 192, "PCIe"),
    _aws("g5.48xlarge", "a10g-24gb", 8, 192, 768, "PCIe"),
    _aws("g6.xlarge", "l4-24gb", 1, 4, 16, "PCIe"),
    _aws("g6.12xlarge", "l4-24gb", 4, 48, 192, "PCIe"),
    _aws("g6.48xlarge", "l4-24gb", 8, 192, 768, "PCIe"),
    _aws("g6e.xlarge", "l40s-48gb", 1, 4, 32, "PCIe"),
    _aws("g6e.12xlarge", "l40s-48gb", 4, 48, 384, "PCIe"),
    _aws("g6e.48xlarge", "l40s-48gb", 8, 192, 1536, "PCIe"),
    # GCP A2 / A3 / G2; accelerator strings are GKE's `guest_accelerator.type`.
    _gcp("a2-highgpu-1g", "a100-40gb", "nvidia-tesla-a100", 1, 12, 85, "PCIe/NVLink"),
    _gcp("a2-highgpu-2g", "a100-40gb", "nvidia-tesla-a100", 2, 24, 170, _NVSWITCH),
    _gcp("a2-highgpu-4g", "a100-40gb", "nvidia-tesla-a100", 4, 48, 340, _NVSWITCH),
    _gcp("a2-highgpu-8g", "a100-40gb", "nvidia-tesla-a100", 8, 96, 680, _NVSWITCH),
    _gcp("a2-megagpu-16g", "a100-40gb", "nvidia-tesla-a100", 16, 96, 1360, _NVSWITCH),
    _gcp("a2-ultragpu-1g", "a100-80gb", "nvidia-a100-80gb", 1, 12, 170, "PCIe/NVLink"),
    _gcp("a2-ultragpu-2g", "a100-80gb", "nvidia-a100-80gb", 2, 24, 340, _NVSWITCH),
    _gcp("a2-ultragpu-4g", "a100-80gb", "nvidia-a100-80gb", 4, 48, 680, _NVSWITCH),
    _gcp("a2-ultragpu-8g", "a100-80gb", "nvidia-a100-80gb", 8, 96, 1360, _NVSWITCH),
    # Small A3 High sizes are documented for Spot / flex-start only (FACTS.md: verify).
    _gcp("a3-highgpu-1g", "h100-80gb", "nvidia-h100-80gb", 1, 26, 234, "PCIe/NVLink", notes="spot/flex-start only",
         capacity=("spot",)),
    _gcp("a3-highgpu-2g", "h100-80gb", "nvidia-h100-80gb", 2, 52, 468, _NVSWITCH, notes="spot/flex-start only",
         capacity=("spot",)),
    _gcp("a3-highgpu-4g", "h100-80gb", "nvidia-h100-80gb", 4, 104, 936, _NVSWITCH, notes="spot/flex-start only",
         capacity=("spot",)),
    _gcp("a3-highgpu-8g", "h100-80gb", "nvidia-h100-80gb", 8, 208, 1872, _NVSWITCH + ", 4x200 Gbps NICs"),
    _gcp("a3-megagpu-8g", "h100-80gb", "nvidia-h100-mega-80gb", 8, 208, 1872, _NVSWITCH + ", GPUDirect-TCPXO"),
    _gcp("a3-ultragpu-8g", "h200-141gb", "nvidia-h200-141gb", 8, 224, 2952, _NVSWITCH + ", GPUDirect RDMA"),
    _gcp("g2-standard-4", "l4-24gb", "nvidia-l4", 1, 4, 16, "PCIe"),
    _gcp("g2-standard-8", "l4-24gb", "nvidia-l4", 1, 8, 32, "PCIe"),
    _gcp("g2-standard-24", "l4-24gb", "nvidia-l4", 2, 24, 96, "PCIe"),
    _gcp("g2-standard-48", "l4-24gb", "nvidia-l4", 4, 48, 192, "PCIe"),
    _gcp("g2-standard-96", "l4-24gb", "nvidia-l4", 8, 96, 384, "PCIe"),
    # Azure ND / NC. Trap (FACTS.md): the A100 40GB ND size is Standard_ND96asr_v4, not "..._A100_v4".
    _az("Standard_ND96asr_v4", "a100-40gb", 8, 96, 900, _NVSWITCH + ", 8x200 Gb/s InfiniBand"),
    _az("Standard_ND96amsr_A100_v4", "a100-80gb", 8, 96, 1900, _NVSWITCH + ", 8x200 Gb/s InfiniBand"),
    _az("Standard_ND96isr_H100_v5", "h100-80gb", 8, 96, 1900, _NVSWITCH + ", 8x400 Gb/s InfiniBand"),
    _az("Standard_ND96isr_H200_v5", "h200-141gb", 8, 96, 1850, _NVSWITCH + ", 8x400 Gb/s InfiniBand"),
    _az("Standard_NC24ads_A100_v4", "a100-80gb", 1, 24, 220, "PCIe"),
    _az("Standard_NC48ads_A100_v4", "a100-80gb", 2, 48, 440, "PCIe"),
    _az("Standard_NC96ads_A100_v4", "a100-80gb", 4, 96, 880, "PCIe"),
    _az("Standard_NC40ads_H100_v5", "h100-nvl-94gb", 1, 40, 320, "PCIe"),
    _az("Standard_NC80adis_H100_v5", "h100-nvl-94gb", 2, 80, 640, "NVLink bridge"),
    _az("Standard_NC4as_T4_v3", "t4-16gb", 1, 4, 28, "PCIe"),
)}

CLOUDS = ("aws", "gcp", "azure")


def instance(cloud: str, name: str) -> Optional[InstanceType]:
    return INSTANCE_TYPES.get((cloud, name))


def instances_for(cloud: str, gpu: Optional[str] = None, gpus: Optional[int] = None) -> list[InstanceType]:
    return [t for t in INSTANCE_TYPES.values()
            if t.cloud == cloud and (gpu is None or t.gpu == gpu) and (gpus is None or t.gpus == gpus)]
