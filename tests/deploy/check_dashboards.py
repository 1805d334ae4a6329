#!/usr/bin/env python3
"""Lints the Grafana dashboards in grafana-dashboards/.

Conventions checked on every dashboard file:
  - valid JSON, schemaVersion 39, a stable uid (unique across files), a title;
  - a variable "datasource" of type datasource (query prometheus), and query
    variables "job" and "instance" using label_values(...);
  - every panel (rows aside), every target and every query variable uses
    {"type": "prometheus", "uid": "${datasource}"}; no datasource uid is
    hard-coded anywhere;
  - every rate/irate/increase range is [$__rate_interval];
  - every timeseries/stat/gauge/bargauge panel sets fieldConfig.defaults.unit;
  - every target has an expression, a refId unique in its panel; panel ids
    are unique; every $variable used is defined or a Grafana built-in;
  - brackets balance in every expression and only metrics the exporter
    exports (or Prometheus adds, or kube-state-metrics' kube_pod_info and
    kube_pod_container_info for the pod joins), or that the fleet recording
    rules (deploy/prometheus/rules/linux_namespace_fleet.yml) record, are
    used;
  - fleet scale: every panel selector of a per-namespace metric
    (linux_namespace_info, _processes, ...: thousands of series per node)
    matches instance against one node, a variable that offers neither
    "All" nor several values (or a literal), so that no panel reads the
    per-namespace series of a whole fleet; fleet-wide and per-node totals
    read the exporter's aggregates or the recording rules instead;
  - a panel that reads a recording rule names the rule and the rules file
    in its description, since it has no data where that file is not loaded.

Then it mutates a loaded dashboard in memory (hard-coded datasource uid,
missing unit, fixed rate range, per-namespace series over "All" nodes, ...)
and requires each mutation to be caught, so that the lint is known to work.

Usage: check_dashboards.py [DASHBOARD.json ...]   (default: all of
grafana-dashboards/*.json). Exit status 0 when clean, 1 otherwise.
"""

import copy
import glob
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# The repository root: NSEXP_SOURCE_DIR (set by CTest) or two levels up.
ROOT = os.environ.get("NSEXP_SOURCE_DIR") or os.path.normpath(os.path.join(HERE, "..", ".."))
DASHBOARD_DIR = os.path.join(ROOT, "grafana-dashboards")
FLEET_RULES = os.path.join(ROOT, "deploy", "prometheus", "rules", "linux_namespace_fleet.yml")
FLEET_RULES_NAME = "linux_namespace_fleet.yml"

DATASOURCE_REF = {"type": "prometheus", "uid": "${datasource}"}
SCHEMA_VERSION = 39
UNIT_PANELS = {"timeseries", "stat", "gauge", "bargauge"}
BUILTIN_VARIABLES = {
    "__rate_interval", "__interval", "__interval_ms", "__range", "__range_s", "__range_ms",
    "__from", "__to", "__dashboard", "__org", "__user", "__name", "__series", "__field",
    "__value", "__data", "__cell", "__timeFilter", "__auto_interval", "timeFilter",
}
# Metrics of the exporter (see the design's metric tables) and of Prometheus.
KNOWN_METRICS = {
    "linux_namespace_info", "linux_namespace_processes", "linux_namespace_depth",
    "linux_namespace_children", "linux_namespaces", "linux_namespace_limit",
    "linux_namespace_exporter_build_info", "linux_namespace_exporter_scrape_duration_seconds",
    "linux_namespace_exporter_processes_scanned", "linux_namespace_exporter_scrape_errors_total",
    "linux_namespace_holders", "linux_namespace_bind_mount_info", "linux_namespace_container_processes",
    "linux_namespaces_by_depth", "linux_namespace_exporter_mount_namespaces_unscanned",
    "process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
    "process_open_fds", "process_max_fds", "process_start_time_seconds",
    "up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
    # kube-state-metrics, for the pod and container joins.
    "kube_pod_info", "kube_pod_container_info",
}
# Per-namespace metrics: a series per namespace (and per container or
# holder), thousands per node. Panels read them for one node at a time.
PER_NAMESPACE_METRICS = {
    "linux_namespace_info", "linux_namespace_processes", "linux_namespace_depth",
    "linux_namespace_children", "linux_namespace_holders", "linux_namespace_bind_mount_info",
    "linux_namespace_container_processes",
}
assert PER_NAMESPACE_METRICS <= KNOWN_METRICS


