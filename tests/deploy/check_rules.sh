#!/bin/sh
# Checks deploy/prometheus with promtool: the example scrape configuration,
# the alert rules, and the rule unit tests in prometheus/rules_test.yml.
# Then breaks the rules on purpose (copies in a temporary directory) and
# requires the unit tests to fail, proving that they guard the rules.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# The repository root: NSEXP_SOURCE_DIR (set by CTest) or two levels up.
root=${NSEXP_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
promtool=${PROMTOOL:-promtool}
command -v "$promtool" >/dev/null 2>&1 || { echo "check_rules: promtool not found (Debian package prometheus)" >&2; exit 1; }

rules="$root/deploy/prometheus/rules/linux_namespace_alerts.yml"

echo "== promtool check config"
"$promtool" check config "$root/deploy/prometheus/prometheus.yml"
echo "== promtool check rules"
"$promtool" check rules "$rules"
echo "== promtool test rules"
(cd "$root" && "$promtool" test rules tests/deploy/prometheus/rules_test.yml)

# Self-test: each mutation must make the unit tests fail. The test file names
# its rules by a relative path, so the same layout is rebuilt in a temp dir.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/deploy/prometheus/rules" "$tmp/tests/deploy/prometheus"
cp "$here/prometheus/rules_test.yml" "$tmp/tests/deploy/prometheus/"

mutate() {
    name=$1 from=$2 to=$3
    grep -qF -- "$from" "$rules" || { echo "check_rules: self-test '$name': pattern not found in rules" >&2; exit 1; }
    awk -v from="$from" -v to="$to" '{
        while ((i = index($0, from)) > 0) { $0 = substr($0, 1, i - 1) to substr($0, i + length(from)) }
        print
    }' "$rules" >"$tmp/deploy/prometheus/rules/linux_namespace_alerts.yml"
    if (cd "$tmp" && "$promtool" test rules tests/deploy/prometheus/rules_test.yml >"$tmp/out" 2>&1); then
        echo "check_rules: self-test '$name': the unit tests still pass with broken rules" >&2
        exit 1
    fi
    echo "self-test ok: unit tests catch $name"
}

echo "== self-test: broken rules must fail the unit tests"
mutate "a disabled (0) limit counted as full" "(linux_namespace_limit > 0)" "linux_namespace_limit"
mutate "vanished errors alerting" '{reason!="vanished"}' ''
mutate "a missing for: on exporter down" "for: 5m" "for: 0m"
mutate "a wrong job in absent()" 'absent(up{job="linux_namespace_exporter"})' 'absent(up{job="linux-namespace-exporter"})'
mutate "a growth alert that ignores the rate" "* 3600 > 50" "* 3600 > -1"
mutate "a nesting alert at the wrong threshold" "(linux_namespace_depth) > 8" "(linux_namespace_depth) > 9"
echo "check_rules: all passed"
