#!/usr/bin/env bash
# Holds N open run event streams against one server process and reports the server's memory and
# the publish-to-receive latency while they are open (dev.mobius.bench.StreamBench).
#   bench/stream-bench.sh [streams] [samples]     defaults: 10000 300
# Build first: mvn -q -B -DskipTests -pl bench -am package
# MOBIUS_BENCH_SERVER_OPTS sets the server's JVM options (default below: a fixed 512 MiB heap, and G1
# told not to start concurrent marking before 70 % of it is in use, since 10,000 streams keep about
# 300 MiB live and would otherwise keep G1 marking back to back, with a remark pause each time).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
streams="${1:-10000}"
samples="${2:-300}"
# One descriptor per stream on each side (server and client are separate processes), plus the
# server's jars, database connections and log.
need=$((streams + 1024))
if (( $(ulimit -Hn) < need )); then
  echo "the open-file limit is $(ulimit -Hn); $need are needed (raise the hard limit, e.g. in limits.conf)" >&2
  exit 1
fi
ulimit -n "$(ulimit -Hn)"
jar="server-impl/target/mobius-server-0.1.0-SNAPSHOT.jar"
if [[ ! -f "$jar" || ! -d bench/target/classes ]]; then
  echo "build first: mvn -q -B -DskipTests -pl bench -am package" >&2
  exit 1
fi
cp="bench/target/classes:$jar:$(cat server-impl/target/runtime-classpath.txt)"
exec java -Xms64m -Xmx256m -cp "$cp" dev.mobius.bench.StreamBench "$streams" "$samples" \
  "${MOBIUS_BENCH_SERVER_OPTS:--Xms512m -Xmx512m -XX:-G1UseAdaptiveIHOP -XX:InitiatingHeapOccupancyPercent=70}" 30
