"""Two properties of every shipped stack's rendered output, checked in-process (mutation testing cannot see the
subprocess plan that `make test` runs first, so a misspelt field in any component needs an in-process test to fail):

- every Kubernetes object passes the strict schema of its kind (the cluster's Kubernetes version, or the pinned
  CRD), as `python -m plan --all` checks;
- every cluster-check rule that applies to what the stack renders decides something (pass or fail, not only
  unchecked): a rule that silently stops finding its objects (a misspelt kind) passes nothing and fails nothing;
- every IAM policy document (role trust, inline and queue policies) is well formed: version 2012-10-17, Allow or
  Deny, actions as `service:Action` with a lowercase service prefix (a misspelt action is silently never granted);
- every `resources` block in the Helm values this program passes to a chart is a valid Kubernetes
  ResourceRequirements (a claim template's: storage only): only `requests`, `limits` (and `claims`), resource names
  the scheduler knows, quantities the API server parses, and no request above its limit. A chart copies the block
  into its pods verbatim, so a misspelt key is a silently unset request (found by mutation testing: `MEMORY`
  instead of `memory` planned).
"""
import functools
import json
import re

import pytest

from plan import checks, federation, manifests, validate
from plan.checks import quantity
from plan.checks.context import Context
from plan.runtime import ROOT
from tests.harness import keys_in, run_stack

# The cloud stacks: a federation stack renders objects on its hubs only (tests/test_stack_reference.py checks those).
STACKS = federation.cloud_stacks(ROOT)
plan_of = functools.lru_cache(maxsize=None)(run_stack)
RESOURCES = {"cpu", "memory", "ephemeral-storage", "nvidia.com/gpu"}
VOLUME = {"storage"}                    # a claim template's VolumeResourceRequirements
ADAPTER_RULES = ".rules."               # prometheus-adapter's rules[].resources maps labels to resources


def resource_blocks(value, path=""):
    return keys_in(value, lambda k, v, where: k == "resources" and isinstance(v, dict) and v
                   and ADAPTER_RULES not in where, path)


@pytest.mark.parametrize("stack", STACKS)
def test_helm_resource_blocks_are_valid(stack):
    plan = plan_of(stack)
    seen = 0
    for release in plan.of_type("kubernetes:helm.sh/v3:Release"):
        for where, block in resource_blocks(release.inputs.get("values") or {}, release.name):
            seen += 1
            assert set(block) <= {"requests", "limits", "claims"}, where
            names = VOLUME if ".volumeClaimTemplate." in where else RESOURCES
            for part in ("requests", "limits"):
                assert set(block.get(part) or {}) <= names, f"{where}.{part}: {block.get(part)}"
                for name, q in (block.get(part) or {}).items():
                    assert quantity.parse(q) > 0, f"{where}.{part}.{name}: {q}"
            for name, q in (block.get("requests") or {}).items():
                limit = (block.get("limits") or {}).get(name)
                assert limit is None or quantity.parse(q) <= quantity.parse(limit), f"{where}: {name} {q} > {limit}"
    assert seen >= 2, "no resources block in any chart's values: the walk found nothing to check"


@pytest.mark.parametrize("stack", STACKS)
def test_every_object_validates(stack):
    plan = plan_of(stack)
    objs = plan.manifests
    assert len(objs) > 20
    assert validate.validate_all(objs, plan.spec.cluster.kubernetes_version) == {}


# Rules each stack exercises (tests/test_checks_stacks.py has the ones every stack does), by what it renders.
EVERY = {"admission.extended-resources", "admission.limitrange", "admission.pod-security", "admission.quota",
         "api.poddisruptionbudget", "helm.values", "network.default-deny", "network.model-clients",
         "network.model-isolated", "network.reachable", "references.gpu-metrics", "references.model-metrics",
         "references.monitor", "references.pdb", "references.pod", "references.service", "scheduling.gpu-fit",
         "scheduling.untainted-node", "storage.claims"}
MANAGED = {"api.deployment", "references.scale-target", "scale-from-zero.template"}
PROD = MANAGED | {"api.cel", "scheduling.critical-not-on-spot", "scheduling.model-pools"}
RULES = {
    "dev": MANAGED | {"api.horizontalpodautoscaler", "scheduling.nvidia-daemonsets"},
    "prod": PROD | {"api.scaledobject", "api.statefulset", "scheduling.nvidia-daemonsets"},
    "prod-karpenter": PROD | {"api.scaledobject", "scheduling.nvidia-daemonsets"},
    "gcp-prod": PROD | {"api.horizontalpodautoscaler", "api.inferenceservice", "references.install-order",
                        "references.model-readiness", "scale.initial-size", "scheduling.gke-fallback-order"},
    "azure-prod": PROD | {"api.scaledobject", "scheduling.nvidia-daemonsets"},
    "edge": {"api.statefulset", "scheduling.nvidia-daemonsets"},
}


@pytest.mark.parametrize("stack", STACKS)
def test_every_rule_that_applies_decides(stack):
    plan = plan_of(stack)
    ctx = Context.from_run(plan.result, manifests.objects(plan.resources), plan.spec.cluster.kubernetes_version)
    decided = {c.name for c in checks.run(ctx) if c.verdict != "unchecked"}
    assert EVERY | RULES[stack] <= decided


ACTION = re.compile(r"[a-z0-9-]+:([A-Za-z0-9]+\*?|\*)")


@pytest.mark.parametrize("stack", [s for s in STACKS if s in ("dev", "prod", "prod-karpenter")])
def test_iam_policy_documents_are_well_formed(stack):
    seen = 0
    for r in plan_of(stack).resources:
        for key in ("policy", "assumeRolePolicy"):
            doc = r.inputs.get(key)
            if not (r.type.startswith(("aws:iam/", "aws:sqs/")) and isinstance(doc, str)):
                continue
            seen += 1
            doc = json.loads(doc)
            assert doc["Version"] == "2012-10-17", r.name
            for st in doc["Statement"]:
                assert st["Effect"] in ("Allow", "Deny"), (r.name, st)
                actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                bad = [a for a in actions if not ACTION.fullmatch(a)]
                assert not bad, f"{r.name} {st.get('Sid', '')}: {bad}"
    assert seen >= 5
