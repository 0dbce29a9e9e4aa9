# tally's runtime images: one target per server and one for the CLI.
#
#   make images            # builds, stages build/rootfs, builds the six images
#   docker build --target router -t tally-router .   # one of them by hand
#
# No image registry is reachable where tally is built, so nothing is pulled:
# every image is FROM scratch and holds what scripts/docker-rootfs.sh staged
# from a build on a Debian 12 host (the binaries, stripped, and exactly the
# shared libraries they load, with the dynamic loader), a minimal /etc with
# the unprivileged user tally (10001) and the writable /var/lib/tally and
# /tmp. Stage that tree first (`scripts/docker-rootfs.sh BUILD_DIR
# build/rootfs`, which `make images` runs); .dockerignore keeps the context
# to it.
#
# Every server writes its liveness and readiness to /tmp/tally.health about
# once a second (--health-file, set by the ENTRYPOINT, so a command that
# replaces CMD keeps it) and the HEALTHCHECK reads it with `tally health`:
# there is no shell in these images. The servers stop cleanly on SIGTERM
# (a balance actor hands its partitions over first). Nothing secret is in
# an image: the worker's credentials come from the environment at run time.

FROM scratch AS base
COPY build/rootfs/base/ /
COPY --chown=10001:10001 build/rootfs/data/ /var/lib/tally/
ENV PATH=/usr/local/bin
USER 10001:10001
WORKDIR /var/lib/tally
STOPSIGNAL SIGTERM

# The audit-log writer: keep /var/lib/tally (the journal) on a volume.
FROM base AS audit
COPY build/rootfs/bin/tally-audit /usr/local/bin/
EXPOSE 7703
VOLUME ["/var/lib/tally"]
ENTRYPOINT ["/usr/local/bin/tally-audit", "--health-file", "/tmp/tally.health"]
CMD ["--data-dir", "/var/lib/tally", "--bind", "tcp://*:7703"]
HEALTHCHECK --interval=2s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/tally", "health", "--file", "/tmp/tally.health"]

# The router: keep /var/lib/tally (router.epoch) on a volume.
FROM base AS router
COPY build/rootfs/bin/tally-router /usr/local/bin/
EXPOSE 7701 7702 7704 7705
VOLUME ["/var/lib/tally"]
ENTRYPOINT ["/usr/local/bin/tally-router", "--health-file", "/tmp/tally.health"]
CMD ["--data-dir", "/var/lib/tally", "--frontend", "tcp://*:7701", "--backend", "tcp://*:7702", \
     "--bus-in", "tcp://*:7704", "--bus-out", "tcp://*:7705"]
HEALTHCHECK --interval=2s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/tally", "health", "--file", "/tmp/tally.health"]

# A balance actor: its state is a cache of the journal, so it may live in the
# container; %h in --name is the host name (the container ID), so every
# replica has its own name without configuration.
FROM base AS balance
COPY build/rootfs/bin/tally-balance /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/tally-balance", "--health-file", "/tmp/tally.health"]
CMD ["--data-dir", "/var/lib/tally", "--name", "balance-%h", "--router", "tcp://router:7702", \
     "--audit", "tcp://audit:7703", "--bus", "tcp://router:7704"]
HEALTHCHECK --interval=2s --timeout=3s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/tally", "health", "--file", "/tmp/tally.health"]

# The client edge; stateless, run as many as you like.
FROM base AS gateway
COPY build/rootfs/bin/tally-gateway /usr/local/bin/
EXPOSE 7700
ENTRYPOINT ["/usr/local/bin/tally-gateway", "--health-file", "/tmp/tally.health"]
CMD ["--bind", "tcp://*:7700", "--router", "tcp://router:7701", "--bus", "tcp://router:7705"]
HEALTHCHECK --interval=2s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/tally", "health", "--file", "/tmp/tally.health"]

# The order processor: a client of the gateway, signing as the worker (its
# credentials from the environment), calling the payment service named by
# $TALLY_ORDER_SERVICE_URL. It keeps no state; run one, or several (each
# handles every order unless given --shard K/N).
FROM base AS orders
COPY build/rootfs/bin/tally-orders /usr/local/bin/
ENTRYPOINT ["/usr/local/bin/tally-orders", "--health-file", "/tmp/tally.health"]
CMD ["--gateway", "tcp://gateway:7700"]
HEALTHCHECK --interval=2s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/tally", "health", "--file", "/tmp/tally.health"]

# The CLI, for `docker-compose run --rm cli tally ...`; no server, no health.
FROM base AS cli
ENTRYPOINT []
CMD ["tally", "--help"]
