"""Issue 16 item 3: the Hugging Face token from the cloud's vault (ESO with workload identity) or Sealed Secrets;
the wiring between the cloud identity, the ServiceAccount, the SecretStore, the ExternalSecret and the pods."""
import json

import pytest

from plan import manifests
from plan.checks import Check, references, secrets
from plan.checks.context import Context
from tests.harness import config_error, run_config, run_stack
from tests.test_serving import H100_POOL, SECRETS

GATED = {"cloud": "existing", "gpuPools": [H100_POOL], "models": [{"name": "m", "model": "llama-3.1-8b"}]}
# A stand-in for `kubeseal --raw` output: base64, as long as a 4096-bit RSA-wrapped session key and a payload.
CIPHERTEXT = "AgB" + "x" * 740 + "=="


@pytest.fixture(scope="module")
def aws():
    return run_stack("prod")


@pytest.fixture(scope="module")
def gcp():
    return run_stack("gcp-prod")


@pytest.fixture(scope="module")
def azure():
    return run_stack("azure-prod")


def pod_secret_refs(p, namespace="llm-serving") -> set:
    """The Secret behind every model container's token file: HF_TOKEN_PATH names a file in a mounted Secret
    volume, whose key HF_TOKEN is that file. No container carries the token as an env var."""
    out = set()
    for pod in Context("x", "1.34", p.manifests).pods:
        if pod.namespace != namespace:
            continue
        volumes = {v["name"]: v for v in pod.spec.get("volumes") or []}
        for c in pod.containers():
            env = {e["name"]: e for e in c.get("env") or []}
            assert "HF_TOKEN" not in env, pod.owner
            if "HF_TOKEN_PATH" not in env:
                continue
            directory, _, file = env["HF_TOKEN_PATH"]["value"].rpartition("/")
            (mount,) = [m for m in c["volumeMounts"] if m["mountPath"] == directory]
            secret = volumes[mount["name"]]["secret"]
            assert mount["readOnly"] is True and secret["items"] == [{"key": "HF_TOKEN", "path": file}]
            out.add(secret["secretName"])
    return out


def external_secret_wiring(p):
    es = p.manifest("ExternalSecret", "hf-token-vault", "llm-serving")
    store = p.manifest("SecretStore", "llmfleet-vault", "llm-serving")
    sa = p.manifest("ServiceAccount", "llmfleet-secrets", "llm-serving")
    assert es["spec"]["secretStoreRef"] == {"name": "llmfleet-vault", "kind": "SecretStore"}
    assert es["spec"]["target"]["name"] == "hf-token-vault" and es["spec"]["target"]["creationPolicy"] == "Owner"
    # `up` waits for the first sync rather than starting pods that cannot read their Secret.
    assert es["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Ready"
    assert [d["secretKey"] for d in es["spec"]["data"]] == ["HF_TOKEN"]
    # The pods read exactly the Secret the ExternalSecret writes; no Pulumi-made token Secret exists.
    assert pod_secret_refs(p) == {"hf-token-vault"}
    assert not [m for m in p.manifests if m["kind"] == "Secret" and m["metadata"]["name"].startswith("hf-token")]
    assert sa["automountServiceAccountToken"] is False
    return es, store, sa


def test_aws_vault_entry_irsa_role_and_store_are_wired(aws):
    es, store, sa = external_secret_wiring(aws)
    vault = aws.one("llmfleet:aws:AwsVault")
    kids = sorted((r.type, r.name) for r in aws.children_of(vault))
    assert kids == [("aws:iam/role:Role", "llm-prod-vault-reader"),
                    ("aws:iam/rolePolicy:RolePolicy", "llm-prod-vault-reader-policy"),
                    ("aws:secretsmanager/secret:Secret", "llm-prod-vault-hf-token"),
                    ("aws:secretsmanager/secretVersion:SecretVersion", "llm-prod-vault-hf-token-value")]
    entry = aws.one("aws:secretsmanager/secret:Secret")
    assert entry.inputs["name"] == "llmfleet/llm-prod/hf-token" == es["spec"]["data"][0]["remoteRef"]["key"]
    assert entry.inputs["recoveryWindowInDays"] == 30          # prod keeps the longest recovery window
    assert aws.one("aws:secretsmanager/secretVersion:SecretVersion").inputs["secretString"] == "[secret]"
    role = aws.one("aws:iam/role:Role", "llm-prod-vault-reader")
    trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    oidc = aws.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    assert len(trust) == 1 and trust[0]["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust[0]["Principal"] == {"Federated": f"arn:aws:iam::000000000000:oidc-provider/"
                                                  f"{oidc.inputs['url'].removeprefix('https://')}"}
    cond = trust[0]["Condition"]["StringEquals"]
    host = oidc.inputs["url"].removeprefix("https://")
    # The IAM binding's subject is the ServiceAccount the SecretStore authenticates as.
    assert cond == {f"{host}:sub": "system:serviceaccount:llm-serving:llmfleet-secrets", f"{host}:aud": "sts.amazonaws.com"}
    assert store["spec"]["provider"] == {"aws": {"service": "SecretsManager", "region": "us-east-1", "auth": {
        "jwt": {"serviceAccountRef": {"name": sa["metadata"]["name"]}}}}}
    assert sa["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::000000000000:role/llm-prod-secrets-reader"}
    assert role.inputs["name"] == "llm-prod-secrets-reader"
    policy = json.loads(aws.one("aws:iam/rolePolicy:RolePolicy", "llm-prod-vault-reader-policy").inputs["policy"])
    assert policy["Statement"] == [{"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue",
                                                                   "secretsmanager:DescribeSecret"],
                                    "Resource": "arn:aws:secretsmanager:us-east-1:000000000000:secret:"
                                                "llmfleet/llm-prod/hf-token-AbCdEf"}]


