// Validates the Kubernetes manifests of deploy/kubernetes.
//
//   node validate.mjs [MANIFEST_DIR]
//
// For every document of every file that kustomization.yaml lists (and every
// other *.yaml file in the folder, such as the alternative podmonitor.yaml):
//   1. builds the kubernetes-models class of its apiVersion/kind and calls
//      .validate() (types, enums, required fields, formats);
//   2. finds field names that the schema does not know. The generated
//      validators ignore unknown properties, so a misspelt `hostPid` would
//      pass step 1 and be dropped silently by the API server. The model's own
//      validate function is run on a Proxy of the object that records which
//      property names the validator reads: a typed object's validator reads
//      every property its schema declares, so a key present in the manifest
//      but never read is unknown. Objects the validator enumerates (maps such
//      as labels) accept any key;
//   3. checks the settings the exporter depends on (hostPID, capabilities,
//      the /host/proc mount, ports, probes, selectors).
// Before all that it proves on broken copies of the DaemonSet that a
// misspelt field and a wrongly typed field are both rejected.
//
//   node validate.mjs --built BUILT.yaml KIND
//
// Checks the output of `kustomize build` of the base (KIND base) or of an
// overlay of deploy/kubernetes-overlays (KIND kube-rbac-proxy or native-tls):
// steps 1 to 3 on every built document, that each namespaced one landed in
// the exporter's namespace, plus the overlay's own contract (the
// kube-rbac-proxy sidecar and its RBAC and HTTPS ServiceMonitor, or native
// TLS from a Secret).
//
// Exit status: 0 when everything passes, 1 otherwise.

import { readFileSync, readdirSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, parse as parseYaml } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
const builtMode = process.argv[2] === "--built";
const manifestDir = resolve((builtMode ? undefined : process.argv[2]) ??
  join(here, "..", "..", "..", "deploy", "kubernetes"));

// apiVersion -> module exporting one class per kind.
const MODULES = {
  v1: "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
  "rbac.authorization.k8s.io/v1": "kubernetes-models/rbac.authorization.k8s.io/v1",
};

const failures = [];
function fail(where, message) {
  failures.push(`${where}: ${message}`);
  console.log(`FAIL ${where}: ${message}`);
}

async function modelClass(apiVersion, kind) {
  const name = MODULES[apiVersion];
  if (!name) return null;
  const mod = await import(name);
  const cls = mod[kind];
  return typeof cls === "function" ? cls : null;
}

function joinPath(base, key, isIndex) {
  if (isIndex) return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}

// Runs the model's validate function on a recording Proxy of the model.
// Returns { error, unknown: [paths], unchecked: [paths] }.
function validateTracked(model) {
  const records = [];
  const proxies = new WeakMap();

  function wrap(value, path) {
    if (value === null || typeof value !== "object") return value;
    if (proxies.has(value)) return proxies.get(value);
    const rec = { path, target: value, read: new Set(), enumerated: false };
    records.push(rec);
    const isArray = Array.isArray(value);
    const proxy = new Proxy(value, {
      get(target, key, receiver) {
        const result = Reflect.get(target, key, receiver);
        if (typeof key !== "string") return result;
        rec.read.add(key);
        if (!Object.prototype.hasOwnProperty.call(target, key)) return result;
        return wrap(result, joinPath(path, key, isArray));
      },
      has(target, key) {
        if (typeof key === "string") rec.read.add(key);
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        rec.enumerated = true;
        return Reflect.ownKeys(target);
      },
    });
    proxies.set(value, proxy);
    return proxy;
  }

  const proxy = wrap(model, "");
  let error = null;
  try {
    Object.getPrototypeOf(model).validate.call(proxy);
  } catch (e) {
    error = e;
  }

  const unknown = [];
  const unchecked = [];
  for (const rec of records) {
    if (Array.isArray(rec.target) || rec.enumerated) continue;
    const keys = Object.keys(rec.target);
    if (keys.length === 0) continue;
    if (rec.read.size === 0) {
      // The schema says nothing about this object's contents (free-form).
      unchecked.push(rec.path || "(root)");
      continue;
    }
    for (const key of keys) {
      if (!rec.read.has(key)) unknown.push(joinPath(rec.path, key, false));
    }
  }
  return { error, unknown, unchecked };
}

