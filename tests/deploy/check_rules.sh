#!/bin/sh
# Checks deploy/prometheus with promtool: the example scrape configuration,
# the alert rules and the fleet recording rules, and their unit tests in
# prometheus/rules_test.yml and prometheus/fleet_rules_test.yml. Then breaks
# the rules on purpose (copies in a temporary directory) and requires the
# unit tests to fail, proving that they guard the rules.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# The repository root: NSEXP_SOURCE_DIR (set by CTest) or two levels up.
root=${NSEXP_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
promtool=${PROMTOOL:-promtool}
command -v "$promtool" >/dev/null 2>&1 || { echo "check_rules: promtool not found (Debian package prometheus)" >&2; exit 1; }

rules_dir="$root/deploy/prometheus/rules"
alerts=linux_namespace_alerts.yml
fleet=linux_namespace_fleet.yml

echo "== promtool check config"
"$promtool" check config "$root/deploy/prometheus/prometheus.yml"
echo "== promtool check rules"
"$promtool" check rules "$rules_dir/$alerts" "$rules_dir/$fleet"
echo "== promtool test rules"
(cd "$root" && "$promtool" test rules tests/deploy/prometheus/rules_test.yml \
    tests/deploy/prometheus/fleet_rules_test.yml)

# Self-test: each mutation must make the unit tests fail. The test file names
# its rules by a relative path, so the same layout is rebuilt in a temp dir.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/deploy/prometheus/rules" "$tmp/tests/deploy/prometheus"
cp "$here/prometheus/rules_test.yml" "$here/prometheus/fleet_rules_test.yml" "$tmp/tests/deploy/prometheus/"

# mutate RULES_FILE TEST_FILE NAME FROM TO: the unit tests in TEST_FILE must
# fail once FROM is replaced by TO in RULES_FILE.
mutate() {
    file=$1 tests=$2 name=$3 from=$4 to=$5
    grep -qF -- "$from" "$rules_dir/$file" || { echo "check_rules: self-test '$name': pattern not found in $file" >&2; exit 1; }
    awk -v from="$from" -v to="$to" '{
        while ((i = index($0, from)) > 0) { $0 = substr($0, 1, i - 1) to substr($0, i + length(from)) }
        print
    }' "$rules_dir/$file" >"$tmp/deploy/prometheus/rules/$file"
    if (cd "$tmp" && "$promtool" test rules "tests/deploy/prometheus/$tests" >"$tmp/out" 2>&1); then
        echo "check_rules: self-test '$name': the unit tests still pass with broken rules" >&2
        exit 1
    fi
    echo "self-test ok: unit tests catch $name"
    cp "$rules_dir/$file" "$tmp/deploy/prometheus/rules/$file"
}

echo "== self-test: broken rules must fail the unit tests"
mutate "$alerts" rules_test.yml "a disabled (0) limit counted as full" "(linux_namespace_limit > 0)" "linux_namespace_limit"
mutate "$alerts" rules_test.yml "vanished errors alerting" '{reason!="vanished"}' ''
mutate "$alerts" rules_test.yml "a missing for: on exporter down" "for: 5m" "for: 0m"
mutate "$alerts" rules_test.yml "a wrong job in absent()" 'absent(up{job="linux_namespace_exporter"})' 'absent(up{job="linux-namespace-exporter"})'
mutate "$alerts" rules_test.yml "a growth alert that ignores the rate" "* 3600 > 50" "* 3600 > -1"
mutate "$alerts" rules_test.yml "a nesting alert at the wrong threshold" "(linux_namespace_depth) > 8" "(linux_namespace_depth) > 9"
mutate "$fleet" fleet_rules_test.yml "a leak counted without its bind mount" \
    'and on (job, instance, type, inode) linux_namespace_bind_mount_info{type="net"}' ''
mutate "$fleet" fleet_rules_test.yml "a disabled (0) limit in the usage ratio" \
    '(linux_namespace_limit) > 0)' '(linux_namespace_limit))'
mutate "$fleet" fleet_rules_test.yml "the cluster label aggregated away" \
    'sum by (cluster, job, type) (instance_type:linux_namespaces:sum)' 'sum by (job, type) (instance_type:linux_namespaces:sum)'
mutate "$fleet" fleet_rules_test.yml "a gap instead of 0 for nodes without a leak" \
    'or 0 * sum by (cluster, job, instance) (linux_namespaces{type="net"})' ''
mutate "$fleet" fleet_rules_test.yml "down nodes left out of the node count" \
    'count by (cluster, job) (up{job="linux_namespace_exporter"})' 'count by (cluster, job) (up{job="linux_namespace_exporter"} == 1)'
echo "check_rules: all passed"
