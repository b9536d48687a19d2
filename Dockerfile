# crescendo: one image holding every binary (agent, coordinator, API, crescendoctl,
# embedded broker). Build: docker build -t crescendo:0.1.0 .
# Stage 1 builds on Debian 12 with the -dev packages; stage 2 carries only runtime libraries.
FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config ca-certificates \
      librdkafka-dev libjansson-dev libmicrohttpd-dev libcurl4-openssl-dev libcmocka-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DCRESC_WERROR=ON \
      -DCMAKE_INSTALL_PREFIX=/opt/crescendo \
 && ninja -C /build \
 && ctest --test-dir /build -L unit --output-on-failure \
 && cmake --install /build --strip

FROM debian:12-slim AS runtime
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="crescendo" \
      org.opencontainers.image.description="Kafka-native auto-scaling: agent, coordinator, API" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://example.invalid/crescendo"
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      librdkafka1 libjansson4 libmicrohttpd12 libcurl4 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 crescendo \
 && useradd --system --uid 10001 --gid crescendo --no-create-home --shell /usr/sbin/nologin crescendo
COPY --from=build /opt/crescendo/bin/ /usr/local/bin/
USER 10001:10001
# The coordinator and the agent serve /healthz on HEALTH_PORT; the API on API_PORT.
ENV API_PORT=8080 HEALTH_PORT=8081
EXPOSE 8080 8081
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${HEALTH_PORT}/healthz" || curl -fsS "http://127.0.0.1:${API_PORT}/healthz" || exit 1
ENTRYPOINT ["/usr/local/bin/crescendo-coordinator"]
