"""GPU instance prices, $/hour, per node, with a source and a date per row.

Prices move monthly and differ per region; these are list prices in the region named, as of the date given.
Rows marked `estimate` are this project's reading of the provider's price page at that date and have not been
re-checked against the provider's pricing API; override any of them per stack with `llmfleet:prices`
(e.g. `{"aws/p5.48xlarge": {"onDemand": 55.04, "spot": 24.1}}`).
"""
from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Price:
    on_demand: float
    spot: Optional[float]
    region: str
    as_of: str
    source: str

    def for_capacity(self, capacity: str) -> float:
        if capacity == "spot" and self.spot is not None:
            return self.spot
        # Reserved capacity is paid up front; its hourly equivalent is at most the on-demand price.
        return self.on_demand


_AWS = "AWS EC2 on-demand/spot pricing pages, us-east-1"
_GCP = "GCP Compute Engine GPU pricing page, us-central1"
_AZ = "Azure VM pricing page, East US, Linux"

PRICES: dict[str, Price] = {
    # AWS. p5en: observed in shared/FACTS.md (Aug 2026). p5/p4d/p4de: list prices after AWS's June 2025 cut.
    "aws/p5en.48xlarge": Price(63.296, 26.9, "us-east-1", "2026-08", "shared/FACTS.md (observed)"),
    "aws/p5e.48xlarge": Price(60.0, 25.2, "us-east-2", "2026-08", _AWS + " (estimate)"),
    "aws/p5.48xlarge": Price(55.04, 23.1, "us-east-1", "2026-08", _AWS + " (estimate, after June 2025 cut)"),
    "aws/p5.4xlarge": Price(6.88, 2.9, "us-east-1", "2026-08", _AWS + " (estimate)"),
    "aws/p4de.24xlarge": Price(27.45, 11.5, "us-east-1", "2026-08", _AWS + " (estimate)"),
    "aws/p4d.24xlarge": Price(21.96, 9.2, "us-east-1", "2026-08", _AWS + " (estimate)"),
    "aws/g5.xlarge": Price(1.006, 0.42, "us-east-1", "2026-08", _AWS + " (estimate)"),
    "aws/g5.2xlarge": Price(1.212, 0.51, "us-east-1", "2026-08", _AWS + " (estimate)"),
    "aws/g5.12xlarge": Price(5.672, 2.38, "us-east-1", "2026-08", _AWS + " (estimate)"),
    "aws/g5.48xlarge": Price(16.288, 6.84, "us-east-1", "2026-08", _AWS + " (estimate)"),
    "aws/g6.xlarge": Price(0.805, 0.34, "us-east-1", "2026-08", _AWS + " (estimate)"),
    "aws/g6.12xlarge": Price(4.602, 1.93, "us-east-1", "2026-08", _AWS + " (estimate)"),
    "aws/g6.48xlarge": Price(13.35, 5.6, "us-east-1", "2026-08", _AWS + " (estimate)"),
    "aws/g6e.xlarge": Price(1.861, 0.78, "us-east-1", "2026-08", _AWS + " (estimate)"),
    "aws/g6e.12xlarge": Price(10.493, 4.41, "us-east-1", "2026-08", _AWS + " (estimate)"),
    "aws/g6e.48xlarge": Price(30.131, 12.65, "us-east-1", "2026-08", _AWS + " (estimate)"),
    # GCP (machine + attached GPUs, per node).
    "gcp/a2-highgpu-1g": Price(3.67, 1.47, "us-central1", "2026-08", _GCP + " (estimate)"),
    "gcp/a2-highgpu-2g": Price(7.35, 2.94, "us-central1", "2026-08", _GCP + " (estimate)"),
    "gcp/a2-highgpu-4g": Price(14.69, 5.88, "us-central1", "2026-08", _GCP + " (estimate)"),
    "gcp/a2-highgpu-8g": Price(29.39, 11.76, "us-central1", "2026-08", _GCP + " (estimate)"),
    "gcp/a2-megagpu-16g": Price(55.74, 22.3, "us-central1", "2026-08", _GCP + " (estimate)"),
    "gcp/a2-ultragpu-1g": Price(5.07, 2.03, "us-central1", "2026-08", _GCP + " (estimate)"),
    "gcp/a2-ultragpu-2g": Price(10.14, 4.06, "us-central1", "2026-08", _GCP + " (estimate)"),
    "gcp/a2-ultragpu-4g": Price(20.28, 8.11, "us-central1", "2026-08", _GCP + " (estimate)"),
    "gcp/a2-ultragpu-8g": Price(40.55, 16.22, "us-central1", "2026-08", _GCP + " (estimate)"),
    "gcp/a3-highgpu-1g": Price(11.06, 3.87, "us-central1", "2026-08", _GCP + " (estimate; spot only)"),
    "gcp/a3-highgpu-2g": Price(22.12, 7.74, "us-central1", "2026-08", _GCP + " (estimate; spot only)"),
    "gcp/a3-highgpu-4g": Price(44.24, 15.48, "us-central1", "2026-08", _GCP + " (estimate; spot only)"),
    "gcp/a3-highgpu-8g": Price(88.25, 30.9, "us-central1", "2026-08", _GCP + " (estimate)"),
    "gcp/a3-megagpu-8g": Price(93.0, 32.6, "us-central1", "2026-08", _GCP + " (estimate)"),
    "gcp/a3-ultragpu-8g": Price(84.8, 29.7, "us-central1", "2026-08", _GCP + " (estimate)"),
    "gcp/g2-standard-4": Price(0.71, 0.28, "us-central1", "2026-08", _GCP + " (estimate)"),
    "gcp/g2-standard-8": Price(0.85, 0.34, "us-central1", "2026-08", _GCP + " (estimate)"),
    "gcp/g2-standard-24": Price(2.0, 0.8, "us-central1", "2026-08", _GCP + " (estimate)"),
    "gcp/g2-standard-48": Price(4.0, 1.6, "us-central1", "2026-08", _GCP + " (estimate)"),
    "gcp/g2-standard-96": Price(8.0, 3.2, "us-central1", "2026-08", _GCP + " (estimate)"),
    # Azure.
    "azure/Standard_ND96asr_v4": Price(27.20, 10.9, "eastus", "2026-08", _AZ + " (estimate)"),
    "azure/Standard_ND96amsr_A100_v4": Price(32.77, 13.1, "eastus", "2026-08", _AZ + " (estimate)"),
    "azure/Standard_ND96isr_H100_v5": Price(98.32, 39.3, "eastus", "2026-08", _AZ + " (estimate)"),
    "azure/Standard_ND96isr_H200_v5": Price(110.24, 44.1, "eastus", "2026-08", _AZ + " (estimate)"),
    "azure/Standard_NC24ads_A100_v4": Price(3.67, 1.47, "eastus", "2026-08", _AZ + " (estimate)"),
    "azure/Standard_NC48ads_A100_v4": Price(7.35, 2.94, "eastus", "2026-08", _AZ + " (estimate)"),
    "azure/Standard_NC96ads_A100_v4": Price(14.69, 5.88, "eastus", "2026-08", _AZ + " (estimate)"),
    "azure/Standard_NC40ads_H100_v5": Price(6.98, 2.79, "eastus", "2026-08", _AZ + " (estimate)"),
    "azure/Standard_NC80adis_H100_v5": Price(13.96, 5.58, "eastus", "2026-08", _AZ + " (estimate)"),
    "azure/Standard_NC4as_T4_v3": Price(0.526, 0.21, "eastus", "2026-08", _AZ + " (estimate)"),
}

HOURS_PER_MONTH = 730


def price_key(cloud: str, instance_type: str) -> str:
    return f"{cloud}/{instance_type}"
