#!/usr/bin/env python3
"""Checks the deployment files against the code, since no Docker engine or cluster runs here.

Usage: check_deploy.py SOURCE_DIR [BUILD_DIR]

- every YAML file under k8s/ and compose/ parses;
- every Kubernetes object has apiVersion, kind, metadata.name and (namespaced kinds) a namespace;
- every image is the one the Dockerfile builds (crescendo:<project version>);
- every environment variable and ConfigMap key named in the manifests and the compose files is an
  option of a daemon's config table (grepped from the code), and, with BUILD_DIR, each daemon
  accepts the values (`--print-config` with that environment exits 0);
- every probe path and health-check URL is a route the code serves; container ports match;
- the coordinator's Role allows only get/patch on a scale subresource;
- the compose file passes `docker compose config` / `docker-compose config` when a client is here.
Prints one line per failed check and `N passed, N failed`.
"""
import glob
import os
import re
import shutil
import subprocess
import sys

import yaml

SRC = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
BUILD = os.path.abspath(sys.argv[2]) if len(sys.argv) > 2 else None
passed = 0
failed = 0

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume",
                  "StorageClass", "CustomResourceDefinition"}
DAEMONS = {"crescendo-agent": "agent/crescendo-agent",
           "crescendo-coordinator": "coordinator/crescendo-coordinator",
           "crescendo-api": "api/crescendo-api"}


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL: " + what)


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def code_files(*dirs):
    out = []
    for d in dirs:
        out += glob.glob(os.path.join(SRC, d, "**", "*.[ch]"), recursive=True)
    return out


def option_names(dirs):
    """Environment variables declared in option tables: rows start with {"NAME", "flag"."""
    names = set()
    for path in code_files(*dirs):
        names.update(re.findall(r'\{(?:\s|\\)*"([A-Z][A-Z0-9_]*)"\s*,(?:\s|\\)*(?:"[a-z0-9-]+"|NULL)', read(path)))
        names.update(re.findall(r'getenv\("([A-Z][A-Z0-9_]*)"\)', read(path)))
    return names


SHARED_OPTS = option_names(["shared"])
DAEMON_OPTS = {
    "crescendo-agent": option_names(["agent"]) | SHARED_OPTS,
    "crescendo-coordinator": option_names(["coordinator"]) | SHARED_OPTS,
    "crescendo-api": option_names(["api"]) | SHARED_OPTS,
}
ALL_OPTS = set().union(*DAEMON_OPTS.values())
ROUTES = {p for path in code_files("agent", "coordinator", "api")
          for p in re.findall(r'"(/(?:healthz|readyz|metrics))"', read(path))}


def project_version():
    m = re.search(r"project\(crescendo VERSION ([0-9.]+)", read(os.path.join(SRC, "CMakeLists.txt")))
    return m.group(1) if m else None


VERSION = project_version()
IMAGE = "crescendo:%s" % VERSION
check(VERSION is not None, "CMakeLists.txt declares the project version")
check(("ARG VERSION=%s" % VERSION) in read(os.path.join(SRC, "Dockerfile")),
      "Dockerfile ARG VERSION matches the project version %s" % VERSION)

# ---- Kubernetes ----------------------------------------------------------------------------
objects = []
for path in sorted(glob.glob(os.path.join(SRC, "k8s", "*.yaml"))):
    name = os.path.relpath(path, SRC)
    try:
        docs = [d for d in yaml.safe_load_all(read(path)) if d is not None]
    except yaml.YAMLError as e:
        check(False, "%s parses as YAML: %s" % (name, e))
        continue
    check(len(docs) > 0, "%s holds at least one object" % name)
    for d in docs:
        objects.append((name, d))

for required in ["namespace.yaml", "deployment.yaml", "service.yaml", "hpa.yaml"]:
    check(os.path.exists(os.path.join(SRC, "k8s", required)), "k8s/%s exists" % required)

configmaps = {}
secrets = {}
for name, d in objects:
    kind = d.get("kind")
    meta = d.get("metadata") or {}
    label = "%s %s/%s" % (name, kind, meta.get("name"))
    check(bool(d.get("apiVersion")) and bool(kind) and bool(meta.get("name")),
          "%s has apiVersion, kind and metadata.name" % label)
    if kind not in CLUSTER_SCOPED:
        check(bool(meta.get("namespace")), "%s has a namespace" % label)
    if kind == "ConfigMap":
        configmaps[meta["name"]] = d.get("data") or {}
    if kind == "Secret":
        secrets[meta["name"]] = set((d.get("stringData") or {}).keys()) | set((d.get("data") or {}).keys())

