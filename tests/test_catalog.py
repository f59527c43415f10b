from catalog.gpus import GPUS, INSTANCE_TYPES, instance
from catalog.models import MODELS
from catalog.prices import PRICES, price_key
from catalog.versions import CHARTS, DEFAULT_KUBERNETES_VERSION, KUBERNETES_VERSIONS


def test_every_instance_type_has_a_dated_price_with_a_source():
    for (cloud, name) in INSTANCE_TYPES:
        price = PRICES[price_key(cloud, name)]
        assert price.on_demand > 0 and price.as_of.startswith("20") and price.source
        if price.spot is not None:
            assert price.spot < price.on_demand, name


def test_facts_md_instance_rows():
    assert (instance("aws", "p4d.24xlarge").gpu, instance("aws", "p4d.24xlarge").gpus) == ("a100-40gb", 8)
    assert instance("aws", "p4de.24xlarge").gpu == "a100-80gb"
    assert instance("aws", "p5.48xlarge").gpu_model.memory_mib == 81559
    assert instance("aws", "p5en.48xlarge").gpu_model.memory_mib == 143771
    assert instance("gcp", "a3-megagpu-8g").accelerator == "nvidia-h100-mega-80gb"
    assert instance("gcp", "a3-ultragpu-8g").accelerator == "nvidia-h200-141gb"
    assert instance("gcp", "a2-highgpu-8g").accelerator == "nvidia-tesla-a100"
    assert instance("gcp", "a2-ultragpu-1g").accelerator == "nvidia-a100-80gb"
    assert instance("gcp", "a3-highgpu-1g").capacity == ("spot",)
    assert instance("azure", "Standard_ND96asr_v4").gpu == "a100-40gb"
    # The widely copied wrong spelling of the A100 40GB ND size is not in the catalog.
    assert instance("azure", "Standard_ND96asr_A100_v4") is None
    assert instance("azure", "Standard_ND96amsr_A100_v4").gpu == "a100-80gb"
    assert instance("azure", "Standard_NC80adis_H100_v5").gpus == 2


def test_gke_accelerator_strings_only_on_gcp():
    for (cloud, _), t in INSTANCE_TYPES.items():
        assert (t.accelerator is not None) == (cloud == "gcp")


def test_mig_profiles_only_on_mig_gpus():
    assert GPUS["a100-40gb"].mig_profiles[0] == "1g.5gb"
    assert "7g.80gb" in GPUS["h100-80gb"].mig_profiles
    assert GPUS["l4-24gb"].mig_profiles == () and GPUS["a10g-24gb"].mig_profiles == ()


def test_model_architecture_facts():
    m = MODELS["llama-3.1-70b"]
    assert (m.params_b, m.layers, m.kv_heads, m.head_dim, m.attention_heads) == (70.6, 80, 8, 128, 64)
    assert MODELS["llama-2-7b"].kv_heads == 32  # no GQA
    assert MODELS["qwen2.5-7b"].attention_heads == 28


def test_versions_in_one_place():
    assert DEFAULT_KUBERNETES_VERSION in KUBERNETES_VERSIONS
    assert CHARTS["gpu-operator"].version == "v26.7.0"
    for chart in CHARTS.values():
        assert chart.version and "latest" not in chart.version
