#!/usr/bin/env bash
# Checks the deployment files in deploy/ without starting anything:
#   - Prometheus config and alerting rules (promtool check config / check rules / test rules);
#   - the Grafana dashboard and provisioning: JSON parses, and every postfix_* / postwatch_* metric
#     it (or the alerting rules) queries is defined in the code (services/*/src/metrics.ts,
#     services/detector/src/postfix-metrics.ts);
#   - the Compose file (`docker compose config -q`, or docker-compose v1), when a Compose client is
#     installed (no Docker engine needed);
#   - the rsyslog snippet (rsyslogd -N1), when rsyslogd is installed.
#
#   scripts/deploy-check.sh          # or: npm run check:deploy
set -euo pipefail
cd "$(dirname "$0")/.."

failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }
skip() { echo "skip: $*"; }

# ---- Prometheus --------------------------------------------------------------------------------
if command -v promtool >/dev/null 2>&1; then
  echo "== promtool check config deploy/prometheus/prometheus.yml"
  promtool check config deploy/prometheus/prometheus.yml || fail "prometheus.yml"
  echo "== promtool check rules deploy/prometheus/postwatch-rules.yml"
  promtool check rules deploy/prometheus/postwatch-rules.yml || fail "postwatch-rules.yml"
  echo "== promtool test rules deploy/prometheus/postwatch-rules.test.yml"
  (cd deploy/prometheus && promtool test rules postwatch-rules.test.yml) || fail "postwatch-rules.test.yml"
else
  fail "promtool not found (Debian: apt-get install prometheus)"
fi

# ---- Grafana dashboard and metric names ------------------------------------------------------------
echo "== Grafana dashboard JSON and metric names"
node --input-type=module - <<'JS' || fail "dashboard / metric names"
import { readFileSync } from "node:fs";

const sources = [
  "services/receiver/src/metrics.ts",
  "services/detector/src/metrics.ts",
  "services/detector/src/postfix-metrics.ts",
  "services/alerter/src/metrics.ts",
];
const defined = new Set();
for (const file of sources)
  for (const [, name] of readFileSync(file, "utf8").matchAll(/"((?:postfix|postwatch)_[a-z0-9_]+)"/g)) defined.add(name);
// A histogram is queried as name_bucket, name_sum, name_count.
const known = (name) => defined.has(name) || defined.has(name.replace(/_(bucket|sum|count)$/, ""));
const used = (text) => new Set([...text.matchAll(/\b((?:postfix|postwatch)_[a-z0-9_]+)/g)].map((m) => m[1]));

const dashboardFile = "deploy/grafana/dashboards/postwatch.json";
const dashboard = JSON.parse(readFileSync(dashboardFile, "utf8"));
const exprs = [];
const walk = (panels) => {
  for (const panel of panels ?? []) {
    for (const target of panel.targets ?? []) exprs.push(target.expr);
    walk(panel.panels);
  }
};
walk(dashboard.panels);
for (const variable of dashboard.templating?.list ?? []) if (variable.definition) exprs.push(variable.definition);
let bad = 0;
const check = (where, text) => {
  for (const name of used(text))
    if (!known(name)) {
      console.error(`${where}: ${name} is not defined in ${sources.join(", ")}`);
      bad++;
    }
};
check(dashboardFile, exprs.join("\n"));
check("deploy/prometheus/postwatch-rules.yml", readFileSync("deploy/prometheus/postwatch-rules.yml", "utf8"));
for (const file of ["deploy/grafana/provisioning/datasources/prometheus.yml", "deploy/grafana/provisioning/dashboards/dashboards.yml"])
  if (!/^apiVersion: 1$/m.test(readFileSync(file, "utf8"))) { console.error(`${file}: no apiVersion: 1`); bad++; }
console.log(`   ${exprs.length} queries, ${used(exprs.join("\n")).size} metric names, (${defined.size} defined in the code)`);
process.exit(bad ? 1 : 0);
JS

# ---- Compose -----------------------------------------------------------------------------------
compose=()
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
fi
if [ ${#compose[@]} -gt 0 ]; then
  echo "== ${compose[*]} -f deploy/docker-compose.yml config -q"
  "${compose[@]}" --env-file deploy/.env.example -f deploy/docker-compose.yml config -q || fail "docker-compose.yml"
else
  skip "no Compose client (docker compose plugin or docker-compose): docker-compose.yml not validated"
fi

# ---- rsyslog -----------------------------------------------------------------------------------
rsyslogd=$(command -v rsyslogd || { [ -x /usr/sbin/rsyslogd ] && echo /usr/sbin/rsyslogd; } || true)
if [ -n "$rsyslogd" ]; then
  # Each snippet as /etc/rsyslog.conf includes it: after the work directory (Debian's rsyslog.conf
  # sets one; imfile keeps its file positions there).
  rsyslog_dir=$(mktemp -d)
  for conf in deploy/rsyslog/*.conf; do
    echo "== rsyslogd -N1 $conf"
    printf 'global(workDirectory="%s")\ninclude(file="%s")\n' "$rsyslog_dir" "$PWD/$conf" >"$rsyslog_dir/rsyslog.conf"
    "$rsyslogd" -N1 -f "$rsyslog_dir/rsyslog.conf" || fail "$conf"
  done
  rm -rf "$rsyslog_dir"
else
  skip "no rsyslogd: deploy/rsyslog/*.conf not validated"
fi

if [ "$failed" -ne 0 ]; then
  echo "deploy-check: FAILED" >&2
  exit 1
fi
echo "deploy-check: OK"