def test_eso_chart_order_and_network(aws):
    rel = aws.one("kubernetes:helm.sh/v3:Release", "llm-prod-vault-sync-eso")
    assert (rel.inputs["chart"], rel.inputs["version"], rel.inputs["namespace"], rel.inputs["name"]) == \
        ("external-secrets", "2.9.0", "llm-system", "external-secrets")
    assert rel.inputs["repositoryOpts"]["repo"] == "https://charts.external-secrets.io"
    assert rel.inputs["values"]["processClusterStore"] is False and rel.inputs["values"]["installCRDs"] is True
    store = aws.one("kubernetes:external-secrets.io/v1:SecretStore")
    es = aws.one("kubernetes:external-secrets.io/v1:ExternalSecret")
    assert aws.waits_for(store, rel) and aws.waits_for(es, store)
    # ESO's first read needs the entry, the role and its policy.
    for t, n in (("aws:secretsmanager/secretVersion:SecretVersion", None),
                 ("aws:iam/rolePolicy:RolePolicy", "llm-prod-vault-reader-policy")):
        assert aws.waits_for(store, aws.one(t, n)) or aws.waits_for(rel, aws.one(t, n))
    model = aws.one("kubernetes:apps/v1:StatefulSet")
    assert aws.waits_for(model, es)
    hook = aws.manifest("NetworkPolicy", "allow-webhook-external-secrets-ingress", "llm-system")
    assert hook["spec"]["ingress"] == [{"ports": [{"protocol": "TCP", "port": 10250}]}]


