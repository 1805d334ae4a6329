#!/usr/bin/env python3
"""Runs every PromQL expression of the Grafana dashboards against a live
Prometheus and requires each to parse and return data.

  dashboard_queries.py --url http://127.0.0.1:9090 [DASHBOARD.json ...]

Query variables are resolved first, in dashboard order, like Grafana does:
label_values(SELECTOR, LABEL) becomes a series lookup, and the variable's
saved default (when the server has that value) or else its first value in
sorted order becomes the variable's value, so later variables and panel queries
use real label values ($job, $instance, $type). Built-in intervals get fixed
values ($__rate_interval -> 1m, $__interval -> 30s, $__range -> 1h, ...).
Every query variable and every panel target must then come back non-empty
from /api/v1/query (an instant query at the current time).

Some panels read the fleet recording rules
(deploy/prometheus/rules/linux_namespace_fleet.yml): the Prometheus asked
must load them and have evaluated them once, or those panels fail here as
they would show no data in Grafana.

Prints each expression and its result count; exits 1 listing the failures.
Standard library only. Meant to be driven by an end-to-end test that runs
Prometheus scraping the real exporter; only loopback URLs make sense there.
"""

import argparse
import glob
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
# The repository root: NSEXP_SOURCE_DIR (set by CTest) or two levels up.
ROOT = os.environ.get("NSEXP_SOURCE_DIR") or os.path.normpath(os.path.join(HERE, "..", ".."))
DASHBOARD_DIR = os.path.join(ROOT, "grafana-dashboards")

BUILTINS = {
    "__rate_interval": "1m",
    "__interval": "30s",
    "__interval_ms": "30000",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
    "__auto_interval": "30s",
}
VARIABLE = re.compile(r"\$\{([A-Za-z0-9_]+)(?::[^}]*)?\}|\[\[([A-Za-z0-9_]+)\]\]|\$([A-Za-z0-9_]+)")


