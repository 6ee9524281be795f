#!/usr/bin/env bash
# TEST STAND-INS for the images deploy/Dockerfile and deploy/docker-compose.yml name, built where no
# container registry can be reached: a Debian bookworm root filesystem from Debian's mirror
# (debootstrap), Node from npm's official binary package, nats-server and prometheus from Debian's
# packages. They are not the Docker Hub images that production pulls, only close enough to build
# and run postwatch's image and Compose stack in the tests.
#
# A tag that a registry serves, or that already holds an image without the stand-in label, keeps
# the real image. A stand-in carries a label with the hash of its inputs (these files, the Node and
# npm versions, the mirror, the CA bundle) and is rebuilt only when that changes.
#
#   DOCKER_HOST=unix:///path/to/docker.sock bash .ci/stand-in-images.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib.sh
ci_cache=${POSTWATCH_CI_CACHE:-/var/cache/postwatch-ci}
cache=$ci_cache/stand-ins
label=org.postwatch.stand-in
ca_bundle=/etc/ssl/certs/ca-certificates.crt

node_tag=$(sed -n 's/^ARG NODE_IMAGE=//p' deploy/Dockerfile)
nats_tag=$(sed -n 's/^ *image: \(nats:.*\)$/\1/p' deploy/docker-compose.yml)
prometheus_tag=$(sed -n 's/^ *image: \(prom\/prometheus:.*\)$/\1/p' deploy/docker-compose.yml)
node_major=${node_tag#node:}
node_major=${node_major%%-*}
npm_major=11 # the npm that Node 24 ships

mirror=$(sed -n 's/^URIs: *\(\S*\/debian\)\/*$/\1/p; s/^deb \(\S*\/debian\)\/* bookworm .*/\1/p' \
  /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -1 || true)
mirror=${mirror:-http://deb.debian.org/debian}

node_bin=$(node_binary_dir "$node_major" "$ci_cache/node$node_major") # as .ci/run's
npm_dir="$cache/npm$npm_major/node_modules/npm"
[ -f "$npm_dir/package.json" ] ||
  retry npm install --prefix "$cache/npm$npm_major" --no-save --no-audit --no-fund "npm@$npm_major" >&2
npm_version=$(sed -n 's/^ *"version": "\(.*\)",$/\1/p' "$npm_dir/package.json" | head -1)

key=$({
  cat .ci/stand-in-images.sh .ci/lib.sh .ci/stand-ins/*.Dockerfile "$ca_bundle"
  echo "node $("$node_bin/node" --version) npm $npm_version mirror $mirror"
} | sha256sum | cut -c1-16)

# The tag's stand-in key; "absent" when there is no image, empty for an image without the label.
label_of() {
  docker image inspect -f "{{index .Config.Labels \"$label\"}}" "$1" 2>/dev/null | sed 's/<no value>//' ||
    echo absent
}

todo=()
for tag in "$node_tag" "$nats_tag" "$prometheus_tag"; do
  have=$(label_of "$tag")
  if [ "$have" = "$key" ]; then continue; fi
  if [ "$have" = absent ] && docker pull --quiet "$tag" >/dev/null 2>&1; then have=""; fi
  if [ -z "$have" ]; then echo "stand-ins: $tag is the real image here; keeping it"; continue; fi
  todo+=("$tag")
done
if [ ${#todo[@]} -eq 0 ]; then
  echo "stand-ins: $node_tag, $nats_tag, $prometheus_tag up to date ($key)"
  exit 0
fi

base=postwatch-stand-in/debian:bookworm-$key
if ! docker image inspect "$base" >/dev/null 2>&1; then
  rootfs="$cache/rootfs"
  rm -rf "$rootfs"
  retry debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | docker import --change 'CMD ["bash"]' - "$base"
  rm -rf "$rootfs"
fi

build() { # tag dockerfile context
  docker build --network host --label "$label=$key" --build-arg "BASE=$base" -t "$1" -f "$2" "$3"
}
for tag in "${todo[@]}"; do
  case "$tag" in
    "$node_tag")
      context=$(mktemp -d)
      cp "$node_bin/node" "$ca_bundle" "$context/"
      cp -r "$npm_dir" "$context/npm"
      retry build "$tag" .ci/stand-ins/node.Dockerfile "$context"
      rm -rf "$context" ;;
    "$nats_tag") retry build "$tag" .ci/stand-ins/nats.Dockerfile .ci/stand-ins ;;
    "$prometheus_tag") retry build "$tag" .ci/stand-ins/prometheus.Dockerfile .ci/stand-ins ;;
  esac
done
# The stand-ins these replaced, and the bases of other keys.
docker image prune --force --filter "label=$label" >/dev/null
docker images --format '{{.Repository}}:{{.Tag}}' postwatch-stand-in/debian | { grep -vx "$base" || true; } |
  xargs -r docker rmi >/dev/null
echo "stand-ins: built ${todo[*]} ($key)"