// Schema checks of one document. Returns a list of problems (strings).
async function schemaProblems(doc) {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    return ["document is not a mapping"];
  }
  const { apiVersion, kind } = doc;
  const cls = await modelClass(apiVersion, kind);
  if (!cls) return [`no model for apiVersion ${apiVersion} kind ${kind}`];
  const problems = [];
  // 1. the package's own validation on a plain model.
  try {
    new cls(doc).validate();
  } catch (e) {
    problems.push(`schema: ${e.message}`);
  }
  // 2. unknown field names.
  const { unknown, unchecked } = validateTracked(new cls(doc));
  for (const path of unknown) problems.push(`unknown field ${path}`);
  for (const path of unchecked) console.log(`  note: contents of ${path} are free-form in the schema, not checked`);
  return problems;
}

// ---------------------------------------------------------------------------
// Contract checks: what the exporter needs to work.

function expect(where, cond, message) {
  if (!cond) fail(where, message);
}

function checkContract(byKind) {
  const ns = byKind.Namespace?.[0];
  expect("Namespace", ns, "missing");
  if (ns) {
    expect("Namespace", ns.metadata?.labels?.["pod-security.kubernetes.io/enforce"] === "privileged",
      "must be labelled pod-security.kubernetes.io/enforce: privileged");
  }

  const ds = byKind.DaemonSet?.[0];
  expect("DaemonSet", ds, "missing");
  if (!ds) return;
  const pod = ds.spec?.template?.spec ?? {};
  const podLabels = ds.spec?.template?.metadata?.labels ?? {};
  const c = pod.containers?.find((x) => x.name === "linux-namespace-exporter") ?? {};
  const sc = c.securityContext ?? {};
  const w = "DaemonSet";
  expect(w, pod.hostPID === true, "spec.template.spec.hostPID must be true");
  expect(w, (sc.runAsUser ?? pod.securityContext?.runAsUser) === 0, "must run as uid 0 (capabilities need it)");
  expect(w, (sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) === false, "runAsNonRoot must be false");
  expect(w, sc.allowPrivilegeEscalation === false, "allowPrivilegeEscalation must be false");
  expect(w, sc.readOnlyRootFilesystem === true, "readOnlyRootFilesystem must be true");
  expect(w, sc.privileged !== true, "must not be privileged");
  expect(w, JSON.stringify(sc.capabilities?.drop) === JSON.stringify(["ALL"]), "capabilities.drop must be [ALL]");
  const add = [...(sc.capabilities?.add ?? [])].sort();
  expect(w, JSON.stringify(add) === JSON.stringify(["DAC_READ_SEARCH", "SYS_PTRACE"]),
    "capabilities.add must be exactly SYS_PTRACE and DAC_READ_SEARCH");
  const seccomp = sc.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type;
  expect(w, seccomp === "RuntimeDefault", "seccompProfile must be RuntimeDefault");
  expect(w, (c.args ?? []).includes("--path.procfs=/host/proc"), "exporter must get --path.procfs=/host/proc");
  const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === "/host/proc");
  expect(w, mount && mount.readOnly === true, "/host/proc must be mounted read-only");
  const vol = mount && (pod.volumes ?? []).find((v) => v.name === mount.name);
  expect(w, vol?.hostPath?.path === "/proc", "/host/proc must be the host's /proc (hostPath)");
  // The pod's metrics port: the exporter's, or a proxy's in front of it.
  const port = (pod.containers ?? []).flatMap((x) => x.ports ?? []).find((p) => p.name === "metrics");
  expect(w, port?.containerPort === 19101, "container port 19101 must be named metrics");
  expect(w, c.livenessProbe?.httpGet?.path === "/-/healthy", "liveness probe must GET /-/healthy");
  expect(w, c.readinessProbe?.httpGet?.path === "/-/ready", "readiness probe must GET /-/ready");
  expect(w, (pod.tolerations ?? []).some((t) => t.operator === "Exists" && !t.key && !t.effect),
    "needs a toleration { operator: Exists } to run on every node");
  for (const kind of ["requests", "limits"]) {
    for (const res of ["cpu", "memory"]) {
      expect(w, c.resources?.[kind]?.[res] !== undefined, `resources.${kind}.${res} must be set`);
    }
  }
  const selector = ds.spec?.selector?.matchLabels ?? {};
  const matches = (sel) => Object.entries(sel).every(([k, v]) => podLabels[k] === v);
  expect(w, Object.keys(selector).length > 0 && matches(selector), "selector must match the pod template labels");

  const sa = byKind.ServiceAccount?.[0];
  if (pod.serviceAccountName) {
    expect(w, sa?.metadata?.name === pod.serviceAccountName, `service account ${pod.serviceAccountName} not defined`);
  }

  const svc = byKind.Service?.[0];
  if (svc) {
    expect("Service", svc.spec?.clusterIP === "None", "must be headless (clusterIP: None)");
    expect("Service", matches(svc.spec?.selector ?? { none: "" }), "selector must match the DaemonSet's pods");
    const sp = (svc.spec?.ports ?? []).find((p) => p.name === "metrics");
    expect("Service", sp?.port === 19101, "port 19101 must be named metrics");
  }
  const sm = byKind.ServiceMonitor?.[0];
  if (sm) {
    const svcLabels = svc?.metadata?.labels ?? {};
    const sel = sm.spec?.selector?.matchLabels ?? {};
    expect("ServiceMonitor", svc && Object.entries(sel).every(([k, v]) => svcLabels[k] === v),
      "selector must match the Service's labels");
    expect("ServiceMonitor", (sm.spec?.endpoints ?? []).every((e) => e.port === "metrics"),
      "endpoints must use the port named metrics");
  }
  const pm = byKind.PodMonitor?.[0];
  if (pm) {
    expect("PodMonitor", matches(pm.spec?.selector?.matchLabels ?? { none: "" }),
      "selector must match the DaemonSet's pods");
    expect("PodMonitor", (pm.spec?.podMetricsEndpoints ?? []).every((e) => e.port === "metrics"),
      "podMetricsEndpoints must use the port named metrics");
  }
}

