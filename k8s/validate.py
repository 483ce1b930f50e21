"""Checks rendered Kubernetes manifests; run by validate.sh, which renders them with kustomize.

usage: validate.py [-k VERSION]... [--overlay] NAME=FILE [[--overlay] NAME=FILE ...]

Every object is validated against the Kubernetes JSON schemas of each VERSION with
kubernetes-validate in strict mode (unknown fields are errors). An object whose kind the
schemas do not know fails, unless it is a custom resource listed in CUSTOM_RESOURCES below:
those are checked against the small local schema given there (only the fields this repository
sets) and reported as such. Then deployment rules that a schema cannot express are checked
(references between objects, probes, security context, graceful-termination timing, one
SQLite writer). --overlay marks a render meant to be deployed: its images must name a registry
and a tag, and every Secret it references must be in it, made by a CloudNativePG Cluster in it,
or optional (the base may expect Secrets made elsewhere). Exit status 1 when anything failed.
"""

from __future__ import annotations

import sys

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate.utils import SchemaNotFoundError

# Custom resources the built-in schemas do not cover. kubernetes-validate ships no CRD schemas and
# the CloudNativePG CRD is not published on a package registry CI can reach, so a `Cluster` is
# checked against the subset of its schema this repository uses (names and types as in the
# CloudNativePG API reference), not against the operator's full CRD.
_QUANTITY = {"type": ["string", "integer"]}
_RESOURCES = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "requests": {"type": "object", "additionalProperties": _QUANTITY},
        "limits": {"type": "object", "additionalProperties": _QUANTITY},
    },
}
CUSTOM_RESOURCES = {
    ("postgresql.cnpg.io/v1", "Cluster"): {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "properties": {
            "metadata": {"type": "object", "required": ["name"]},
            "spec": {
                "type": "object",
                "required": ["instances", "storage"],
                "properties": {
                    "instances": {"type": "integer", "minimum": 1},
                    "imageName": {"type": "string"},
                    "primaryUpdateStrategy": {"enum": ["unsupervised", "supervised"]},
                    "bootstrap": {
                        "type": "object",
                        "properties": {
                            "initdb": {
                                "type": "object",
                                "properties": {"database": {"type": "string"}, "owner": {"type": "string"}},
                            }
                        },
                    },
                    "postgresql": {
                        "type": "object",
                        "properties": {"parameters": {"type": "object", "additionalProperties": {"type": "string"}}},
                    },
                    "storage": {
                        "type": "object",
                        "required": ["size"],
                        "properties": {"size": {"type": "string"}, "storageClass": {"type": "string"}},
                    },
                    "resources": _RESOURCES,
                    "affinity": {
                        "type": "object",
                        "properties": {
                            "enablePodAntiAffinity": {"type": "boolean"},
                            "topologyKey": {"type": "string"},
                            "podAntiAffinityType": {"enum": ["preferred", "required"]},
                        },
                    },
                },
            },
        },
    },
}

WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


class Report:
    def __init__(self) -> None:
        self.errors = 0

    def ok(self, where: str, message: str) -> None:
        print(f"  ok    {where}: {message}")

    def skip(self, where: str, message: str) -> None:
        print(f"  SKIP  {where}: {message}")

    def error(self, where: str, message: str) -> None:
        self.errors += 1
        print(f"  ERROR {where}: {message}")


def name_of(obj: dict) -> str:
    return f"{obj.get('kind', '?')}/{(obj.get('metadata') or {}).get('name', '?')}"


def check_schemas(render: str, objects: list[dict], versions: list[str], report: Report) -> None:
    for obj in objects:
        where = f"{render} {name_of(obj)}"
        key = (obj.get("apiVersion"), obj.get("kind"))
        if key in CUSTOM_RESOURCES:
            try:
                jsonschema.Draft202012Validator(CUSTOM_RESOURCES[key]).validate(obj)
                report.skip(
                    where,
                    f"custom resource {key[0]} {key[1]}: no full CRD schema available; "
                    "checked only the fields this repository sets",
                )
            except jsonschema.ValidationError as e:
                path = ".".join(str(p) for p in e.absolute_path)
                report.error(where, f"{path}: {e.message}")
            continue
        before = report.errors
        for version in versions:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                path = ".".join(str(p) for p in e.path)
                report.error(where, f"Kubernetes {version} schema: {path}: {e.message}")
            except SchemaNotFoundError as e:
                report.error(where, f"{e.message} (unknown kind or API version, and not a listed custom resource)")
        if report.errors == before:
            report.ok(where, "Kubernetes " + ", ".join(versions) + " schemas (strict)")