def recording_rules(path=FLEET_RULES):
    """The names the fleet rules file records (level:metric:operations)."""
    with open(path, encoding="utf-8") as f:
        return set(re.findall(r"^\s*-\s*record:\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*$", f.read(), re.M))


# Words in PromQL that look like metric names but are not.
PROMQL_WORDS = {
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk", "quantile",
    "count_values", "group", "by", "without", "on", "ignoring", "group_left", "group_right",
    "and", "or", "unless", "offset", "bool", "rate", "irate", "increase", "delta", "idelta",
    "deriv", "predict_linear", "absent", "absent_over_time", "vector", "scalar", "time",
    "label_replace", "label_join", "sort", "sort_desc", "abs", "ceil", "floor", "round",
    "clamp", "clamp_min", "clamp_max", "changes", "resets", "histogram_quantile", "timestamp",
    "avg_over_time", "min_over_time", "max_over_time", "sum_over_time", "count_over_time",
    "last_over_time", "quantile_over_time", "stddev_over_time", "present_over_time", "label_values",
    "query_result", "metrics", "label_names", "inf", "nan", "atan2", "exp", "ln", "log2", "log10",
    "sqrt", "sgn", "day_of_month", "day_of_week", "days_in_month", "hour", "minute", "month", "year",
}
RANGE_FUNCTION = re.compile(r"\b(rate|irate|increase)\s*\(")
VARIABLE = re.compile(r"\$(?:\{([A-Za-z0-9_]+)(?::[^}]*)?\}|([A-Za-z0-9_]+))|\[\[([A-Za-z0-9_]+)\]\]")


def panels_of(dashboard):
    """All panels, including those nested in collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        for inner in panel.get("panels", []) or []:
            yield inner


def strip_strings_and_labels(expr):
    """The expression without quoted strings and {label matchers}."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    return re.sub(r"\{[^{}]*\}", "{}", expr)


def range_problems(expr):
    """Ranges of rate/irate/increase that are not [$__rate_interval]."""
    problems = []
    for match in RANGE_FUNCTION.finditer(expr):
        depth, i = 0, match.end() - 1
        argument_end = None
        while i < len(expr):
            if expr[i] == "(":
                depth += 1
            elif expr[i] == ")":
                depth -= 1
                if depth == 0:
                    argument_end = i
                    break
            i += 1
        argument = expr[match.end():argument_end] if argument_end else expr[match.end():]
        ranges = re.findall(r"\[([^\]]*)\]", argument)
        if not ranges:
            problems.append(f"{match.group(1)}() without a range")
        for r in ranges:
            if r.strip() != "$__rate_interval":
                problems.append(f"{match.group(1)}() over [{r}] instead of [$__rate_interval]")
    return problems


def bracket_problems(expr):
    stack = []
    pairs = {")": "(", "]": "[", "}": "{"}
    for ch in re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr):
        if ch in "([{":
            stack.append(ch)
        elif ch in ")]}":
            if not stack or stack.pop() != pairs[ch]:
                return ["unbalanced brackets"]
    return ["unbalanced brackets"] if stack else []


def metric_problems(expr, rules):
    problems = []
    # label_values(SELECTOR, LABEL) and label_values(LABEL): only the
    # selector names a metric.
    m = re.fullmatch(r"\s*label_values\((.*?)(?:,\s*[A-Za-z_][A-Za-z0-9_]*)?\)\s*", expr, re.S)
    if m:
        expr = m.group(1) if "," in expr else ""
    text = strip_strings_and_labels(expr)
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges such as [1h]
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    for word in re.findall(r"(?<![$\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)", text):
        if word in PROMQL_WORDS or word in KNOWN_METRICS or word in rules:
            continue
        problems.append(f"unknown metric or word {word!r}")
    return problems


MATCHER = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
WHOLE_VARIABLE = re.compile(r"\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\$([A-Za-z0-9_]+)|\[\[([A-Za-z0-9_]+)\]\]")


def single_valued(variable):
    """Whether a variable always holds exactly one value: no "All", not multi."""
    return (variable is not None and variable.get("type") in ("query", "custom", "constant", "textbox")
            and not variable.get("includeAll") and not variable.get("multi"))