// What an overlay must add to the base's contract.
function checkOverlayContract(byKind) {
  const ds = byKind.DaemonSet?.[0];
  const pod = ds?.spec?.template?.spec ?? {};
  const exporter = pod.containers?.find((x) => x.name === "linux-namespace-exporter") ?? {};
  const proxy = pod.containers?.find((x) => x.name === "kube-rbac-proxy");
  const sm = byKind.ServiceMonitor?.[0];
  const endpoints = sm?.spec?.endpoints ?? [];
  const args = exporter.args ?? [];
  expect("ServiceMonitor", sm && endpoints.length > 0 && endpoints.every((e) => e.scheme === "https"),
    "every endpoint must scrape with scheme https");
  if (proxy) {
    const w = "DaemonSet (kube-rbac-proxy)";
    expect(w, args.includes("--web.listen-address=127.0.0.1:19100"),
      "the exporter must listen on 127.0.0.1:19100 only");
    expect(w, (exporter.ports ?? []).length === 0, "the exporter must not expose a pod port");
    const pargs = proxy.args ?? [];
    expect(w, pargs.includes("--upstream=http://127.0.0.1:19100/"), "the proxy must forward to --upstream=http://127.0.0.1:19100/");
    expect(w, pargs.some((a) => /^--secure-listen-address=.*:19101$/.test(a)), "the proxy must serve TLS on 19101");
    expect(w, (proxy.ports ?? []).some((p) => p.name === "metrics" && p.containerPort === 19101),
      "the proxy's port 19101 must be the one named metrics");
    expect(w, pod.automountServiceAccountToken === true, "the proxy needs the service-account token mounted");
    for (const probe of ["livenessProbe", "readinessProbe"]) {
      const g = exporter[probe]?.httpGet ?? {};
      expect(w, g.scheme === "HTTPS" && g.port === 19101, `${probe} must go through the proxy (HTTPS, 19101)`);
    }
    const sa = byKind.ServiceAccount?.[0];
    expect("ServiceAccount", sa?.automountServiceAccountToken !== false, "must allow its token to be mounted");
    const role = byKind.ClusterRole?.[0];
    const allows = (group, resource) => (role?.rules ?? []).some((r) =>
      (r.apiGroups ?? []).includes(group) && (r.resources ?? []).includes(resource) && (r.verbs ?? []).includes("create"));
    expect("ClusterRole", allows("authentication.k8s.io", "tokenreviews"), "must allow create tokenreviews");
    expect("ClusterRole", allows("authorization.k8s.io", "subjectaccessreviews"), "must allow create subjectaccessreviews");
    const binding = byKind.ClusterRoleBinding?.[0];
    expect("ClusterRoleBinding", binding?.roleRef?.name === role?.metadata?.name &&
      (binding?.subjects ?? []).some((s) => s.kind === "ServiceAccount" && s.name === pod.serviceAccountName &&
        s.namespace === ds.metadata?.namespace), "must bind the ClusterRole to the DaemonSet's service account");
    expect("ServiceMonitor", endpoints.every((e) => e.bearerTokenFile || e.authorization),
      "every endpoint must send the service-account bearer token");
    return;
  }
  const w = "DaemonSet (native TLS)";
  const flag = args.find((a) => a.startsWith("--web.config.file="));
  expect(w, flag, "the exporter must get --web.config.file");
  if (!flag) return;
  const path = flag.slice("--web.config.file=".length);
  const mounts = exporter.volumeMounts ?? [];
  const mount = mounts.find((m) => m.mountPath === path || path.startsWith(m.mountPath + "/"));
  const volume = mount && (pod.volumes ?? []).find((v) => v.name === mount.name);
  const cm = volume?.configMap && (byKind.ConfigMap ?? []).find((x) => x.metadata?.name === volume.configMap.name);
  expect(w, cm, `${path} must be mounted from a ConfigMap of this overlay`);
  const text = cm?.data?.[mount?.subPath ?? path.split("/").pop()];
  expect(w, text, `the ConfigMap must hold ${path}`);
  if (!text) return;
  const web = parseYaml(text, { uniqueKeys: true });
  const tls = web?.tls_server_config ?? {};
  for (const key of ["cert_file", "key_file"]) {
    const file = tls[key];
    const m = file && mounts.find((x) => file.startsWith(x.mountPath + "/"));
    const v = m && (pod.volumes ?? []).find((x) => x.name === m.name);
    expect(w, v?.secret?.secretName === "linux-namespace-exporter-tls",
      `tls_server_config.${key} (${file}) must come from the mounted Secret linux-namespace-exporter-tls`);
    expect(w, !m?.subPath, `the Secret holding ${key} must be mounted as a directory (a subPath mount never sees a rotated certificate)`);
  }
  for (const probe of ["livenessProbe", "readinessProbe"]) {
    expect(w, exporter[probe]?.httpGet?.scheme === "HTTPS", `${probe} must use scheme HTTPS`);
  }
  expect("ServiceMonitor", endpoints.every((e) => e.tlsConfig), "every endpoint needs a tlsConfig");
}