kinds = {d.get("kind") for _, d in objects}
for k in ["Namespace", "Deployment", "Service", "HorizontalPodAutoscaler", "DaemonSet",
          "ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Secret", "PodDisruptionBudget"]:
    check(k in kinds, "k8s/ defines a %s" % k)

for cm, data in configmaps.items():
    for key in data:
        check(key in ALL_OPTS, "ConfigMap %s key %s is an option of some daemon" % (cm, key))


def pod_spec(d):
    kind = d.get("kind")
    if kind in ("Deployment", "DaemonSet", "StatefulSet"):
        return d["spec"]["template"]["spec"]
    return None


for name, d in objects:
    spec = pod_spec(d)
    if spec is None:
        continue
    label = "%s %s/%s" % (name, d["kind"], d["metadata"]["name"])
    psc = spec.get("securityContext") or {}
    check(psc.get("runAsNonRoot") is True, "%s runs as non-root" % label)
    volumes = {v["name"]: v for v in spec.get("volumes") or []}
    for c in spec.get("containers") or []:
        cl = "%s container %s" % (label, c.get("name"))
        check(c.get("image") == IMAGE, "%s uses image %s (has %s)" % (cl, IMAGE, c.get("image")))
        cmd = (c.get("command") or [""])[0]
        daemon = os.path.basename(cmd)
        check(daemon in DAEMONS, "%s runs a crescendo daemon (%s)" % (cl, cmd))
        opts = DAEMON_OPTS.get(daemon, ALL_OPTS)
        env = {}
        for ref in c.get("envFrom") or []:
            cmref = (ref.get("configMapRef") or {}).get("name")
            check(cmref in configmaps, "%s envFrom ConfigMap %s exists" % (cl, cmref))
            env.update(configmaps.get(cmref, {}))
        for e in c.get("env") or []:
            check(e["name"] in opts, "%s env %s is an option of %s" % (cl, e["name"], daemon))
            if "value" in e:
                env[e["name"]] = e["value"]
            vf = e.get("valueFrom") or {}
            if "configMapKeyRef" in vf:
                r = vf["configMapKeyRef"]
                check(r["key"] in configmaps.get(r["name"], {}), "%s ConfigMap key %s exists" % (cl, r["key"]))
            if "secretKeyRef" in vf:
                r = vf["secretKeyRef"]
                check(r["key"] in secrets.get(r["name"], set()), "%s Secret key %s exists" % (cl, r["key"]))
            if "fieldRef" in vf:
                env[e["name"]] = "pod-0"
        ports = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
        for probe in ("livenessProbe", "readinessProbe"):
            p = (c.get(probe) or {}).get("httpGet")
            ex = (c.get(probe) or {}).get("exec")
            check(p is not None or ex is not None or probe == "readinessProbe", "%s has a %s" % (cl, probe))
            if ex:
                check(ex["command"][0] == cmd and "HEALTH_FILE" in env,
                      "%s exec %s runs the daemon's probe with HEALTH_FILE set" % (cl, probe))
                check(any(m["mountPath"] == os.path.dirname(env.get("HEALTH_FILE", "/x/y"))
                          for m in c.get("volumeMounts") or []),
                      "%s HEALTH_FILE lies on a writable mount (root filesystem is read-only)" % cl)
            if p:
                check(p["path"] in ROUTES, "%s %s path %s is served by the code" % (cl, probe, p["path"]))
                port = ports.get(p["port"], p["port"])
                want = int(env.get("API_PORT" if daemon == "crescendo-api" else "HEALTH_PORT", 0))
                check(port == want, "%s %s port %s matches the daemon's port %s" % (cl, probe, port, want))
        sc = c.get("securityContext") or {}
        check(sc.get("allowPrivilegeEscalation") is False, "%s forbids privilege escalation" % cl)
        check(sc.get("readOnlyRootFilesystem") is True, "%s has a read-only root filesystem" % cl)
        check("ALL" in ((sc.get("capabilities") or {}).get("drop") or []), "%s drops all capabilities" % cl)
        res = c.get("resources") or {}
        check(bool(res.get("requests")) and bool(res.get("limits")), "%s has requests and limits" % cl)
        for m in c.get("volumeMounts") or []:
            check(m["name"] in volumes, "%s mounts a declared volume %s" % (cl, m["name"]))
            v = volumes.get(m["name"], {})
            if "hostPath" in v:
                check(m.get("readOnly") is True, "%s mounts host path %s read-only" % (cl, v["hostPath"]["path"]))
        if BUILD and daemon in DAEMONS:
            binary = os.path.join(BUILD, DAEMONS[daemon])
            if not os.path.exists(binary):
                check(False, "%s binary %s is built" % (cl, binary))
                continue
            full = {k: v for k, v in os.environ.items() if not k.startswith(tuple(ALL_OPTS))}
            full.update({k: str(v) for k, v in env.items()})
            if "API_TOKEN_FILE" in full:
                full.pop("API_TOKEN_FILE")
                full["API_TOKEN"] = "check-token"
            r = subprocess.run([binary, "--print-config"], env=full, capture_output=True, text=True, timeout=30)
            check(r.returncode == 0, "%s: %s --print-config accepts the manifest's environment: %s"
                  % (cl, daemon, r.stderr.strip()[:300]))