def pod_spec(obj: dict) -> dict:
    spec = obj.get("spec") or {}
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec.get("template", {}).get("spec", {})


def env_value(container: dict, config: dict, name: str) -> str | None:
    for env in container.get("env") or []:
        if env.get("name") == name:
            return env.get("value") if "value" in env else "<from " + str(list(env.get("valueFrom", {}))) + ">"
    for source in container.get("envFrom") or []:
        ref = source.get("configMapRef")
        if ref and ref.get("name") in config and name in config[ref["name"]]:
            return config[ref["name"]][name]
    return None


def selector_matches(selector: dict, labels: dict) -> bool:
    match = selector.get("matchLabels", selector) if isinstance(selector, dict) else {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def check_rules(render: str, objects: list[dict], overlay: bool, report: Report) -> None:
    by_kind: dict[str, dict[str, dict]] = {}
    for obj in objects:
        by_kind.setdefault(obj["kind"], {})[obj["metadata"]["name"]] = obj
    config = {name: cm.get("data") or {} for name, cm in by_kind.get("ConfigMap", {}).items()}
    secrets = set(by_kind.get("Secret", {}))
    # CloudNativePG creates `<cluster>-app` (and `<cluster>-superuser`) for each Cluster.
    secrets |= {f"{name}-app" for name in by_kind.get("Cluster", {})}
    autoscaled = {
        hpa["spec"]["scaleTargetRef"]["name"]: hpa["spec"].get("maxReplicas", 1)
        for hpa in by_kind.get("HorizontalPodAutoscaler", {}).values()
    }

    for obj in objects:
        if obj["kind"] not in WORKLOAD_KINDS:
            continue
        where = f"{render} {name_of(obj)}"
        before = report.errors
        spec = pod_spec(obj)
        pod_security = spec.get("securityContext") or {}
        containers = spec.get("containers") or []
        everything = containers + (spec.get("initContainers") or [])
        for c in everything:
            cw = f"{where} container {c.get('name')}"
            sc = c.get("securityContext") or {}
            if not (sc.get("runAsNonRoot") or pod_security.get("runAsNonRoot")):
                report.error(cw, "runAsNonRoot is not set")
            if sc.get("readOnlyRootFilesystem") is not True:
                report.error(cw, "readOnlyRootFilesystem must be true")
            if sc.get("allowPrivilegeEscalation") is not False:
                report.error(cw, "allowPrivilegeEscalation must be false")
            if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                report.error(cw, "capabilities must drop ALL")
            if ((sc.get("seccompProfile") or pod_security.get("seccompProfile")) or {}).get("type") != "RuntimeDefault":
                report.error(cw, "seccompProfile must be RuntimeDefault")
            image = c.get("image", "")
            if overlay and ("/" not in image or ":" not in image.rsplit("/", 1)[-1]):
                report.error(cw, f"image {image!r} names no registry or tag (missing `images:` entry?)")
            for source in c.get("envFrom") or []:
                ref = source.get("configMapRef")
                if ref and ref["name"] not in config and not ref.get("optional"):
                    report.error(cw, f"envFrom ConfigMap {ref['name']} is not in the render")
                ref = source.get("secretRef")
                if overlay and ref and ref["name"] not in secrets and not ref.get("optional"):
                    report.error(cw, f"envFrom Secret {ref['name']} is not in the render")
            for env in c.get("env") or []:
                ref = (env.get("valueFrom") or {}).get("secretKeyRef")
                if overlay and ref and ref["name"] not in secrets and not ref.get("optional"):
                    report.error(cw, f"env {env['name']}: Secret {ref['name']} is neither in the render nor made by a Cluster")
                ref = (env.get("valueFrom") or {}).get("configMapKeyRef")
                if ref and (ref["name"] not in config or ref["key"] not in config[ref["name"]]):
                    report.error(cw, f"env {env['name']}: ConfigMap key {ref['name']}/{ref['key']} is not in the render")
            mounts = {m["name"] for m in c.get("volumeMounts") or []}
            volumes = {v["name"] for v in spec.get("volumes") or []}
            for missing in sorted(mounts - volumes):
                report.error(cw, f"volumeMount {missing} has no volume")

        if obj["kind"] == "Deployment":
            strategy = obj["spec"].get("strategy") or {}
            if strategy.get("type") == "Recreate" and "rollingUpdate" in strategy:
                report.error(where, "strategy Recreate must not carry rollingUpdate")
            for c in containers:
                for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                    if probe not in c:
                        report.error(f"{where} container {c.get('name')}", f"no {probe}")
                grace = env_value(c, config, "FULIAN_SHUTDOWN_GRACE_SECONDS")
                if grace is not None:
                    pre_stop = ((c.get("lifecycle") or {}).get("preStop") or {}).get("sleep", {}).get("seconds", 0)
                    total = spec.get("terminationGracePeriodSeconds", 30)
                    if not int(grace) + int(pre_stop) < int(total):
                        report.error(
                            where,
                            f"terminationGracePeriodSeconds {total} must exceed preStop sleep {pre_stop} + "
                            f"FULIAN_SHUTDOWN_GRACE_SECONDS {grace}",
                        )
                url = env_value(c, config, "FULIAN_DATABASE_URL") or "sqlite://fulian.db"
                replicas = max(obj["spec"].get("replicas", 1), autoscaled.get(obj["metadata"]["name"], 1))
                if url.startswith("sqlite:") and replicas > 1:
                    report.error(where, f"up to {replicas} replicas on SQLite ({url}): one writer only, use PostgreSQL")
            labels = (obj["spec"].get("template", {}).get("metadata") or {}).get("labels") or {}
            for svc in by_kind.get("Service", {}).values():
                if svc["metadata"]["name"] == obj["metadata"]["name"] and not selector_matches(svc["spec"].get("selector") or {}, labels):
                    report.error(where, f"Service {svc['metadata']['name']} selects none of its pods")
            for pdb in by_kind.get("PodDisruptionBudget", {}).values():
                if pdb["metadata"]["name"] == obj["metadata"]["name"]:
                    if not selector_matches(pdb["spec"].get("selector") or {}, labels):
                        report.error(where, f"PodDisruptionBudget {pdb['metadata']['name']} selects none of its pods")
                    if "minAvailable" in pdb["spec"] and "maxUnavailable" in pdb["spec"]:
                        report.error(where, "PodDisruptionBudget sets both minAvailable and maxUnavailable")
        if report.errors == before:
            report.ok(where, "deployment rules")

    for hpa in by_kind.get("HorizontalPodAutoscaler", {}).values():
        target = hpa["spec"]["scaleTargetRef"]
        if target["name"] not in by_kind.get(target["kind"], {}):
            report.error(f"{render} {name_of(hpa)}", f"scales {target['kind']}/{target['name']}, which is not in the render")


def main(argv: list[str]) -> int:
    versions: list[str] = []
    renders: list[tuple[str, str, bool]] = []
    overlay = False
    args = iter(argv)
    for arg in args:
        if arg in ("-k", "--kubernetes-version"):
            versions.append(next(args))
        elif arg == "--overlay":
            overlay = True
        elif "=" in arg:
            name, path = arg.split("=", 1)
            renders.append((name, path, overlay))
            overlay = False
        else:
            print(__doc__, file=sys.stderr)
            return 2
    if not versions or not renders:
        print(__doc__, file=sys.stderr)
        return 2

    report = Report()
    for name, path, is_overlay in renders:
        with open(path, encoding="utf-8") as f:
            objects = [o for o in yaml.safe_load_all(f) if o]
        print(f"{name}: {len(objects)} objects")
        if not objects:
            report.error(name, "the render is empty")
            continue
        check_schemas(name, objects, versions, report)
        check_rules(name, objects, is_overlay, report)
    if report.errors:
        print(f"{report.errors} problem(s) in the Kubernetes manifests")
        return 1
    print("Kubernetes manifests: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