// ---------------------------------------------------------------------------
// The output of `kustomize build` (the real kustomize, pinned in
// package.json) of the base or of an overlay.

const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding"]);

async function validateBuilt(file, kind) {
  const docs = loadDocuments(file);
  const byKind = {};
  for (const doc of docs) {
    const where = `${kind} ${doc.kind ?? "?"}/${doc.metadata?.name ?? "?"} (kustomize build)`;
    const problems = await schemaProblems(doc);
    for (const p of problems) fail(where, p);
    if (problems.length === 0) console.log(`ok   ${where}`);
    (byKind[doc.kind] ??= []).push(doc);
    if (!CLUSTER_SCOPED.has(doc.kind)) {
      expect(where, doc.metadata?.namespace === "linux-namespace-exporter",
        "must be in namespace linux-namespace-exporter");
    }
  }
  expect(kind, docs.length > 0, "kustomize build produced no documents");
  checkContract(byKind);
  const proxy = (byKind.DaemonSet?.[0]?.spec?.template?.spec?.containers ?? [])
    .some((c) => c.name === "kube-rbac-proxy");
  if (kind === "base") {
    expect("base", !proxy, "the base has no kube-rbac-proxy sidecar");
    const sm = byKind.ServiceMonitor?.[0];
    expect("base ServiceMonitor", sm && (sm.spec?.endpoints ?? []).every((e) => (e.scheme ?? "http") === "http"),
      "the base scrapes plain HTTP");
  } else if (kind === "kube-rbac-proxy") {
    expect(kind, proxy, "the DaemonSet must run a container named kube-rbac-proxy");
    checkOverlayContract(byKind);
  } else if (kind === "native-tls") {
    expect(kind, !proxy, "native TLS needs no kube-rbac-proxy sidecar");
    checkOverlayContract(byKind);
  } else {
    fail(kind, "unknown kind: base, kube-rbac-proxy or native-tls");
  }
  if (byKind.ServiceMonitor && byKind.PodMonitor) {
    fail(kind, "builds both a ServiceMonitor and a PodMonitor: every node would be scraped twice");
  }
  console.log(`${file} (${kind}): ${docs.length} documents checked, ${failures.length} failure(s)`);
  process.exit(failures.length === 0 ? 0 : 1);
}

