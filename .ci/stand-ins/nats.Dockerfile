# TEST STAND-IN for the nats image Compose and testcontainers name (production pulls the real one
# from Docker Hub): Debian's nats-server, and wget for Compose's health check. Like upstream's
# entrypoint, it takes the server's flags as its command.
ARG BASE
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends nats-server wget \
 && rm -rf /var/lib/apt/lists/*
EXPOSE 4222 6222 8222
ENTRYPOINT ["/usr/sbin/nats-server"]