def per_namespace_problems(expr, by_name):
    """Selectors of per-namespace metrics that may span several nodes."""
    problems = []
    names = "|".join(sorted(PER_NAMESPACE_METRICS))
    for m in re.finditer(r"(?<![\w:])(" + names + r")(?![\w:])(\s*\{([^{}]*)\})?", expr):
        metric, matchers = m.group(1), MATCHER.findall(m.group(3) or "")
        instance = [(op, value) for label, op, value in matchers if label == "instance"]
        if not instance:
            problems.append(f"reads per-namespace series of {metric} without an instance matcher (one node)")
            continue
        op, value = instance[0]
        whole = WHOLE_VARIABLE.fullmatch(value)
        if whole:
            var = whole.group(1) or whole.group(2) or whole.group(3)
            if op not in ("=", "=~") or not single_valued(by_name.get(var)):
                problems.append(f"reads per-namespace series of {metric} with instance{op}\"{value}\", "
                                f"which can select several nodes (the variable must offer no All and one value)")
        elif op != "=" or "$" in value or "[[" in value:
            problems.append(f"reads per-namespace series of {metric} with instance{op}\"{value}\", "
                            f"which can select several nodes")
    return problems


def check_datasource_ref(where, value, errors):
    if value != DATASOURCE_REF:
        errors.append(f"{where}: datasource must be {json.dumps(DATASOURCE_REF)}, not {json.dumps(value)}")


def hard_coded_uids(node, path, errors):
    """Every 'datasource' anywhere must refer to the variable (Grafana's own
    annotation source, uid '-- Grafana --', is allowed)."""
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else key
            if key == "datasource":
                if isinstance(value, dict):
                    uid = value.get("uid")
                    if value.get("type") == "grafana" and uid == "-- Grafana --":
                        continue
                    if uid not in ("${datasource}", "$datasource"):
                        errors.append(f"{where}: hard-coded datasource uid {uid!r}")
                elif isinstance(value, str) and value not in ("${datasource}", "$datasource"):
                    errors.append(f"{where}: hard-coded datasource {value!r}")
            hard_coded_uids(value, where, errors)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            hard_coded_uids(value, f"{path}[{i}]", errors)


def variable_query(variable):
    query = variable.get("query")
    if isinstance(query, dict):
        query = query.get("query", "")
    return query or ""