def test_gcp_secret_manager_gsa_and_workload_identity_binding(gcp):
    es, store, sa = external_secret_wiring(gcp)
    secret = gcp.one("gcp:secretmanager/secret:Secret")
    assert secret.inputs["secretId"] == "llm-gcp-prod-hf-token" == es["spec"]["data"][0]["remoteRef"]["key"]
    assert gcp.one("gcp:secretmanager/secretVersion:SecretVersion").inputs["secretData"] == "[secret]"
    gsa = gcp.one("gcp:serviceaccount/account:Account", "llm-gcp-prod-vault-reader")
    email = f"{gsa.inputs['accountId']}@example-llmfleet-prod.iam.gserviceaccount.com"
    accessor = gcp.one("gcp:secretmanager/secretIamMember:SecretIamMember")
    assert (accessor.inputs["role"], accessor.inputs["member"], accessor.inputs["secretId"]) == \
        ("roles/secretmanager.secretAccessor", f"serviceAccount:{email}", "llm-gcp-prod-hf-token")
    wi = gcp.one("gcp:serviceaccount/iAMMember:IAMMember")
    assert (wi.inputs["role"], wi.inputs["member"]) == \
        ("roles/iam.workloadIdentityUser", "serviceAccount:example-llmfleet-prod.svc.id.goog[llm-serving/llmfleet-secrets]")
    assert wi.inputs["serviceAccountId"].endswith(email)
    assert sa["metadata"]["annotations"] == {"iam.gke.io/gcp-service-account": email}
    assert store["spec"]["provider"] == {"gcpsm": {"projectID": "example-llmfleet-prod", "auth": {"workloadIdentity": {
        "clusterLocation": "us-central1", "clusterName": "llm-gcp-prod", "clusterProjectID": "example-llmfleet-prod",
        "serviceAccountRef": {"name": "llmfleet-secrets"}}}}}
    api = gcp.one("gcp:projects/service:Service", "llm-gcp-prod-vault-secretmanager-api")
    assert api.inputs["service"] == "secretmanager.googleapis.com" and gcp.waits_for(secret, api)
    # The cluster's workload pool is the one the binding names.
    assert gcp.one("gcp:container/cluster:Cluster").inputs["workloadIdentityConfig"]["workloadPool"] == \
        "example-llmfleet-prod.svc.id.goog"


def test_kserve_storage_initializer_gets_the_synced_secret(gcp):
    isvc = gcp.manifest("InferenceService", "llama-8b", "llm-serving")
    assert isvc["spec"]["predictor"]["serviceAccountName"] == "kserve-hf"
    sa = gcp.manifest("ServiceAccount", "kserve-hf", "llm-serving")
    assert sa["secrets"] == [{"name": "hf-token-vault"}]
    # The check reads the keys the ExternalSecret writes, as it reads a plain Secret's.
    ctx = Context.from_run(gcp.result, manifests.objects(gcp.resources), "1.34")
    assert secrets.secret_keys(ctx, "llm-serving", "hf-token-vault") == {"HF_TOKEN"}
    assert secrets.secret_keys(ctx, "llm-serving", "hf-token") == set()


def test_azure_key_vault_identity_federation_and_role(azure):
    es, store, sa = external_secret_wiring(azure)
    vault = azure.one("azure-native:keyvault:Vault")
    props = vault.inputs["properties"]
    assert props["enableRbacAuthorization"] is True and props["enablePurgeProtection"] is True
    name = vault.inputs["vaultName"]
    assert 3 <= len(name) <= 24 and name.startswith("kvllmazureprod-")
    secret = azure.one("azure-native:keyvault:Secret")
    assert secret.inputs["secretName"] == "hf-token" == es["spec"]["data"][0]["remoteRef"]["key"]
    assert secret.inputs["properties"]["value"] == "[secret]"
    identity = azure.one("azure-native:managedidentity:UserAssignedIdentity", "llm-azure-prod-vault-reader")
    fed = azure.one("azure-native:managedidentity:FederatedIdentityCredential")
    aks = azure.one("azure-native:containerservice:ManagedCluster")
    assert (fed.inputs["subject"], fed.inputs["audiences"], fed.inputs["issuer"]) == \
        ("system:serviceaccount:llm-serving:llmfleet-secrets", ["api://AzureADTokenExchange"],
         f"https://oidc.example.invalid/{aks.inputs['resourceName']}/")
    assert fed.inputs["resourceName"] == identity.inputs["resourceName"]
    grant = azure.one("azure-native:authorization:RoleAssignment", "llm-azure-prod-vault-reader-secrets-user")
    assert grant.inputs["roleDefinitionId"].endswith("/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6")
    assert grant.inputs["scope"] == f"{vault.name}-id" and identity.urn in grant.dependencies
    assert store["spec"]["provider"]["azurekv"] == {
        "authType": "WorkloadIdentity", "tenantId": "00000000-0000-0000-0000-000000000001",
        "vaultUrl": f"https://{name}.vault.example.invalid/", "serviceAccountRef": {"name": "llmfleet-secrets"}}
    assert set(sa["metadata"]["annotations"]) == {"azure.workload.identity/client-id",
                                                  "azure.workload.identity/tenant-id"}


