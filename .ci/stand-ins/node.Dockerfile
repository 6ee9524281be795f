# TEST STAND-IN for node:<major>-bookworm-slim (production pulls the real one from Docker Hub):
# Debian bookworm, the official Node binary, npm, and the user `node` (1000:1000) as upstream has.
# The context (.ci/stand-in-images.sh) holds node, npm/ and this machine's CA bundle, which npm
# needs to reach its registry from here; the project's Dockerfile must not carry that.
ARG BASE
FROM ${BASE}
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && groupadd --gid 1000 node \
 && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
