"""A kubeconfig for a GKE cluster that holds no credential: kubectl and the Kubernetes provider call
`gke-gcloud-auth-plugin`, which mints a short-lived token from the caller's gcloud / application-default login."""
import json

import pulumi

AUTH_PLUGIN = "gke-gcloud-auth-plugin"
INSTALL_HINT = ("Install gke-gcloud-auth-plugin for kubectl and Pulumi to reach GKE: "
                "gcloud components install gke-gcloud-auth-plugin")


def render(context: str, endpoint: str, ca_certificate: str) -> str:
    """The kubeconfig text (JSON is valid YAML; it is what kubectl and the provider read)."""
    return json.dumps({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": f"https://{endpoint}",
                                                   "certificate-authority-data": ca_certificate}}],
        "users": [{"name": context, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": AUTH_PLUGIN,
            "installHint": INSTALL_HINT,
            "provideClusterInfo": True,
            "interactiveMode": "Never",
        }}}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
    }, indent=2)


def kubeconfig(context: str, endpoint: pulumi.Input[str], ca_certificate: pulumi.Input[str]) -> pulumi.Output:
    """Secret: the endpoint and CA are not credentials, but a kubeconfig is handled as one everywhere."""
    return pulumi.Output.secret(
        pulumi.Output.all(endpoint, ca_certificate).apply(lambda a: render(context, a[0], a[1])))