def lint(dashboard, name, rules):
    """Returns the list of problems of one dashboard; rules: the names the
    fleet recording rules record."""
    errors = []
    if dashboard.get("schemaVersion") != SCHEMA_VERSION:
        errors.append(f"schemaVersion must be {SCHEMA_VERSION}, is {dashboard.get('schemaVersion')}")
    uid = dashboard.get("uid")
    if not isinstance(uid, str) or not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,39}", uid):
        errors.append(f"uid must be a stable lowercase id of at most 40 characters, is {uid!r}")
    if not dashboard.get("title"):
        errors.append("no title")
    if dashboard.get("id") not in (None,):
        errors.append("id must be null or absent (Grafana assigns it)")

    variables = dashboard.get("templating", {}).get("list", [])
    by_name = {v.get("name"): v for v in variables}
    ds = by_name.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        errors.append('needs a variable "datasource" of type datasource with query "prometheus"')
    for required in ("job", "instance"):
        v = by_name.get(required)
        if not v or v.get("type") != "query":
            errors.append(f'needs a query variable "{required}"')
        elif "label_values(" not in variable_query(v):
            errors.append(f'variable "{required}" must use label_values(...)')
    defined = set(by_name) | BUILTIN_VARIABLES

    expressions = []  # (where, expr)
    for v in variables:
        if v.get("type") == "query":
            where = f"variable {v.get('name')}"
            check_datasource_ref(where, v.get("datasource"), errors)
            query = variable_query(v)
            if not query:
                errors.append(f"{where}: empty query")
            expressions.append((where, query))

    seen_ids = set()
    for panel in panels_of(dashboard):
        ptype = panel.get("type")
        where = f"panel {panel.get('id')} {panel.get('title')!r}"
        if panel.get("id") in seen_ids:
            errors.append(f"{where}: duplicate panel id")
        seen_ids.add(panel.get("id"))
        if "gridPos" not in panel:
            errors.append(f"{where}: no gridPos")
        if ptype == "row":
            continue
        check_datasource_ref(where, panel.get("datasource"), errors)
        if ptype in UNIT_PANELS:
            unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
            if not unit:
                errors.append(f"{where}: {ptype} panel without fieldConfig.defaults.unit")
        targets = panel.get("targets") or []
        if not targets and ptype not in ("text", "dashlist", "news"):
            errors.append(f"{where}: no targets")
        refs = set()
        for target in targets:
            twhere = f"{where} target {target.get('refId')}"
            check_datasource_ref(twhere, target.get("datasource"), errors)
            if not target.get("refId") or target.get("refId") in refs:
                errors.append(f"{twhere}: missing or duplicate refId")
            refs.add(target.get("refId"))
            if not target.get("expr"):
                errors.append(f"{twhere}: no expr")
            else:
                expressions.append((twhere, target["expr"]))
                for p in per_namespace_problems(target["expr"], by_name):
                    errors.append(f"{twhere}: {p} in {target['expr']!r}")
                description = panel.get("description", "")
                for rule in sorted(set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", target["expr"])) & rules):
                    if rule not in description or FLEET_RULES_NAME not in description:
                        errors.append(f"{twhere}: reads the recording rule {rule}; its description must name "
                                      f"it and {FLEET_RULES_NAME}")
        for text in (panel.get("title", ""), panel.get("description", "")):
            for m in VARIABLE.finditer(text):
                var = m.group(1) or m.group(2) or m.group(3)
                if var not in defined:
                    errors.append(f"{where}: undefined variable ${var} in title or description")

    for where, expr in expressions:
        for m in VARIABLE.finditer(expr):
            var = m.group(1) or m.group(2) or m.group(3)
            # $1 is label_replace's back-reference; Grafana leaves it alone.
            if var not in defined and not var.isdigit():
                errors.append(f"{where}: undefined variable ${var} in {expr!r}")
        for p in range_problems(expr) + bracket_problems(expr) + metric_problems(expr, rules):
            errors.append(f"{where}: {p} in {expr!r}")

    hard_coded_uids(dashboard, "", errors)
    return [f"{name}: {e}" for e in errors]


def first_unit_panel(dashboard):
    """The first panel that must set a unit (timeseries, stat, ...)."""
    return next(p for p in panels_of(dashboard) if p.get("type") in UNIT_PANELS)


def per_namespace_target(dashboard):
    """The first panel target that reads a per-namespace metric, or None."""
    for panel in panels_of(dashboard):
        for target in panel.get("targets") or []:
            words = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", target.get("expr", "")))
            if words & PER_NAMESPACE_METRICS:
                return target
    return None


def rule_panel(dashboard, rules):
    """(panel, a recording rule it reads) for the first such panel, or None."""
    for panel in panels_of(dashboard):
        for target in panel.get("targets") or []:
            used = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", target.get("expr", ""))) & rules
            if used:
                return panel, sorted(used)[0]
    return None


def self_test(dashboard, name, rules):
    """Each mutation of a clean dashboard must be reported. Returns the
    failures and the names of the mutations that applied to this dashboard
    (some need a panel on per-namespace series or on a recording rule)."""
    def hard_coded_panel(d):
        first_unit_panel(d)["datasource"] = {"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}

    def hard_coded_target(d):
        first_unit_panel(d)["targets"][0]["datasource"] = {"type": "prometheus", "uid": "abc123"}

    def hard_coded_string(d):
        d["templating"]["list"][1]["datasource"] = "Prometheus"

    def no_unit(d):
        del first_unit_panel(d)["fieldConfig"]["defaults"]["unit"]

    def fixed_rate(d):
        first_unit_panel(d)["targets"][0]["expr"] = \
            'sum(rate(linux_namespace_exporter_scrape_errors_total{job=~"$job"}[5m]))'

    def old_schema(d):
        d["schemaVersion"] = 38

    def no_datasource_variable(d):
        d["templating"]["list"] = [v for v in d["templating"]["list"] if v.get("name") != "datasource"]

    def undefined_variable(d):
        first_unit_panel(d)["targets"][0]["expr"] = 'linux_namespaces{job=~"$jobb"}'

    def misspelt_metric(d):
        first_unit_panel(d)["targets"][0]["expr"] = 'linux_namespace{job=~"$job"}'

    def unbalanced(d):
        first_unit_panel(d)["targets"][0]["expr"] = 'sum(linux_namespaces{job=~"$job"}'

    def hard_coded_annotation(d):
        d["annotations"]["list"].append({"name": "deploys", "enable": True,
                                         "datasource": {"type": "prometheus", "uid": "abc123"}})

    def misspelt_rule(d):
        first_unit_panel(d)["targets"][0]["expr"] = 'instance_type:linux_namespace_depth:maximum{job=~"$job"}'

    # Grafana's "All" offered for the node of a per-namespace panel.
    def all_nodes_per_namespace(d):
        target = per_namespace_target(d)
        if target is None:
            return False
        var = re.search(r'instance=~?"\$\{?([A-Za-z0-9_]+)', target["expr"]).group(1)
        variable = next(v for v in d["templating"]["list"] if v.get("name") == var)
        variable.update({"includeAll": True, "multi": True, "allValue": ".*"})
        return True

    # A fleet-wide top-k over every node's per-namespace series.
    def per_namespace_without_instance(d):
        target = per_namespace_target(d)
        if target is None:
            return False
        target["expr"] = 'topk(20, linux_namespace_processes{job=~"$job"})'
        return True

    def rule_panel_without_note(d):
        found = rule_panel(d, rules)
        if found is None:
            return False
        found[0]["description"] = "Namespaces."
        return True

    # The dashboard reads a rule that the rules file no longer records.
    def rule_dropped_from_file(d):
        found = rule_panel(d, rules)
        if found is None:
            return False
        return rules - {found[1]}

    # Each mutation and a piece of the message that must report it.
    mutations = [
        (hard_coded_panel, "datasource must be"),
        (hard_coded_target, "target A: datasource must be"),
        (hard_coded_string, "hard-coded datasource 'Prometheus'"),
        (hard_coded_annotation, "hard-coded datasource uid 'abc123'"),
        (no_unit, "without fieldConfig.defaults.unit"),
        (fixed_rate, "instead of [$__rate_interval]"),
        (old_schema, "schemaVersion must be 39"),
        (no_datasource_variable, 'needs a variable "datasource"'),
        (undefined_variable, "undefined variable $jobb"),
        (misspelt_metric, "unknown metric or word 'linux_namespace'"),
        (unbalanced, "unbalanced brackets"),
        (misspelt_rule, "unknown metric or word 'instance_type:linux_namespace_depth:maximum'"),
        (all_nodes_per_namespace, "which can select several nodes"),
        (per_namespace_without_instance, "without an instance matcher"),
        (rule_panel_without_note, "its description must name it and linux_namespace_fleet.yml"),
        (rule_dropped_from_file, "unknown metric or word 'instance"),
    ]
    failures, applied = [], set()
    for mutate, expected in mutations:
        broken = copy.deepcopy(dashboard)
        # None: applies, the rules as they are; False: does not apply to
        # this dashboard; a set: lint against these rules instead.
        outcome = mutate(broken)
        if outcome is False:
            continue
        applied.add(mutate.__name__)
        problems = [p for p in lint(broken, name, rules if outcome in (None, True) else outcome)
                    if expected in p]
        if not problems:
            failures.append(f"self-test: mutation {mutate.__name__} of {name} was not reported ({expected!r})")
        else:
            print(f"self-test ok: {mutate.__name__} caught ({problems[0]})")
    return failures, applied, {m.__name__ for m, _ in mutations}


def main(argv):
    files = argv[1:] or sorted(glob.glob(os.path.join(DASHBOARD_DIR, "*.json")))
    if not files:
        print(f"FAIL: no dashboards found in {DASHBOARD_DIR}")
        return 1
    problems = []
    uids = {}
    loaded = []
    try:
        rules = recording_rules()
    except OSError as e:
        print(f"FAIL: cannot read the fleet recording rules: {e}")
        return 1
    if not rules:
        print(f"FAIL: no 'record:' names in {FLEET_RULES}")
        return 1
    for path in files:
        name = os.path.basename(path)
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            dashboard = json.loads(text)
        except (OSError, ValueError) as e:
            problems.append(f"{name}: cannot load: {e}")
            continue
        if text != json.dumps(dashboard, indent=2, ensure_ascii=False) + "\n":
            problems.append(f"{name}: not formatted as json.dumps(indent=2) with a final newline")
        found = lint(dashboard, name, rules)
        problems.extend(found)
        uid = dashboard.get("uid")
        if uid in uids:
            problems.append(f"{name}: uid {uid!r} also used by {uids[uid]}")
        uids[uid] = name
        print(f"{'ok  ' if not found else 'FAIL'} {name}: {sum(1 for _ in panels_of(dashboard))} panels")
        loaded.append((dashboard, name))

    applied, every = set(), set()
    for dashboard, name in loaded:
        if not lint(dashboard, name, rules):
            failures, on_this, every = self_test(dashboard, name, rules)
            problems.extend(failures)
            applied |= on_this
    # With every dashboard given, each mutation must have applied to one.
    if not argv[1:] and every - applied:
        problems.append("self-test: no dashboard to try mutation(s) " + ", ".join(sorted(every - applied)))

    for p in problems:
        print(f"FAIL {p}")
    print(f"{len(files)} dashboards, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