// ---------------------------------------------------------------------------

const KUSTOMIZATION_KEYS = new Set([
  "apiVersion", "kind", "namespace", "namePrefix", "nameSuffix", "labels", "commonLabels",
  "commonAnnotations", "resources", "images", "patches", "configMapGenerator",
  "secretGenerator", "generatorOptions", "replicas", "components",
]);

function loadDocuments(file) {
  const text = readFileSync(file, "utf8");
  const docs = [];
  for (const doc of parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true })) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) fail(file, `YAML: ${e.message}`);
      continue;
    }
    const value = doc.toJS();
    if (value !== null && value !== undefined) docs.push(value);
  }
  return docs;
}

async function selfTest(daemonSet) {
  console.log("self-test: broken copies of the DaemonSet must be rejected");
  const ok = await schemaProblems(structuredClone(daemonSet));
  if (ok.length > 0) {
    fail("self-test", `the unmodified DaemonSet is not clean: ${ok.join("; ")}`);
    return;
  }

  // Misspelt field: the package's validate() lets it through, the unknown
  // field check must not.
  const misspelt = structuredClone(daemonSet);
  const podSpec = misspelt.spec.template.spec;
  podSpec.hostPid = podSpec.hostPID;
  delete podSpec.hostPID;
  const misspeltProblems = await schemaProblems(misspelt);
  if (!misspeltProblems.includes("unknown field spec.template.spec.hostPid")) {
    fail("self-test", `misspelt spec.template.spec.hostPid not reported (got: ${misspeltProblems.join("; ") || "nothing"})`);
  } else {
    console.log("  ok: misspelt spec.template.spec.hostPid is reported as unknown");
  }

  // A misspelt field deep inside an array element.
  const nested = structuredClone(daemonSet);
  const caps = nested.spec.template.spec.containers[0].securityContext.capabilities;
  caps.ad = caps.add;
  delete caps.add;
  const nestedProblems = await schemaProblems(nested);
  const nestedPath = "spec.template.spec.containers[0].securityContext.capabilities.ad";
  if (!nestedProblems.includes(`unknown field ${nestedPath}`)) {
    fail("self-test", `misspelt ${nestedPath} not reported (got: ${nestedProblems.join("; ") || "nothing"})`);
  } else {
    console.log(`  ok: misspelt ${nestedPath} is reported as unknown`);
  }

  // Wrong type: a port number given as a string.
  const wrongType = structuredClone(daemonSet);
  wrongType.spec.template.spec.containers[0].ports[0].containerPort = "19101";
  const typeProblems = await schemaProblems(wrongType);
  if (!typeProblems.some((p) => p.startsWith("schema:") && p.includes("containerPort"))) {
    fail("self-test", `string containerPort not rejected (got: ${typeProblems.join("; ") || "nothing"})`);
  } else {
    console.log("  ok: a string containerPort is rejected by the schema");
  }

  // Wrong type: a boolean given as a string.
  const wrongBool = structuredClone(daemonSet);
  wrongBool.spec.template.spec.hostPID = "true";
  const boolProblems = await schemaProblems(wrongBool);
  if (!boolProblems.some((p) => p.startsWith("schema:") && p.includes("hostPID"))) {
    fail("self-test", `string hostPID not rejected (got: ${boolProblems.join("; ") || "nothing"})`);
  } else {
    console.log("  ok: a string hostPID is rejected by the schema");
  }
}