def test_sealed_token_and_controller_on_an_existing_cluster():
    p = run_config({**GATED, "security": {"secrets": {"source": "sealed", "sealed": {"hfToken": CIPHERTEXT}}}},
                   secrets={"kubeconfig": "apiVersion: v1"})
    sealed = p.manifest("SealedSecret", "hf-token-sealed", "llm-serving")
    assert sealed["apiVersion"] == "bitnami.com/v1alpha1"
    assert sealed["spec"]["encryptedData"] == {"HF_TOKEN": CIPHERTEXT}
    assert sealed["spec"]["template"]["metadata"]["name"] == "hf-token-sealed"
    assert pod_secret_refs(p) == {"hf-token-sealed"}
    rel = next(
        r for r in p.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "sealed-secrets")
    assert (rel.inputs["version"], rel.inputs["namespace"], rel.inputs["name"]) == \
        ("2.18.5", "kube-system", "sealed-secrets-controller")
    assert p.waits_for(p.one("kubernetes:bitnami.com/v1alpha1:SealedSecret"), rel)
    ctx = Context.from_run(p.result, manifests.objects(p.resources), "1.34")
    pods = [c for c in references.check(ctx) if c.name == "references.pod"]
    assert pods and all(c.verdict == "pass" for c in pods)
    assert [c.verdict for c in secrets.check(ctx)] == ["pass"]


def test_sealed_with_the_clusters_own_controller_installs_none():
    p = run_config({**GATED, "security": {"secrets": {"source": "sealed",
                                                      "sealed": {"hfToken": CIPHERTEXT, "controller": False}}}},
                   secrets={"kubeconfig": "apiVersion: v1"})
    assert not [r for r in p.of_type("kubernetes:helm.sh/v3:Release") if r.inputs["chart"] == "sealed-secrets"]
    ctx = Context.from_run(p.result, manifests.objects(p.resources), "1.34")
    assert [c.verdict for c in secrets.check(ctx)] == ["unchecked"]


def test_pulumi_source_is_unchanged():
    p = run_config(GATED, secrets=SECRETS)
    assert p.manifest("Secret", "hf-token", "llm-serving")["stringData"] == {"HF_TOKEN": "[secret]"}
    assert pod_secret_refs(p) == {"hf-token"}
    assert not [m for m in p.manifests if m["kind"] in ("ExternalSecret", "SecretStore", "SealedSecret")]


def test_bad_secrets_config_lines():
    lines = config_error({**GATED, "security": {"secrets": {"source": "vault"}}}, secrets=SECRETS)
    assert lines == ["llmfleet:security.secrets.source: vault reads the cloud's secret store through workload "
                     "identity, which an existing cluster does not have: use sealed (a Sealed Secrets ciphertext) "
                     "or pulumi"]
    lines = config_error({**GATED, "security": {"secrets": {"source": "sealed"}}}, secrets=SECRETS)
    assert lines[0].startswith("llmfleet:hfToken: is not used with llmfleet:security.secrets.source sealed")
    assert lines[1].startswith("llmfleet:security.secrets.sealed.hfToken: is required: model 'm' downloads gated "
                               "weights. Seal the token with `printf %s \"$HF_TOKEN\" | kubeseal --raw --namespace "
                               "llm-serving --name hf-token-sealed --from-file=/dev/stdin`")
    assert len(lines) == 2
    lines = config_error({**GATED, "security": {"secrets": {
        "source": "valt", "vault": {"name": "kv--x", "refreshInterval": "soon"}, "sealed": {"hfToken": "hf_abc"}}}},
        secrets=SECRETS)
    assert lines == [
        "llmfleet:security.secrets.source: must be one of pulumi, sealed, vault, got 'valt' (did you mean 'vault'?)",
        "llmfleet:security.secrets.vault.name: must be an Azure Key Vault name: 3-24 letters, digits or '-', "
        "starting with a letter, got 'kv--x'",
        "llmfleet:security.secrets.vault.refreshInterval: must be a duration such as 1h or 15m, got 'soon'",
        "llmfleet:security.secrets.sealed.hfToken: must be the output of `kubeseal --raw` (base64, at least 684 "
        "characters), got 'hf_abc'; never the token itself"]