class Prometheus:
    def __init__(self, url, timeout):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _get(self, path, params):
        query = urllib.parse.urlencode(params, doseq=True)
        request = urllib.request.Request(f"{self.url}{path}?{query}", headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = json.load(response)
        except urllib.error.HTTPError as e:
            try:
                body = json.load(e)
            except ValueError:
                raise RuntimeError(f"HTTP {e.code} from {path}") from None
        except (urllib.error.URLError, OSError, ValueError) as e:
            raise RuntimeError(f"{path}: {e}") from None
        if body.get("status") != "success":
            raise RuntimeError(f"{body.get('errorType', 'error')}: {body.get('error', body)}")
        return body["data"]

    def query(self, expr):
        """Returns the number of results of an instant query."""
        data = self._get("/api/v1/query", {"query": expr})
        if data["resultType"] in ("vector", "matrix"):
            return len(data["result"])
        return 1  # scalar or string: one value

    def series(self, selector):
        return self._get("/api/v1/series", {"match[]": selector})

    def label_values(self, label, selector=None):
        params = {"match[]": selector} if selector else {}
        return self._get(f"/api/v1/label/{urllib.parse.quote(label)}/values", params)


def substitute(text, values):
    """Replaces $var, ${var}, ${var:fmt} and [[var]] with their values."""
    def replace(m):
        name = m.group(1) or m.group(2) or m.group(3)
        if name in values:
            return values[name]
        if name in BUILTINS:
            return BUILTINS[name]
        return m.group(0)
    return VARIABLE.sub(replace, text)


def unresolved(text):
    """Variables left in text; $1 and the like are label_replace's
    back-references, which Grafana leaves alone too."""
    return [m.group(0) for m in VARIABLE.finditer(text)
            if not (m.group(1) or m.group(2) or m.group(3)).isdigit()]


def variable_query(variable):
    query = variable.get("query")
    if isinstance(query, dict):
        query = query.get("query", "")
    return query or ""


def resolve_variable(prom, variable, values):
    """Returns (values of the variable, expression run, count) or raises."""
    query = substitute(variable_query(variable), values).strip()
    m = re.fullmatch(r"label_values\((.*),\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)", query, re.S)
    if m:
        selector, label = m.group(1).strip(), m.group(2)
        series = prom.series(selector)
        found = sorted({s[label] for s in series if s.get(label)})
        return found, f"label_values({selector}, {label})", len(found)
    m = re.fullmatch(r"label_values\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)", query)
    if m:
        found = sorted(prom.label_values(m.group(1)))
        return found, query, len(found)
    m = re.fullmatch(r"query_result\((.*)\)", query, re.S)
    if m:
        count = prom.query(m.group(1))
        return ([str(count)] if count else []), m.group(1), count
    # A plain expression (Grafana's "classic" query): its results.
    count = prom.query(query)
    return ([str(count)] if count else []), query, count


def expressions(dashboard):
    """(where, expr) for every target of every panel, nested ones too."""
    def panels(items):
        for p in items or []:
            yield p
            yield from panels(p.get("panels"))
    for panel in panels(dashboard.get("panels")):
        for target in panel.get("targets") or []:
            expr = target.get("expr")
            if expr:
                yield f"panel {panel.get('id')} {panel.get('title')!r} {target.get('refId')}", expr


def check_dashboard(prom, path):
    name = os.path.basename(path)
    with open(path, encoding="utf-8") as f:
        dashboard = json.load(f)
    failures = []
    values = {}
    for variable in dashboard.get("templating", {}).get("list", []):
        vname = variable.get("name")
        vtype = variable.get("type")
        if vtype == "datasource":
            values[vname] = ""
            continue
        if vtype == "custom":
            options = [o.strip() for o in str(variable.get("query", "")).split(",") if o.strip()]
            values[vname] = options[0] if options else ""
            continue
        if vtype == "constant" or vtype == "textbox":
            values[vname] = str(variable.get("query", ""))
            continue
        if vtype != "query":
            continue
        where = f"{name}: variable {vname}"
        try:
            found, expr, count = resolve_variable(prom, variable, values)
        except RuntimeError as e:
            print(f"FAIL {where}: {variable_query(variable)}: {e}")
            failures.append(f"{where}: {e}")
            values[vname] = ""
            continue
        print(f"{'ok  ' if count else 'FAIL'} {where}: {expr} -> {count} value(s)")
        if not found:
            failures.append(f"{where}: {expr} returned nothing")
            values[vname] = ""
        else:
            # The dashboard's default where the server has it, else the first.
            current = (variable.get("current") or {}).get("value")
            if isinstance(current, list):
                current = current[0] if current else None
            values[vname] = current if current in found else found[0]
            print(f"     ${vname} = {values[vname]}")

    for where, template in expressions(dashboard):
        where = f"{name}: {where}"
        expr = substitute(template, values)
        left = unresolved(expr)
        if left:
            print(f"FAIL {where}: unresolved {' '.join(left)} in {expr}")
            failures.append(f"{where}: unresolved {' '.join(left)}")
            continue
        try:
            count = prom.query(expr)
        except RuntimeError as e:
            print(f"FAIL {where}: {expr}: {e}")
            failures.append(f"{where}: {e}")
            continue
        print(f"{'ok  ' if count else 'FAIL'} {where}: {expr} -> {count} result(s)")
        if count == 0:
            failures.append(f"{where}: no data for {expr}")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:9090", help="Prometheus base URL")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
    parser.add_argument("dashboards", nargs="*", help="dashboard files (default: grafana-dashboards/*.json)")
    args = parser.parse_args()
    files = args.dashboards or sorted(glob.glob(os.path.join(DASHBOARD_DIR, "*.json")))
    if not files:
        print("FAIL: no dashboards")
        return 1
    prom = Prometheus(args.url, args.timeout)
    failures = []
    for path in files:
        failures.extend(check_dashboard(prom, path))
    if failures:
        print(f"\n{len(failures)} failing expression(s):")
        for f in failures:
            print(f"  {f}")
        return 1
    print("all dashboard expressions return data")
    return 0


if __name__ == "__main__":
    sys.exit(main())
