# syntax=docker/dockerfile:1
# A PolyCall node. Build stage: JDK 25, the Maven wrapper, Python and Node to build the SDK
# environments. Runtime stage: JRE 25, the shaded jar, bin/polycall, the Python SDK's venv (with
# numpy and grpcio) and the Node SDK with its packages. Deployment: deploy/k8s/ and README.md.
#
#   docker build -t polycall .
#   docker run -p 7443:7443 -v $PWD/my.yaml:/etc/polycall/polycall.yaml polycall
#
# Paths are the same in both stages (/opt/polycall), because a Python venv records its own path.

ARG JDK_IMAGE=eclipse-temurin:25-jdk-noble
ARG JRE_IMAGE=eclipse-temurin:25-jre-noble

FROM ${JDK_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends make maven python3 python3-venv nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/polycall
COPY . .
RUN make .mvn/wrapper/maven-wrapper.properties
# The Maven repository is a BuildKit cache: a rebuild after a source change fetches nothing.
RUN --mount=type=cache,target=/root/.m2 \
    ./mvnw -B -ntp -pl polycall-server -am package -DskipTests -Dspotless.check.skip=true
# The SDK environments the worker pools start from (bin/polycall passes polycall.home).
RUN python3 -m venv sdks/python/.venv \
 && sdks/python/.venv/bin/pip install --no-cache-dir './sdks/python[numpy,grpc]'
RUN cd sdks/node && npm ci --omit=dev --no-audit --no-fund

FROM ${JRE_IMAGE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 nodejs \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --home-dir /opt/polycall polycall
WORKDIR /opt/polycall
COPY --from=build /opt/polycall/bin bin
COPY --from=build /opt/polycall/tools/find-jdk tools/find-jdk
COPY --from=build /opt/polycall/polycall-server/target/polycall.jar polycall-server/target/
# bin/polycall puts these two on the module path: native access for module io.polycall.ffi only.
COPY --from=build /opt/polycall/polycall-api/target/polycall-api-*.jar polycall-api/target/
COPY --from=build /opt/polycall/polycall-native/target/polycall-native-*.jar polycall-native/target/
COPY --from=build /opt/polycall/sdks/python sdks/python
COPY --from=build /opt/polycall/sdks/node sdks/node
COPY --from=build /opt/polycall/examples examples
COPY examples/polycall.yaml /etc/polycall/polycall.yaml
# A JRE has no javac, which tools/find-jdk looks for: name the java to run instead.
ENV POLYCALL_JAVA=/opt/java/openjdk/bin/java \
    PYTHONDONTWRITEBYTECODE=1
USER 10001
# gRPC (polycall.v1.PolyCall, health, reflection) and the HTTP gateway.
EXPOSE 7443 8080
ENTRYPOINT ["/opt/polycall/bin/polycall"]
# --insecure: the example config has no security: section, and a node refuses to listen beyond
# loopback without authentication otherwise (docs/security.md). Configure security and drop it.
CMD ["--config", "/etc/polycall/polycall.yaml", "serve", "--grpc", "0.0.0.0:7443", "--insecure"]
