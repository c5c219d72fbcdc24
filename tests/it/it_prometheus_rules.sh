#!/bin/bash
# it_prometheus_rules.sh: contrib/prometheus/intake.rules.yml is valid (promtool check rules)
# and each alert fires on the series that should raise it, after its "for", and not on the
# healthy ones (promtool test rules intake.rules.test.yml); the Grafana dashboard is JSON whose
# queries name only metrics the worker exports (docs/metrics.md lists them). Every metric the
# rules use is one that docs/metrics.md documents. Skipped (exit 77) where promtool is absent
# (Debian: package prometheus, which tests/lib/deps.sh installs).
if ! command -v promtool >/dev/null; then
    echo "skipped: promtool not installed (apt-get install prometheus)"
    exit 77
fi
. "$(dirname "$0")/../lib/harness.sh"
h_init it_prometheus_rules

D=$H_ROOT/contrib/prometheus
if out=$(cd "$D" && promtool check rules intake.rules.yml 2>&1); then
    h_pass "promtool check rules: $(echo "$out" | grep -o '[0-9]* rules found')"
else
    h_fail "promtool check rules: $out"
fi
if out=$(cd "$D" && promtool test rules intake.rules.test.yml 2>&1); then
    h_pass "promtool test rules: every alert fires when it should and only then"
else
    h_fail "promtool test rules: $out"
fi

# Every intake_ metric that the rules and the dashboard name is documented in docs/metrics.md.
documented=$(grep -o '^| `intake_[a-z_]*`' "$H_ROOT/docs/metrics.md" | tr -d '|` ' | sort -u)
used=$(cat "$D/intake.rules.yml" "$D/grafana-intake.json" | grep -o 'intake_[a-z_]*' |
	sed -E 's/_(bucket|sum|count)$//' | sort -u)
missing=$(comm -23 <(echo "$used") <(echo "$documented"))
h_assert_eq "" "$missing" "the rules and the dashboard use only documented metrics"
if jq -e '.panels | length > 0' "$D/grafana-intake.json" >/dev/null; then
    h_pass "grafana-intake.json: JSON with $(jq '.panels | length' "$D/grafana-intake.json") panels"
else
    h_fail "grafana-intake.json is not a dashboard"
fi