for name, d in objects:
    if d.get("kind") == "Role":
        for rule in d.get("rules") or []:
            check(set(rule.get("verbs", [])) <= {"get", "patch"}, "%s Role verbs are only get/patch" % name)
            check(all(r.endswith("/scale") for r in rule.get("resources", [])),
                  "%s Role covers only scale subresources" % name)

# ---- compose -------------------------------------------------------------------------------
compose = os.path.join(SRC, "compose", "docker-compose.yml")
check(os.path.exists(compose), "compose/docker-compose.yml exists")
try:
    c = yaml.safe_load(read(compose))
except yaml.YAMLError as e:
    c = None
    check(False, "compose file parses: %s" % e)
if c:
    envfile = {}
    for line in read(os.path.join(SRC, "compose", "crescendo.env")).splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            k, _, v = line.partition("=")
            envfile[k] = v
            check(k in ALL_OPTS, "compose/crescendo.env %s is an option of some daemon" % k)
    for k in ["MIN_INSTANCES", "MAX_INSTANCES", "CPU_THRESHOLD", "MEMORY_THRESHOLD",
              "SCALING_COOLDOWN", "LOAD_BALANCER_STRATEGY"]:
        check(k in envfile, "compose/crescendo.env sets %s" % k)
    services = c.get("services") or {}
    check("kafka" in services and services["kafka"]["image"].startswith("apache/kafka"),
          "compose runs the official apache/kafka image")
    n = {"crescendo-coordinator": 0, "crescendo-api": 0, "crescendo-agent": 0}
    for sname, s in services.items():
        if sname == "kafka":
            continue
        daemon = os.path.basename((s.get("command") or [""])[0])
        check(daemon in n, "compose service %s runs a crescendo daemon" % sname)
        n[daemon] = n.get(daemon, 0) + 1
        check(s.get("image") == IMAGE, "compose service %s uses %s" % (sname, IMAGE))
        check("healthcheck" in s, "compose service %s has a health check" % sname)
        check("depends_on" in s, "compose service %s declares its dependencies" % sname)
        for k in (s.get("environment") or {}):
            check(k in DAEMON_OPTS.get(daemon, ALL_OPTS), "compose %s env %s is an option of %s" % (sname, k, daemon))
        test = (s.get("healthcheck") or {}).get("test") or []
        if "--probe" in test:
            check("HEALTH_FILE" in (s.get("environment") or {}) and bool(s.get("tmpfs")),
                  "compose %s exec probe has HEALTH_FILE on a tmpfs" % sname)
        for url in re.findall(r"http://127\.0\.0\.1:\d+(/\w+)", " ".join(map(str, s.get("healthcheck", {}).get("test", [])))):
            check(url in ROUTES, "compose %s health check path %s is served" % (sname, url))
    check(n["crescendo-coordinator"] == 2, "compose runs two coordinators")
    check(n["crescendo-api"] == 1, "compose runs the API")
    check(n["crescendo-agent"] == 3, "compose runs three agents")
    client = None
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        client = ["docker", "compose"]
    elif shutil.which("docker-compose"):
        client = ["docker-compose"]
    if client:
        r = subprocess.run(client + ["-f", compose, "config", "-q"], capture_output=True, text=True)
        check(r.returncode == 0, "%s config accepts the compose file: %s" % (" ".join(client), r.stderr.strip()[:300]))
    else:
        print("note: no docker compose client here; the compose file was parsed and checked only")

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
