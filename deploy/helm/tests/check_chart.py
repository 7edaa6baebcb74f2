#!/usr/bin/env python3
"""Static checks of the Signet Helm chart (deploy/helm/signet), with no cluster and no helm
binary: Helm itself comes embedded in the PyPI package helm-python-sdk.

    python3 deploy/helm/tests/check_chart.py            # every check, exit 1 on a failure
    python3 deploy/helm/tests/check_chart.py render VALUES.yaml [--set k=v]... \\
        [--name RELEASE] [--namespace NS]               # rendered objects as JSON on stdout

For each values variant (the chart's defaults, values-5-stores-tls.yaml,
values-plaintext.yaml, values-processes.yaml, and the defaults with secrets given as
values) the checker runs `helm lint --strict`, renders the chart like `helm template`,
parses every document, validates every object against the Kubernetes API schema of each
version in KUBE_VERSIONS (kubernetes-validate's strict JSON schemas, made from the API
server's OpenAPI: unknown fields are errors) and the cert-manager and
prometheus-operator objects against their CRD models (cloudcoil), then asserts Signet's own
rules (peers, probes, PodDisruptionBudget, NetworkPolicy, secrets, security context, TLS).

The first run makes a virtualenv with pinned packages (default: target/helm-venv at the
repository root; SIGNET_HELM_VENV overrides) and re-runs itself in it; later runs reuse it.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
sys.path.insert(0, str(REPO / "tests" / "clients"))
import pinned_venv  # noqa: E402  (the shared maker of pinned venvs)
CHART = REPO / "deploy" / "helm" / "signet"

# The chart's minimum (Chart.yaml kubeVersion) and the newest version whose schema
# kubernetes-validate 1.37.0 ships.
KUBE_VERSIONS = ["1.30", "1.37"]

# Every package of the venv, pinned (a full lock, for CPython 3.10+ on Linux).
REQUIREMENTS = """\
helm-python-sdk==0.2.2
kubernetes-validate==1.37.0
cloudcoil==0.6.0
cloudcoil-models-cert-manager==1.17.1.0
cloudcoil-models-prometheus-operator==0.80.1.0
annotated-types==0.8.0
anyio==4.16.0
attrs==26.1.0
certifi==2026.10.19.post1
h11==0.16.0
httpcore==1.0.9
httpx==0.29.0
idna==3.21
importlib_resources==7.1.0
jsonschema==4.26.0
jsonschema-specifications==2025.9.1
packaging==26.4
pydantic==2.14.4
pydantic_core==2.50.5
PyYAML==6.0.4
referencing==0.37.0
rpds-py==2026.9.1
typing-inspection==0.4.5
typing_extensions==4.16.0
"""

RELEASE = "signet"
NAMESPACE = "signet-test"


def given_secrets() -> dict:
    """Secrets given as values, made up at run time (none is written in a file)."""
    import secrets

    return {"secrets": {"adminSecret": secrets.token_urlsafe(24),
                        "serverSecret": secrets.token_hex(32),
                        "webhookSecret": secrets.token_urlsafe(36)}}


# (name, values files relative to this directory ([] = the chart's defaults), extra values)
VARIANTS: list[tuple[str, list[str], Callable[[], dict]]] = [
    ("default", [], dict),
    ("5-stores-tls", ["values-5-stores-tls.yaml"], dict),
    ("plaintext", ["values-plaintext.yaml"], dict),
    # What crates/signet/tests/helm_processes.rs runs as local processes.
    ("processes", ["values-processes.yaml"], dict),
    ("given-secrets", [], given_secrets),
]


# --------------------------------------------------------------------------------------
# Rendering


def deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def load_values(files: list[str | Path], sets: list[str] = ()) -> dict:
    """User values as `helm -f … --set …` would give them (without the chart's defaults)."""
    import helm_python as helm

    values: dict = {}
    for f in files:
        values = deep_merge(values, helm.values_from_yaml(Path(f).read_text()))
    for s in sets:
        values = deep_merge(values, helm.parse_set_string(s))
    return values


def render(values: dict, name: str = RELEASE, namespace: str = NAMESPACE) -> dict[str, Any]:
    """`helm template`: the chart's objects (in template order) and its NOTES.txt."""
    import helm_python as helm
    import yaml

    with helm.Chart.load(str(CHART)) as chart:
        manifests = chart.render(values=values, name=name, namespace=namespace,
                                 is_install=True)
        merged = chart.merge_values(values)
    objects, notes = [], ""
    for path in sorted(manifests):
        text = manifests[path]
        if path.endswith("NOTES.txt"):
            notes = text
            continue
        for doc in yaml.safe_load_all(text):
            if doc is None:
                continue
            if not isinstance(doc, dict):
                raise ValueError(f"{path}: a document is not a mapping: {doc!r}")
            objects.append({"template": path, "object": doc})
    return {"release": name, "namespace": namespace, "values": merged, "notes": notes,
            "objects": objects}


def cmd_render(argv: list[str]) -> int:
    import argparse

    p = argparse.ArgumentParser(prog="check_chart.py render",
                                description="Render the chart to JSON on stdout.")
    p.add_argument("values", nargs="*", help="values files, like helm -f (in order)")
    p.add_argument("--set", action="append", default=[], dest="sets", help="like helm --set")
    p.add_argument("--name", default=RELEASE)
    p.add_argument("--namespace", default=NAMESPACE)
    a = p.parse_args(argv)
    import helm_python as helm

    try:
        out = render(load_values(a.values, a.sets), a.name, a.namespace)
    except helm.HelmError as e:
        print(f"check_chart render: {e}", file=sys.stderr)
        return 1
    json.dump(out, sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")
    return 0


# --------------------------------------------------------------------------------------
# Checks


class Report:
    def __init__(self) -> None:
        self.passed = 0
        self.failed: list[str] = []

    @contextlib.contextmanager
    def check(self, title: str) -> Iterator[list[str]]:
        """Collect problems for one check; it passes when none were added."""
        problems: list[str] = []
        try:
            yield problems
        except Exception as e:  # a crash in a check is a failure of that check
            problems.append(f"{type(e).__name__}: {e}")
        if problems:
            self.failed.append(title)
            print(f"FAIL {title}")
            for pr in problems:
                print(f"       - {pr}")
        else:
            self.passed += 1
            print(f"ok   {title}")


def kinds(objs: list[dict], kind: str) -> list[dict]:
    return [o for o in objs if o.get("kind") == kind]


def one(objs: list[dict], kind: str, name: str) -> dict:
    found = [o for o in objs if o.get("kind") == kind and o["metadata"]["name"] == name]
    if len(found) != 1:
        raise AssertionError(f"expected one {kind} {name}, found {len(found)}")
    return found[0]


def null_paths(x: Any, path: str = "") -> list[str]:
    if isinstance(x, dict):
        return [p for k, v in x.items() for p in null_paths(v, f"{path}.{k}")]
    if isinstance(x, list):
        return [p for i, v in enumerate(x) for p in null_paths(v, f"{path}[{i}]")]
    return [path] if x is None else []


def labels_match(selector: dict, labels: dict) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against a label set."""
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in selector.get("matchExpressions") or []:
        key, op, vals = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(key) not in vals:
            return False
        if op == "NotIn" and labels.get(key) in vals:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def workloads(objs: list[dict]) -> list[tuple[dict, dict]]:
    """(workload, pod template) of every StatefulSet, Deployment, Job and CronJob."""
    return [(o, o["spec"]["jobTemplate"]["spec"]["template"] if o.get("kind") == "CronJob"
             else o["spec"]["template"]) for o in objs
            if o.get("kind") in ("StatefulSet", "Deployment", "Job", "CronJob")]


def mebibytes(quantity: str | int) -> float:
    """A Kubernetes memory quantity in MiB."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([KMGTE]i?|k)?", str(quantity))
    if not m:
        raise ValueError(f"not a memory quantity: {quantity!r}")
    units = {None: 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "E": 1e18,
             "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Ei": 2**60}
    return float(m.group(1)) * units[m.group(2)] / 2**20


def args_of(container: dict) -> dict[str, str | bool]:
    out: dict[str, str | bool] = {}
    for a in container.get("args") or []:
        if a.startswith("--"):
            k, _, v = a.partition("=")
            out[k] = v if _ else True
    return out


def container_port(container: dict, port: int | str) -> int:
    if isinstance(port, int):
        return port
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return p["containerPort"]
    raise AssertionError(f"container {container['name']} has no port named {port}")


def fullname(values: dict) -> str:
    if values.get("fullnameOverride"):
        return values["fullnameOverride"][:63].rstrip("-")
    name = values.get("nameOverride") or "signet"
    return RELEASE if name in RELEASE else f"{RELEASE}-{name}"[:63].rstrip("-")


DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
SPIFFE_LABEL = re.compile(r"^[a-z0-9._-]{1,63}$")


# -- Kubernetes API schema and CRD models ----------------------------------------------

CRD_MODELS: dict[tuple[str, str], Callable[[], type]] = {}


def _crd_models() -> None:
    from cloudcoil.models.cert_manager import v1 as cm
    from cloudcoil.models.prometheus_operator import v1 as po

    CRD_MODELS.update({
        ("cert-manager.io/v1", "Certificate"): lambda: cm.Certificate,
        ("cert-manager.io/v1", "Issuer"): lambda: cm.Issuer,
        ("cert-manager.io/v1", "ClusterIssuer"): lambda: cm.ClusterIssuer,
        ("monitoring.coreos.com/v1", "ServiceMonitor"): lambda: po.ServiceMonitor,
    })


def _strip_nulls(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _strip_nulls(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_strip_nulls(v) for v in x]
    return x


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    """Where b lacks or changes what a has (fields a CRD model dropped are unknown)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k, v in a.items():
            if k not in b:
                out.append(f"{path}.{k}: unknown field")
            else:
                out.extend(_diff(v, b[k], f"{path}.{k}"))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _diff(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} became {b!r}"]


def validate_object(obj: dict) -> list[str]:
    """Problems of one object against the API schema of every KUBE_VERSION, or its CRD."""
    import kubernetes_validate

    key = (obj.get("apiVersion"), obj.get("kind"))
    if not CRD_MODELS:
        _crd_models()
    if key in CRD_MODELS:
        model = CRD_MODELS[key]()
        try:
            parsed = model.model_validate(obj)
        except Exception as e:  # pydantic.ValidationError
            return [f"{key[1]} {obj['metadata'].get('name')}: {e}"]
        back = _strip_nulls(parsed.model_dump(mode="json", by_alias=True, exclude_unset=True))
        return [f"{key[1]} {obj['metadata'].get('name')}{d}" for d in _diff(obj, back)]
    problems = []
    for version in KUBE_VERSIONS:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            where = ".".join(str(p) for p in e.path)
            problems.append(f"{key[1]} {obj['metadata'].get('name')} (Kubernetes {version}): "
                            f"{where}: {e.message}")
        except kubernetes_validate.SchemaNotFoundError as e:
            problems.append(f"{e.message} (an API this Kubernetes version does not serve)")
    return problems


# -- Signet's rules -------------------------------------------------------------------


def check_variant(report: Report, variant: str, files: list[str], extra: dict) -> None:
    import helm_python as helm

    values_files = [HERE / f for f in files]
    user_values = deep_merge(load_values(values_files), extra)

    with report.check(f"{variant}: helm lint --strict (--kube-version "
                      f"{', '.join(KUBE_VERSIONS)})") as problems:
        for kube in KUBE_VERSIONS:
            result = helm.lint(str(CHART), values=user_values, strict=True, namespace=NAMESPACE,
                               kube_version=f"v{kube}.0")
            for m in result.get("messages", []):
                if m["severity"] >= 2:  # warnings fail --strict, errors always
                    problems.append(f"{kube}: {m['path']}: {m['error'].strip()}")
            problems.extend(f"{kube}: {e.strip()}" for e in result.get("errors", [])
                            if e.strip() not in " ".join(problems))

    rendered: dict[str, Any] = {}
    with report.check(f"{variant}: helm template renders and every document parses") as problems:
        rendered = render(user_values)
        if not rendered["objects"]:
            problems.append("no objects rendered")
    if not rendered:
        return
    objs = [o["object"] for o in rendered["objects"]]
    v = rendered["values"]
    ns = rendered["namespace"]
    full = fullname(v)
    store_name, headless = f"{full}-store", f"{full}-store-headless"
    gw_name = f"{full}-gateway"
    cd = v["clusterDomain"]
    n = v["store"]["replicas"]
    ports = v["store"]["ports"]
    tls, public = v["tls"]["enabled"], v["tls"]["public"]["enabled"]
    cert_manager = v["tls"]["certManager"]["enabled"]

    with report.check(f"{variant}: every object validates against the Kubernetes API schema "
                      f"({', '.join(KUBE_VERSIONS)}) or its CRD") as problems:
        for o in objs:
            problems.extend(validate_object(o))

    with report.check(f"{variant}: names, namespaces and labels") as problems:
        seen = set()
        for o in objs:
            md = o["metadata"]
            k = (o["kind"], md["name"])
            if k in seen:
                problems.append(f"duplicate {k}")
            seen.add(k)
            if md.get("namespace") != ns:
                problems.append(f"{k}: namespace {md.get('namespace')!r}, not the release's")
            pattern = DNS_LABEL if o["kind"] in ("Service", "StatefulSet") else DNS_SUBDOMAIN
            if not pattern.match(md["name"]) or len(md["name"]) > 63:
                problems.append(f"{k}: name is not a DNS label")
            labels = md.get("labels") or {}
            if labels.get("app.kubernetes.io/instance") != RELEASE:
                problems.append(f"{k}: no app.kubernetes.io/instance label")
            problems.extend(f"{k}: {path} is null (an empty template block)"
                            for path in null_paths(o))

    sts = one(objs, "StatefulSet", store_name)
    store_pod = sts["spec"]["template"]
    store_c = store_pod["spec"]["containers"][0]
    store_args = args_of(store_c)
    peers = [f"{store_name}-{i}.{headless}.{ns}.svc.{cd}:{ports['api']}" for i in range(n)]
    gw = one(objs, "Deployment", gw_name)
    gw_pod = gw["spec"]["template"]
    gw_c = gw_pod["spec"]["containers"][0]
    gw_args = args_of(gw_c)

    with report.check(f"{variant}: store StatefulSet: {n} replicas, ids from ordinals, peers "
                      "are ordinals 0..n-1 via the headless Service") as problems:
        spec = sts["spec"]
        if spec["replicas"] != n:
            problems.append(f"replicas {spec['replicas']} != store.replicas {n}")
        if spec.get("podManagementPolicy") != "Parallel":
            problems.append("podManagementPolicy must be Parallel (a full restart needs every pod)")
        if spec["serviceName"] != headless:
            problems.append(f"serviceName {spec['serviceName']} != {headless}")
        if store_c.get("command"):
            problems.append("the image's entrypoint must not be overridden")
        if (store_c.get("args") or [None])[0] != "store":
            problems.append("first argument must be the subcommand `store`")
        if store_args.get("--node-id-from-hostname") is not True or "--node-id" in store_args:
            problems.append("node id must come from the hostname (--node-id-from-hostname)")
        if store_args.get("--bootstrap") is not True:
            problems.append("--bootstrap missing")
        if store_args.get("--peers") != ",".join(peers):
            problems.append(f"--peers {store_args.get('--peers')} != {','.join(peers)}")
        if not re.fullmatch(r"\d+(ms|s|m)", str(store_args.get("--bootstrap-wait"))):
            problems.append("--bootstrap-wait missing")
        caches = (v["store"]["cacheMb"], v["store"]["logCacheMb"])
        if (store_args.get("--cache-mb"), store_args.get("--log-cache-mb")) != tuple(map(str, caches)):
            problems.append(f"--cache-mb/--log-cache-mb are not store.cacheMb/logCacheMb {caches}")
        limit = ((store_c.get("resources") or {}).get("limits") or {}).get("memory")
        if limit is not None and mebibytes(limit) < sum(caches) + 256:
            problems.append(f"memory limit {limit} leaves under 256 MiB beside the caches {caches}")
        for flag, port in (("--raft-addr", ports["raft"]), ("--api-addr", ports["api"]),
                           ("--metrics-addr", ports["metrics"])):
            if store_args.get(flag) != f"0.0.0.0:{port}":
                problems.append(f"{flag} {store_args.get(flag)} != 0.0.0.0:{port}")
        for flag, port in (("--advertise-raft-addr", ports["raft"]),
                           ("--advertise-api-addr", ports["api"])):
            want = f"$(POD_NAME).{headless}.{ns}.svc.{cd}:{port}"
            if store_args.get(flag) != want:
                problems.append(f"{flag} {store_args.get(flag)} != {want}")
        env = {e["name"]: e for e in store_c.get("env") or []}
        for var in ("POD_NAME", "HOSTNAME"):
            ref = ((env.get(var) or {}).get("valueFrom") or {}).get("fieldRef") or {}
            if ref.get("fieldPath") != "metadata.name":
                problems.append(f"env {var} must come from metadata.name")
        # The data dir is on the claim template's volume.
        claims = [c["metadata"]["name"] for c in spec.get("volumeClaimTemplates") or []]
        if claims != ["data"]:
            problems.append(f"one PVC per pod named data expected, got {claims}")
        mounts = {m["name"]: m["mountPath"] for m in store_c.get("volumeMounts") or []}
        data_dir = str(store_args.get("--data-dir"))
        if "data" not in mounts or not data_dir.startswith(mounts["data"].rstrip("/") + "/"):
            problems.append(f"--data-dir {data_dir} is not on the data volume")
        retention = spec.get("persistentVolumeClaimRetentionPolicy") or {}
        if retention.get("whenScaled") != v["store"]["persistence"]["retentionPolicy"]["whenScaled"]:
            problems.append("PVC retention whenScaled does not follow the values")

    with report.check(f"{variant}: headless Service publishes not-ready pods; Services select "
                      "pods and target named container ports") as problems:
        hs = one(objs, "Service", headless)
        if hs["spec"].get("clusterIP") != "None":
            problems.append("headless Service must have clusterIP: None")
        if hs["spec"].get("publishNotReadyAddresses") is not True:
            problems.append("headless Service must publish not-ready addresses")
        want = {"raft": ports["raft"], "api": ports["api"], "metrics": ports["metrics"]}
        got = {p["name"]: p["port"] for p in hs["spec"]["ports"]}
        if got != want:
            problems.append(f"headless ports {got} != {want}")
        pods = workloads(objs)
        for svc in kinds(objs, "Service"):
            sel = svc["spec"].get("selector") or {}
            targets = [(w, t) for w, t in pods
                       if w["kind"] not in ("Job", "CronJob") and labels_match({"matchLabels": sel},
                                                             t["metadata"]["labels"])]
            if len(targets) != 1:
                problems.append(f"Service {svc['metadata']['name']} selects "
                                f"{len(targets)} workloads")
                continue
            c = targets[0][1]["spec"]["containers"][0]
            for p in svc["spec"]["ports"]:
                try:
                    cp = container_port(c, p["targetPort"])
                except AssertionError as e:
                    problems.append(str(e))
                    continue
                if cp != p["port"]:
                    problems.append(f"Service {svc['metadata']['name']} port {p['name']} "
                                    f"{p['port']} -> container {cp}")

    with report.check(f"{variant}: PodDisruptionBudgets: stores maxUnavailable 1, gateways "
                      "covered") as problems:
        pdbs = kinds(objs, "PodDisruptionBudget")
        sp = [p for p in pdbs if labels_match(p["spec"]["selector"], store_pod["metadata"]["labels"])]
        if len(sp) != 1 or sp[0]["spec"].get("maxUnavailable") != 1 or "minAvailable" in sp[0]["spec"]:
            problems.append("exactly one store PDB with maxUnavailable: 1 expected")
        gp = [p for p in pdbs if labels_match(p["spec"]["selector"], gw_pod["metadata"]["labels"])]
        if len(gp) != int(v["gateway"]["podDisruptionBudget"]["enabled"]):
            problems.append(f"{len(gp)} gateway PDBs, gateway.podDisruptionBudget.enabled is "
                            f"{v['gateway']['podDisruptionBudget']['enabled']}")
        for p in pdbs:
            if labels_match(p["spec"]["selector"], store_pod["metadata"]["labels"]) and \
               labels_match(p["spec"]["selector"], gw_pod["metadata"]["labels"]):
                problems.append(f"PDB {p['metadata']['name']} covers stores and gateways")

    def probe(c: dict, kind: str) -> tuple[str, int, str]:
        pr = c.get(kind)
        if not pr or "httpGet" not in pr:
            raise AssertionError(f"{c['name']}: {kind} must be an httpGet probe")
        g = pr["httpGet"]
        return g["path"], container_port(c, g["port"]), g.get("scheme", "HTTP")

    with report.check(f"{variant}: store probes: readiness /readyz, liveness and startup "
                      f"/healthz on the metrics port {ports['metrics']}") as problems:
        want = {"readinessProbe": "/readyz", "livenessProbe": "/healthz", "startupProbe": "/healthz"}
        for kind, path in want.items():
            got = probe(store_c, kind)
            if got != (path, ports["metrics"], "HTTP"):
                problems.append(f"{kind} {got} != {(path, ports['metrics'], 'HTTP')}")
        grace = store_pod["spec"].get("terminationGracePeriodSeconds", 30)
        pre = ((store_c.get("lifecycle") or {}).get("preStop") or {}).get("sleep", {})
        # SIGTERM hand-over: up to ~2 s plus an election timeout, with room to flush.
        if grace - pre.get("seconds", 0) < 10:
            problems.append(f"terminationGracePeriodSeconds {grace} leaves under 10 s for the "
                            "leadership transfer")

    with report.check(f"{variant}: gateway probes: readiness /readyz, liveness /healthz on the "
                      f"HTTP port, {'HTTPS' if public else 'HTTP'}") as problems:
        http = v["gateway"]["ports"]["http"]
        scheme = "HTTPS" if public else "HTTP"
        for kind, path in {"readinessProbe": "/readyz", "livenessProbe": "/healthz"}.items():
            got = probe(gw_c, kind)
            if got != (path, http, scheme):
                problems.append(f"{kind} {got} != {(path, http, scheme)}")
        grace = gw_pod["spec"].get("terminationGracePeriodSeconds", 30)
        pre = ((gw_c.get("lifecycle") or {}).get("preStop") or {}).get("sleep", {})
        if pre.get("seconds", 0) >= grace:
            problems.append("preStop sleep eats the whole grace period")

    with report.check(f"{variant}: gateway Deployment: stores = the peers, HPA on CPU, "
                      "secrets from a Secret") as problems:
        if (gw_c.get("args") or [None])[0] != "gateway" or gw_c.get("command"):
            problems.append("gateway must run the image's entrypoint with `gateway`")
        if gw_args.get("--store") != ",".join(peers):
            problems.append(f"--store {gw_args.get('--store')} != the peers")
        if gw_args.get("--grpc-addr") != f"0.0.0.0:{v['gateway']['ports']['grpc']}":
            problems.append("--grpc-addr")
        if gw_args.get("--http-addr") != f"0.0.0.0:{v['gateway']['ports']['http']}":
            problems.append("--http-addr")
        url = str(gw_args.get("--public-url"))
        if not re.match(r"^https?://", url) or (public and not v["gateway"]["publicUrl"]
                                                 and not url.startswith("https://")):
            problems.append(f"--public-url {url}")
        if v["gateway"]["devOutbox"] != ("--dev-outbox" in gw_args) or \
           (not v["gateway"]["devOutbox"] and not str(gw_args.get("--webhook-url", "")).startswith("https://")):
            problems.append("code delivery: --webhook-url (https) or --dev-outbox, as the values say")
        for flag in ("--admin-secret", "--server-secret", "--webhook-secret"):
            if flag in gw_args:
                problems.append(f"{flag} given as an argument (visible in the process list)")
        env = {e["name"]: e for e in gw_c.get("env") or []}
        for var, key in (("SIGNET_ADMIN_SECRET", "admin-secret"),
                         ("SIGNET_SERVER_SECRET", "server-secret"),
                         ("SIGNET_WEBHOOK_SECRET", "webhook-secret")):
            ref = ((env.get(var) or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
            if ref.get("key") != key or not ref.get("name"):
                problems.append(f"env {var} must come from a Secret key {key}")
        hpas = kinds(objs, "HorizontalPodAutoscaler")
        if v["gateway"]["autoscaling"]["enabled"]:
            if len(hpas) != 1:
                problems.append("one HPA expected")
            else:
                h = hpas[0]["spec"]
                if h["scaleTargetRef"] != {"apiVersion": "apps/v1", "kind": "Deployment", "name": gw_name}:
                    problems.append(f"HPA targets {h['scaleTargetRef']}")
                if [m["resource"]["name"] for m in h["metrics"] if m["type"] == "Resource"] != ["cpu"]:
                    problems.append("HPA must scale on CPU")
                if "replicas" in gw["spec"]:
                    problems.append("Deployment sets replicas while the HPA owns them")
                if not (gw_c.get("resources") or {}).get("requests", {}).get("cpu"):
                    problems.append("CPU utilisation needs a CPU request")
        elif hpas:
            problems.append("HPA rendered with autoscaling off")

    with report.check(f"{variant}: every pod runs as non-root, read-only, no privilege "
                      "escalation, capabilities dropped, no API token") as problems:
        images = set()
        for w, t in workloads(objs):
            ps = t["spec"]
            name = f"{w['kind']} {w['metadata']['name']}"
            psc = ps.get("securityContext") or {}
            if psc.get("runAsNonRoot") is not True or psc.get("runAsUser", 0) == 0:
                problems.append(f"{name}: pod must run as non-root with a uid")
            if ps.get("automountServiceAccountToken") is not False:
                problems.append(f"{name}: a service-account token is mounted")
            if ps.get("hostNetwork") or ps.get("hostPID") or ps.get("hostIPC"):
                problems.append(f"{name}: host namespaces")
            for c in ps.get("containers", []) + ps.get("initContainers", []):
                images.add(c["image"])
                sc = c.get("securityContext") or {}
                if sc.get("allowPrivilegeEscalation") is not False:
                    problems.append(f"{name}/{c['name']}: allowPrivilegeEscalation")
                if sc.get("readOnlyRootFilesystem") is not True:
                    problems.append(f"{name}/{c['name']}: writable root filesystem")
                if sc.get("privileged"):
                    problems.append(f"{name}/{c['name']}: privileged")
                if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                    problems.append(f"{name}/{c['name']}: capabilities not dropped")
                if sc.get("runAsUser", psc.get("runAsUser", 0)) == 0:
                    problems.append(f"{name}/{c['name']}: runs as root")
                if not (c.get("resources") or {}).get("requests"):
                    problems.append(f"{name}/{c['name']}: no resource requests")
        if len(images) != 1:
            problems.append(f"one image for every role expected, got {sorted(images)}")

    with report.check(f"{variant}: NetworkPolicy: stores accept Raft only from stores and the "
                      "API only from stores, gateways and operator pods") as problems:
        if not v["networkPolicy"]["enabled"]:
            if kinds(objs, "NetworkPolicy"):
                problems.append("NetworkPolicy rendered while disabled")
        else:
            pols = [p for p in kinds(objs, "NetworkPolicy")
                    if labels_match(p["spec"]["podSelector"], store_pod["metadata"]["labels"])]
            if len(pols) != 1:
                raise AssertionError(f"{len(pols)} NetworkPolicies select the stores")
            pol = pols[0]["spec"]
            if "Ingress" not in pol.get("policyTypes", []):
                problems.append("store policy must restrict Ingress")
            if labels_match(pols[0]["spec"]["podSelector"], gw_pod["metadata"]["labels"]):
                problems.append("store policy also selects gateways")
            comp = lambda t: t["metadata"]["labels"]["app.kubernetes.io/component"]
            pods = {f"{w['kind']}/{w['metadata']['name']}": t for w, t in workloads(objs)}
            # Who may reach which store port, by the rendered pods' labels.
            reach: dict[int, set[str]] = {p: set() for p in ports.values()}
            for rule in pol.get("ingress") or []:
                peers_ = rule.get("from")
                rports = [p["port"] for p in rule.get("ports") or []]
                if not peers_:
                    problems.append(f"an ingress rule admits every source (ports {rports})")
                    continue
                if not rports:
                    problems.append("an ingress rule admits every port")
                only_metrics = rports == [ports["metrics"]]
                for peer in peers_:
                    if set(peer) != {"podSelector"} and not only_metrics:
                        problems.append(f"peer {peer} is not a pod of this namespace")
                    if "podSelector" in peer and set(peer) == {"podSelector"}:
                        sel = peer["podSelector"]
                        if (sel.get("matchLabels") or {}).get("app.kubernetes.io/instance") != RELEASE:
                            problems.append(f"peer {sel} is not limited to this release")
                        for pname, t in pods.items():
                            if labels_match(sel, t["metadata"]["labels"]):
                                for p in rports:
                                    reach[p].add(comp(t))
            if reach[ports["raft"]] != {"store"}:
                problems.append(f"Raft port reachable from {sorted(reach[ports['raft']])}")
            operators = v["store"]["shrinkJob"]["enabled"] or v["store"]["backup"]["enabled"]
            want_api = {"store", "gateway"} | ({"operator"} if operators else set())
            if reach[ports["api"]] != want_api:
                problems.append(f"API port reachable from {sorted(reach[ports['api']])}, "
                                f"want {sorted(want_api)}")
            if not v["networkPolicy"]["metricsFrom"] and reach[ports["metrics"]]:
                problems.append("metrics port open without metricsFrom")
            # The operator label admits only the chart's own Jobs (and the runbook's pod).
            for w, t in workloads(objs):
                if comp(t) == "operator" and w["kind"] not in ("Job", "CronJob"):
                    problems.append(f"{w['metadata']['name']} carries the operator label")

    with report.check(f"{variant}: no secret value outside Secret objects; generated secrets "
                      "are strong") as problems:
        secret_values: list[str] = []
        for s in kinds(objs, "Secret"):
            for k, val in (s.get("data") or {}).items():
                secret_values.append(base64.b64decode(val).decode())
            secret_values.extend((s.get("stringData") or {}).values())
            d = {k: base64.b64decode(x).decode() for k, x in (s.get("data") or {}).items()}
            if d:
                if not re.fullmatch(r"([0-9a-fA-F]{2}){32,}", d.get("server-secret", "")):
                    problems.append("server-secret is not hex of at least 32 bytes")
                if len(d.get("admin-secret", "")) < 16:
                    problems.append("admin-secret shorter than 16 characters")
                if len(d.get("webhook-secret", "")) < 32:
                    problems.append("webhook-secret shorter than 32 characters")
        for cfg in ("adminSecret", "serverSecret", "webhookSecret"):
            if v["secrets"].get(cfg):
                secret_values.append(v["secrets"][cfg])
        if not v["secrets"]["existingSecret"] and len(secret_values) < 3:
            problems.append("the chart's Secret with three values is missing")
        for o in objs:
            if o["kind"] == "Secret":
                continue
            text = json.dumps(o)
            for sv in secret_values:
                if len(sv) >= 8 and sv in text:
                    problems.append(f"{o['kind']} {o['metadata']['name']} contains a secret value")
        for cm in kinds(objs, "ConfigMap"):
            for k in (cm.get("data") or {}):
                if re.search(r"secret|password|key", k, re.I):
                    problems.append(f"ConfigMap {cm['metadata']['name']} has a key {k}")
        if any(len(sv) >= 8 and sv in rendered["notes"] for sv in secret_values):
            problems.append("NOTES.txt prints a secret")

    with report.check(f"{variant}: TLS {'on' if tls else 'OFF'}, public TLS "
                      f"{'on' if public else 'OFF'}: flags, mounted role Secrets"
                      f"{', cert-manager Certificates' if cert_manager else ''}") as problems:
        role_of = {"StatefulSet": "store", "Deployment": "gateway", "Job": "operator",
                   "CronJob": "operator"}
        secret_of: dict[str, str] = {}
        for w, t in workloads(objs):
            role = role_of[w["kind"]]
            c = t["spec"]["containers"][0]
            a = args_of(c)
            vols = {vol["name"]: vol for vol in t["spec"].get("volumes") or []}
            mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts") or []}
            name = f"{w['kind']} {w['metadata']['name']}"
            if tls:
                for flag, f in (("--ca", "ca.crt"), ("--cert", "tls.crt"), ("--key", "tls.key")):
                    if a.get(flag) != f"{mounts.get('tls', '?')}/{f}":
                        problems.append(f"{name}: {flag} is not the mounted {f}")
                if a.get("--trust-domain") != v["tls"]["trustDomain"]:
                    problems.append(f"{name}: --trust-domain")
                secret_of[role] = ((vols.get("tls") or {}).get("secret") or {}).get("secretName", "")
                if not secret_of[role]:
                    problems.append(f"{name}: no role Secret mounted")
            elif any(f in a for f in ("--ca", "--cert", "--key")):
                problems.append(f"{name}: TLS flags while tls.enabled=false")
            plaintext_needed = (not tls) if role != "gateway" else (not tls or not public)
            if role != "operator" and ("--insecure-plaintext" in a) != plaintext_needed:
                problems.append(f"{name}: --insecure-plaintext {'missing' if plaintext_needed else 'given'}")
        if tls and len(set(secret_of.values())) != len(secret_of):
            problems.append(f"roles share a certificate Secret: {secret_of}")
        if ("--tls-cert" in gw_args) != public or ("--tls-key" in gw_args) != public:
            problems.append("gateway --tls-cert/--tls-key do not follow tls.public.enabled")
        certs = kinds(objs, "Certificate")
        if not cert_manager:
            if certs or kinds(objs, "Issuer"):
                problems.append("cert-manager objects without certManager.enabled")
        else:
            by_secret = {c["spec"]["secretName"]: c["spec"] for c in certs}
            for role, secret in secret_of.items():
                spec = by_secret.get(secret)
                if not spec:
                    problems.append(f"no Certificate writes {secret}")
                    continue
                uris = spec.get("uris") or []
                m = re.fullmatch(rf"spiffe://{re.escape(v['tls']['trustDomain'])}/signet/{role}/(.+)",
                                 uris[0] if len(uris) == 1 else "")
                if not m or not SPIFFE_LABEL.match(m.group(1)):
                    problems.append(f"{secret}: URI SANs {uris} are not one spiffe ID of role {role}")
                if (spec.get("privateKey") or {}).get("encoding") != "PKCS8":
                    problems.append(f"{secret}: key not PKCS#8")
                if "client auth" not in spec.get("usages", []):
                    problems.append(f"{secret}: no client auth usage (mutual TLS)")
            if public:
                pub = [vol for vol in gw_pod["spec"]["volumes"] if vol["name"] == "public-tls"]
                if not pub or pub[0]["secret"]["secretName"] not in by_secret:
                    problems.append("no Certificate writes the public gateway Secret")
            issuers = {i["metadata"]["name"] for i in kinds(objs, "Issuer")}
            for c in certs:
                ref = c["spec"]["issuerRef"]
                if ref.get("kind", "Issuer") == "Issuer" and ref["name"] not in issuers and \
                   not v["tls"]["certManager"]["issuerRef"] and not v["tls"]["public"]["issuerRef"]:
                    problems.append(f"Certificate {c['metadata']['name']} names a missing Issuer")

    with report.check(f"{variant}: scale-down Job: pre-upgrade/pre-rollback hook running "
                      f"`signet cluster shrink --to {n}` with the operator certificate") as problems:
        jobs = kinds(objs, "Job")
        if not v["store"]["shrinkJob"]["enabled"]:
            if jobs:
                problems.append("shrink Job rendered while disabled")
        else:
            if len(jobs) != 1:
                raise AssertionError(f"{len(jobs)} Jobs")
            job = jobs[0]
            hooks = set(job["metadata"].get("annotations", {}).get("helm.sh/hook", "").split(","))
            if not {"pre-upgrade", "pre-rollback"} <= hooks or "pre-install" in hooks:
                problems.append(f"hooks {sorted(hooks)}")
            c = job["spec"]["template"]["spec"]["containers"][0]
            a = c.get("args") or []
            if a[:1] != ["cluster"] or "shrink" not in a or f"--to={n}" not in a:
                problems.append(f"args {a}")
            if args_of(c).get("--endpoint") != f"{store_name}.{ns}.svc.{cd}:{ports['api']}":
                problems.append(f"--endpoint {args_of(c).get('--endpoint')}")
            if job["spec"]["template"]["spec"].get("restartPolicy") != "Never":
                problems.append("restartPolicy must be Never")

    backup = v["store"]["backup"]
    with report.check(f"{variant}: backup CronJob "
                      f"{'runs `signet cluster backup` into a kept volume' if backup['enabled'] else 'absent'}"
                      ) as problems:
        crons = kinds(objs, "CronJob")
        claims = kinds(objs, "PersistentVolumeClaim")
        if not backup["enabled"]:
            if crons or claims:
                problems.append("backup CronJob or volume rendered while disabled")
        else:
            if len(crons) != 1:
                raise AssertionError(f"{len(crons)} CronJobs")
            cj = crons[0]
            if cj["spec"]["schedule"] != backup["schedule"]:
                problems.append(f"schedule {cj['spec']['schedule']}")
            if cj["spec"].get("concurrencyPolicy") != "Forbid":
                problems.append("two backups may run at once (concurrencyPolicy)")
            pod = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
            if pod.get("restartPolicy") != "Never":
                problems.append("restartPolicy must be Never")
            c = pod["containers"][0]
            a = c.get("args") or []
            if a[:1] != ["cluster"] or "backup" not in a:
                problems.append(f"args {a}")
            if args_of(c).get("--endpoint") != f"{store_name}.{ns}.svc.{cd}:{ports['api']}":
                problems.append(f"--endpoint {args_of(c).get('--endpoint')}")
            if args_of(c).get("--keep") != str(backup["keep"]):
                problems.append(f"--keep {args_of(c).get('--keep')}")
            mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts") or []}
            if args_of(c).get("--out-dir") != mounts.get("backups"):
                problems.append(f"--out-dir {args_of(c).get('--out-dir')} is not the mounted volume")
            vols = {vol["name"]: vol for vol in pod.get("volumes") or []}
            claim = ((vols.get("backups") or {}).get("persistentVolumeClaim") or {}).get("claimName")
            given = backup["persistence"]["existingClaim"]
            if given:
                if claim != given or claims:
                    problems.append(f"claim {claim}, want the existing {given} and no new PVC")
            else:
                made = [p for p in claims if p["metadata"]["name"] == claim]
                if len(made) != 1:
                    problems.append(f"the volume {claim} is not made by the chart")
                elif made[0]["metadata"].get("annotations", {}).get("helm.sh/resource-policy") != "keep":
                    problems.append("the backups volume would go with an uninstall")

    with report.check(f"{variant}: ServiceMonitors "
                      f"{'select the metrics ports' if v['metrics']['serviceMonitor']['enabled'] else 'absent'}") as problems:
        sms = kinds(objs, "ServiceMonitor")
        if not v["metrics"]["serviceMonitor"]["enabled"]:
            if sms:
                problems.append("ServiceMonitor rendered while disabled")
        else:
            if len(sms) != 2:
                problems.append(f"{len(sms)} ServiceMonitors, want 2 (stores, gateways)")
            for sm in sms:
                svcs = [s for s in kinds(objs, "Service")
                        if labels_match(sm["spec"]["selector"], s["metadata"]["labels"])]
                if len(svcs) != 1:
                    problems.append(f"{sm['metadata']['name']} selects {len(svcs)} Services")
                    continue
                names = {p["name"] for p in svcs[0]["spec"]["ports"]}
                for ep in sm["spec"]["endpoints"]:
                    if ep["port"] not in names or ep.get("path") != "/metrics":
                        problems.append(f"{sm['metadata']['name']}: endpoint {ep}")
            store_sm = [s for s in sms if s["metadata"]["name"] == store_name]
            if store_sm and not labels_match(store_sm[0]["spec"]["selector"],
                                             one(objs, "Service", headless)["metadata"]["labels"]):
                problems.append("store metrics must be scraped through the headless Service "
                                "(every member, ready or not)")

    with report.check(f"{variant}: NOTES.txt: runbook for a wiped volume, warnings") as problems:
        notes = rendered["notes"]
        for needle in ("remove --node-id", "delete pod", "ordinal + 1", "helm upgrade"):
            if needle not in notes:
                problems.append(f"NOTES.txt lacks {needle!r}")
        # (The dev-outbox warning says PLAINTEXT too: look for the TLS warnings by name.)
        if (not tls) != ("WARNING: tls.enabled=false" in notes) or \
                (not public) != ("WARNING: tls.public.enabled=false" in notes):
            problems.append("plaintext warning does not follow the TLS values")
        if v["gateway"]["devOutbox"] and "devOutbox" not in notes:
            problems.append("no dev-outbox warning")


def check_schema_refusals(report: Report) -> None:
    """values.schema.json refuses what the binary or the chart cannot run."""
    import helm_python as helm

    bad = {
        "an even store count": {"store": {"replicas": 4}},
        "a misspelt key": {"store": {"replica": 3}},
        "a short server secret": {"secrets": {"serverSecret": "abcd"}},
        "an http webhook": {"gateway": {"webhookUrl": "http://mailer.example/codes"}},
        "OrderedReady stores": {"store": {"podManagementPolicy": "OrderedReady"}},
        "a trust domain with capitals": {"tls": {"trustDomain": "Signet"}},
    }
    with report.check("values.schema.json refuses " + ", ".join(bad)) as problems:
        with helm.Chart.load(str(CHART)) as chart:
            for what, values in bad.items():
                try:
                    chart.render(values=values, name=RELEASE, namespace=NAMESPACE)
                    problems.append(f"{what} was accepted")
                except helm.HelmValuesError:
                    pass


def check_validators_bite(report: Report) -> None:
    """The schema checks are not vacuous: a typo in a rendered object is caught."""
    with report.check("the validators refuse an unknown field in a StatefulSet and in a "
                      "Certificate") as problems:
        values = load_values([HERE / "values-5-stores-tls.yaml"])
        objs = [o["object"] for o in render(values)["objects"]]
        sts = copy.deepcopy(kinds(objs, "StatefulSet")[0])
        sts["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
        if not validate_object(sts):
            problems.append("a StatefulSet with `readinesProbe` passed")
        cert = copy.deepcopy([c for c in kinds(objs, "Certificate") if "uris" in c["spec"]][0])
        cert["spec"]["uri"] = cert["spec"].pop("uris")
        if not validate_object(cert):
            problems.append("a Certificate with `uri` passed")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "render":
        return cmd_render(sys.argv[2:])
    if len(sys.argv) > 1:
        sys.exit(__doc__)
    import helm_python as helm

    started = time.monotonic()
    print(f"Signet chart checks: {CHART.relative_to(REPO)}, Helm {helm.helm_sdk_version()} "
          f"(helm-python-sdk {helm.__version__}), Kubernetes {', '.join(KUBE_VERSIONS)}")
    report = Report()
    for variant, files, extra in VARIANTS:
        check_variant(report, variant, files, extra())
    check_schema_refusals(report)
    check_validators_bite(report)
    took = time.monotonic() - started
    for f in report.failed:
        print(f"failed: {f}")
    print(f"\nchecked in {took:.1f} s")
    print(f"summary: {report.passed} passed, {len(report.failed)} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    if sys.version_info < (3, 10):
        sys.exit("check_chart: Python 3.10 or newer is needed")
    pinned_venv.ensure("helm-venv", REQUIREMENTS, "SIGNET_HELM_VENV")
    sys.exit(main())
