"""Small builders for cluster-check unit tests: objects, recorded cloud resources and a Context around them."""
import copy
from typing import Optional

from plan.checks import Check
from plan.checks.context import Context
from plan.runtime import Recorded

NS = "llm-serving"


def namespace(name=NS, enforce="baseline") -> dict:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"pod-security.kubernetes.io/enforce": enforce}}}


def limitrange(default=None, default_request=None, ns=NS, **extra) -> dict:
    item = {"type": "Container"}
    if default:
        item["default"] = default
    if default_request:
        item["defaultRequest"] = default_request
    item.update(extra)
    return {"apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "lr", "namespace": ns},
            "spec": {"limits": [item]}}


def container(name="app", requests=None, limits=None, **extra) -> dict:
    c = {"name": name, "image": "x:1", "resources": {}}
    if requests:
        c["resources"]["requests"] = requests
    if limits:
        c["resources"]["limits"] = limits
    c.update(extra)
    return c


def deployment(name="m", containers=None, ns=NS, labels=None, replicas=1, **pod) -> dict:
    labels = labels or {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": dict({"containers": containers or [container()]}, **pod)}}}


def gpu_pod(name="m", gpus=1, pool="h100", tolerate=True, resource="nvidia.com/gpu", **pod) -> dict:
    spec = {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "llmfleet.io/pool", "operator": "In", "values": [pool]}]}]}}}}
    if tolerate:
        spec["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    spec.update(pod)
    res = {resource: str(gpus)}
    return deployment(name, [container("vllm", requests=dict(res, cpu="4"), limits=dict(res, cpu="4"))],
                      labels={"app": name, "llmfleet.io/model": name}, **spec)


def rec(type_: str, name: str, inputs: dict, deps=(), parent="") -> Recorded:
    return Recorded(type_, name, f"urn:pulumi:t::p::{type_}::{name}", parent, True, copy.deepcopy(inputs),
                    dependencies=list(deps))


def eks_group(name, capacity="ON_DEMAND", itype="p5.48xlarge", labels=None, taints=None, min_size=1) -> Recorded:
    return rec("aws:eks/nodeGroup:NodeGroup", name, {
        "nodeGroupName": name, "capacityType": capacity, "instanceTypes": [itype], "amiType": "AL2023_x86_64_NVIDIA",
        "labels": labels if labels is not None else {"llmfleet.io/pool": "h100"},
        "taints": taints if taints is not None else [{"key": "nvidia.com/gpu", "value": "present",
                                                      "effect": "NO_SCHEDULE"}],
        "scalingConfig": {"minSize": min_size, "maxSize": 4, "desiredSize": min_size}})


def asg_tag(group: Recorded, key: str, value: str) -> Recorded:
    return rec("aws:autoscaling/tag:Tag", f"{group.name}-{key}", {
        "autoscalingGroupName": f"eks-{group.name}", "tag": {"key": key, "value": value, "propagateAtLaunch": False}},
        deps=[group.urn])


def ctx(objects, cloud="aws", resources=(), descriptors=(), models=()) -> Context:
    return Context(cloud, "1.34", list(objects), list(resources), list(descriptors), list(models))


def verdicts(checks: list[Check], name: str, obj: Optional[str] = None) -> list[Check]:
    found = [c for c in checks if c.name == name and (obj is None or c.object.startswith(obj))]
    assert found, f"no {name} check for {obj}: the rule did not look at it"
    return found


def failed(checks, name, obj=None) -> list[str]:
    return [c.message for c in verdicts(checks, name, obj) if c.verdict == "fail"]
