"""One way to install a pinned chart: every Helm release of the program goes through `chart_release`.

The chart, its version and where it comes from (a Helm repository or an OCI reference) are read from
catalog/versions.py, so a version bump is one line there. Namespaces are created by PlatformBase (or exist, like
kube-system), never by Helm: Pulumi then owns their Pod Security labels.
"""
from typing import Optional, Sequence

import pulumi
import pulumi_kubernetes as k8s
from pulumi import ResourceOptions

from catalog.versions import CHARTS, OCI_CHARTS

DEFAULT_TIMEOUT = 600     # seconds Helm waits for the release's workloads to become ready


def chart_release(res_name: str, chart_key: str, namespace: str, values: dict, *, parent: pulumi.Resource,
                  depends_on: Sequence[pulumi.Resource] = (), timeout: int = DEFAULT_TIMEOUT,
                  release_name: Optional[str] = None) -> k8s.helm.v3.Release:
    chart = CHARTS[chart_key]
    oci = OCI_CHARTS.get(chart_key)
    return k8s.helm.v3.Release(
        res_name,
        name=release_name or chart_key,
        chart=oci or chart.name,
        version=chart.version,
        repository_opts=None if oci else k8s.helm.v3.RepositoryOptsArgs(repo=chart.repo),
        namespace=namespace,
        create_namespace=False,
        values=values,
        timeout=timeout,
        opts=ResourceOptions(parent=parent, depends_on=list(depends_on)))
