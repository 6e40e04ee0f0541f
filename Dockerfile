# The Mobius server as a container image, built from this source tree:
#   docker build -t mobius .
#   docker run -p 8080:8080 -v mobius-data:/var/lib/mobius mobius
# Without MOBIUS_DATABASE_URL it runs its own PostgreSQL under /var/lib/mobius (a volume); the first
# start prints the bootstrap API key in the container's log. For several nodes set
# MOBIUS_DATABASE_URL and MOBIUS_MASTER_KEY (the same on every node).

# ---- build: the archive, from a JDK and Maven ----
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
RUN mvn -B -q -DskipTests package \
 && mkdir /dist \
 && tar -xzf dist/target/mobius-*.tar.gz -C /dist --strip-components=1

# ---- run: a Java runtime, the unpacked archive, a user without privileges ----
FROM eclipse-temurin:17-jre
# curl is for the health check.
RUN apt-get update \
 && apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system mobius \
 && useradd --system --gid mobius --home-dir /var/lib/mobius --create-home mobius
COPY --from=build /dist /opt/mobius
USER mobius
WORKDIR /var/lib/mobius
ENV MOBIUS_BIND=0.0.0.0 \
    MOBIUS_PORT=8080 \
    MOBIUS_DATA_DIR=/var/lib/mobius \
    MOBIUS_LOG_FORMAT=json
VOLUME ["/var/lib/mobius"]
EXPOSE 8080
# Ready, not merely alive: 503 while the database is lost or a background loop has stopped.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${MOBIUS_PORT}/readyz" > /dev/null || exit 1
# Exec form, and the script execs java: the server is PID 1 and gets SIGTERM for a clean shutdown.
ENTRYPOINT ["/opt/mobius/bin/mobius-server"]