async function main() {
  const kustomizationFile = join(manifestDir, "kustomization.yaml");
  if (!existsSync(kustomizationFile)) {
    console.log(`FAIL ${kustomizationFile} not found`);
    process.exit(1);
  }
  const kustomization = parseYaml(readFileSync(kustomizationFile, "utf8"), { uniqueKeys: true });
  for (const key of Object.keys(kustomization)) {
    if (!KUSTOMIZATION_KEYS.has(key)) fail("kustomization.yaml", `unknown field ${key}`);
  }
  if (kustomization.kind !== "Kustomization") fail("kustomization.yaml", "kind must be Kustomization");
  const listed = kustomization.resources ?? [];
  if (listed.length === 0) fail("kustomization.yaml", "lists no resources");

  const others = readdirSync(manifestDir)
    .filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml" && !listed.includes(f))
    .sort();

  const byKind = {};
  const deployed = {};
  let documents = 0;
  for (const file of [...listed, ...others]) {
    const path = join(manifestDir, file);
    if (!existsSync(path)) {
      fail("kustomization.yaml", `resource ${file} does not exist`);
      continue;
    }
    const inKustomization = listed.includes(file);
    for (const doc of loadDocuments(path)) {
      documents++;
      const where = `${file} ${doc.kind ?? "?"}/${doc.metadata?.name ?? "?"}`;
      const problems = await schemaProblems(doc);
      for (const p of problems) fail(where, p);
      if (problems.length === 0) console.log(`ok   ${where}${inKustomization ? "" : " (not in kustomization.yaml)"}`);
      (byKind[doc.kind] ??= []).push(doc);
      if (inKustomization) (deployed[doc.kind] ??= []).push(doc);
      if (kustomization.namespace && doc.kind !== "Namespace" && doc.metadata?.namespace &&
          doc.metadata.namespace !== kustomization.namespace) {
        fail(where, `namespace ${doc.metadata.namespace} differs from kustomization's ${kustomization.namespace}`);
      }
    }
  }

  checkContract(byKind);
  if (deployed.ServiceMonitor && deployed.PodMonitor) {
    fail("kustomization.yaml", "lists both a ServiceMonitor and a PodMonitor: every node would be scraped twice");
  }

  if (byKind.DaemonSet?.[0]) await selfTest(byKind.DaemonSet[0]);
  else fail("self-test", "no DaemonSet to mutate");

  console.log(`${documents} documents checked, ${failures.length} failure(s)`);
  process.exit(failures.length === 0 ? 0 : 1);
}

if (builtMode) await validateBuilt(process.argv[3], process.argv[4]);
else await main();