def test_vault_name_only_on_azure_and_blocks_only_with_their_source():
    prod = run_stack("prod").spec
    assert prod.security.secrets.source == "vault"
    lines = config_error({**GATED, "security": {"secrets": {"source": "pulumi", "vault": {},
                                                            "sealed": {"hfToken": CIPHERTEXT}}}}, secrets=SECRETS)
    assert lines == ["llmfleet:security.secrets.vault: only applies with source vault, got source pulumi",
                     "llmfleet:security.secrets.sealed.hfToken: only applies with source sealed, got source pulumi"]


def test_store_identity_check_fails_without_the_binding_annotation():
    store = {"apiVersion": "external-secrets.io/v1", "kind": "SecretStore",
             "metadata": {"name": "s", "namespace": "ns"},
             "spec": {"provider": {"gcpsm": {"auth": {"workloadIdentity": {"serviceAccountRef": {"name": "r"}}}}}}}
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "r", "namespace": "ns"}}
    es = {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "t", "namespace": "ns"},
          "spec": {"secretStoreRef": {"name": "other", "kind": "SecretStore"}, "target": {"name": "t"},
                   "data": [{"secretKey": "K", "remoteRef": {"key": "k"}}]}}
    found = {(c.name, c.verdict) for c in secrets.check(Context("gcp", "1.34", [store, sa, es]))}
    assert found == {("secrets.store-identity", "fail"), ("secrets.store-ref", "fail"), ("secrets.writer", "unchecked")}
    sa["metadata"]["annotations"] = {"iam.gke.io/gcp-service-account": "a@p.iam.gserviceaccount.com"}
    found = [c for c in secrets.check(Context("gcp", "1.34", [store, sa])) if c.name == "secrets.store-identity"]
    assert found == [Check("secrets.store-identity", "SecretStore ns/s", "pass",
                           "authenticates as ServiceAccount r (iam.gke.io/gcp-service-account)")]
    # Without its ServiceAccount the store cannot authenticate at all.
    found = [c.verdict for c in secrets.check(Context("gcp", "1.34", [store])) if c.name == "secrets.store-identity"]
    assert found == ["fail"]


def test_irsa_reader_on_a_pod_identity_cluster():
    p = run_stack("prod-karpenter")
    assert p.spec.cluster.settings.identity == "pod-identity"
    role = p.one("aws:iam/role:Role", "llm-prod-kp-vault-reader")
    (stmt,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert stmt["Action"] == "sts:AssumeRoleWithWebIdentity" and "Federated" in stmt["Principal"]
    # No Pod Identity association for the reader: the store's own ServiceAccount carries the role.
    assert not [a for a in p.of_type("aws:eks/podIdentityAssociation:PodIdentityAssociation")
                if a.inputs["serviceAccount"] == "llmfleet-secrets"]
    assert pod_secret_refs(p) == {"hf-token-vault"}


def test_default_key_vault_names_are_valid_and_stable():
    import re
    from spec.secrets import KEY_VAULT_NAME, default_key_vault_name
    for cluster in ("llm-azure-prod", "a", "x" * 40, "9-weird--Name", "llm-azure-prod-westeurope-gpu"):
        name = default_key_vault_name("prod", cluster)
        assert re.fullmatch(KEY_VAULT_NAME, name) and len(name) <= 24, name
        assert name == default_key_vault_name("prod", cluster)
    assert default_key_vault_name("prod", "c") != default_key_vault_name("staging", "c")
