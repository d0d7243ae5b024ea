#!/usr/bin/env bash
# The local stack kafka-migrate is proven against: a real Temporal dev server, a source Kafka 3.4 cluster
# (PLAINTEXT + SASL_PLAINTEXT/PLAIN, ACLs enforced) and a target Kafka 3.9 cluster (PLAINTEXT, no ACLs,
# standing in for AutoMQ). Everything lives under .stack/ (git-ignored): binaries, jars, data, logs.
#
#   scripts/stack.sh up|down|status|reset|env
#   scripts/stack.sh release up NAME VERSION [--brokers N] [--port-base P] [--plaintext-only]   (other releases, ports 39092+;
#     e.g. `release up src-3b 3.4.1 --brokers 3`, a Kafka 4.1.1 target `release up target-4 4.1.1 --plaintext-only --port-base 39292`;
#     see scripts/stack/release.sh)
#
# Ports (override with the environment):
#   TEMPORAL_PORT=7233  TEMPORAL_UI_PORT=8233
#   SOURCE_PLAINTEXT_PORT=19092  SOURCE_SASL_PORT=19093  SOURCE_CONTROLLER_PORT=19094
#   SOURCE_SSL_PORT=19095  SOURCE_MTLS_PORT=19096  SOURCE_SASL_SSL_PORT=19097
#   TARGET_PORT=29092  TARGET_CONTROLLER_PORT=29093
# TEMPORAL_ADDRESS set: use that Temporal server and start none.
# TLS listeners of the source (CA and certificates made by openssl/keytool at first start, under .stack/tls/):
#   19095 SSL (server certificate only; principal ANONYMOUS), 19096 SSL with ssl.client.auth=required (the
#   certificate's CN is the principal: client-migrator.* is User:migrator), 19097 SASL_SSL/PLAIN whose server
#   certificate names only kafka-source.example (tests "hostname verification off").
#   .stack/tls/: ca.pem, truststore.p12, client-migrator.{pem,key,p12}; store password .stack/secrets/tls-store.password.
#   SCRAM is not here: Kafka 3.4 in KRaft mode has no SCRAM credentials (KIP-900, Kafka 3.5).
# SOURCE_BOOTSTRAP / TARGET_BOOTSTRAP set: use those clusters and start none.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK="${KM_STACK_DIR:-$ROOT/.stack}"
BIN="$STACK/bin"
LOGS="$STACK/logs"
RUN="$STACK/run"

TEMPORAL_VERSION="v1.5.1"
SOURCE_KAFKA_VERSION="${SOURCE_KAFKA_VERSION:-3.4.1}"
TARGET_KAFKA_VERSION="${TARGET_KAFKA_VERSION:-3.9.2}"

TEMPORAL_PORT="${TEMPORAL_PORT:-7233}"
TEMPORAL_UI_PORT="${TEMPORAL_UI_PORT:-8233}"
SOURCE_PLAINTEXT_PORT="${SOURCE_PLAINTEXT_PORT:-19092}"
SOURCE_SASL_PORT="${SOURCE_SASL_PORT:-19093}"
SOURCE_CONTROLLER_PORT="${SOURCE_CONTROLLER_PORT:-19094}"
SOURCE_SSL_PORT="${SOURCE_SSL_PORT:-19095}"
SOURCE_MTLS_PORT="${SOURCE_MTLS_PORT:-19096}"
SOURCE_SASL_SSL_PORT="${SOURCE_SASL_SSL_PORT:-19097}"
TLS_STORE_PASSWORD="store-secret"
TARGET_PORT="${TARGET_PORT:-29092}"
TARGET_CONTROLLER_PORT="${TARGET_CONTROLLER_PORT:-29093}"
KAFKA_HEAP="${KAFKA_HEAP:--Xms256m -Xmx1g}"

# SASL users of the source cluster. Local-only credentials, written to .stack/secrets so that specs
# reference them by file (never inline).
ADMIN_PASSWORD="admin-secret"
MIGRATOR_PASSWORD="migrator-secret"
APP_PASSWORD="app-secret"

# Custom search attributes the migration workflows upsert (see src/workflows/searchAttributes.ts).
SEARCH_ATTRIBUTES=(KmMigration=Keyword KmPhase=Keyword KmBusinessSystem=Keyword KmBatch=Int)

log() { echo "[stack] $*" >&2; }
die() { echo "[stack] ERROR: $*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() { [[ -f "$RUN/$1.pid" ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

# wait_for NAME LOGFILE TIMEOUT CHECK...: polls CHECK until it succeeds; on failure names the component and its log.
wait_for() {
  local name="$1" logfile="$2" timeout="$3"; shift 3
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ! pid_alive "$name"; then
      die "$name exited during start-up; see $logfile:\n$(tail -n 20 "$logfile" 2>/dev/null)"
    fi
    if ((SECONDS > deadline)); then die "$name did not answer within ${timeout}s; see $logfile"; fi
    sleep 0.5
  done
}

# ---------------------------------------------------------------- Temporal
temporal_bin() { echo "$BIN/temporal"; }

ensure_temporal_cli() {
  # `go install` builds report "0.0.0-DEV": a marker beside the binary records the pinned version.
  if [[ -x "$(temporal_bin)" ]] && [[ "$(cat "$BIN/temporal.version" 2>/dev/null)" == "$TEMPORAL_VERSION" ]]; then return; fi
  command -v go >/dev/null || die "Go >= 1.25 is needed to build the Temporal CLI (or set TEMPORAL_ADDRESS)"
  log "building Temporal CLI $TEMPORAL_VERSION with go install (first run only, a few minutes)"
  mkdir -p "$BIN" "$LOGS"
  CGO_ENABLED=0 GOBIN="$BIN" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_VERSION" \
    >"$LOGS/go-install.log" 2>&1 || die "go install of the Temporal CLI failed; see $LOGS/go-install.log"
  echo "$TEMPORAL_VERSION" >"$BIN/temporal.version"
}

temporal_healthy() { "$(temporal_bin)" operator cluster health --address "127.0.0.1:$TEMPORAL_PORT" 2>/dev/null | grep -q SERVING; }

start_temporal() {
  if [[ -n "${TEMPORAL_ADDRESS:-}" ]]; then log "TEMPORAL_ADDRESS=$TEMPORAL_ADDRESS: using that server"; return; fi
  ensure_temporal_cli
  if pid_alive temporal && temporal_healthy; then return; fi
  if port_open "$TEMPORAL_PORT"; then die "port $TEMPORAL_PORT is taken by another process (set TEMPORAL_PORT or TEMPORAL_ADDRESS)"; fi
  mkdir -p "$STACK/temporal"
  local args=(server start-dev --ip 127.0.0.1 --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT"
    --db-filename "$STACK/temporal/temporal.db" --log-level warn --namespace default)
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do args+=(--search-attribute "$sa"); done
  log "starting Temporal dev server on 127.0.0.1:$TEMPORAL_PORT (UI :$TEMPORAL_UI_PORT)"
  nohup "$(temporal_bin)" "${args[@]}" >"$LOGS/temporal.log" 2>&1 &
  echo $! >"$RUN/temporal.pid"
  wait_for temporal "$LOGS/temporal.log" 120 temporal_healthy
  wait_for temporal "$LOGS/temporal.log" 60 port_open "$TEMPORAL_UI_PORT"
}

# ---------------------------------------------------------------- Kafka
kafka_libs() { echo "$STACK/kafka-$1/libs"; }

ensure_kafka_jars() {
  local version="$1" libs; libs="$(kafka_libs "$1")"
  if [[ -f "$libs/.complete" ]]; then return; fi
  command -v mvn >/dev/null || die "Maven is needed to fetch Kafka $version from Maven Central"
  log "fetching Apache Kafka $version jars from Maven Central (first run only)"
  rm -rf "$libs"; mkdir -p "$libs" "$LOGS"
  mvn -B -q -f "$ROOT/scripts/kafka-pom.xml" -Dkafka.version="$version" -Dlibs.dir="$libs" \
    dependency:copy-dependencies >"$LOGS/mvn-kafka-$version.log" 2>&1 \
    || die "Maven fetch of Kafka $version failed; see $LOGS/mvn-kafka-$version.log"
  touch "$libs/.complete"
}

# kafka_java VERSION MAINCLASS ARGS...: runs a class from the fetched Kafka jars.
kafka_java() {
  local version="$1"; shift
  java -cp "$(kafka_libs "$version")/*" -Dlog4j.configuration="file:$STACK/conf/tools-log4j.properties" "$@"
}

write_log4j() {
  mkdir -p "$STACK/conf"
  cat >"$STACK/conf/tools-log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.appender.stderr.Target=System.err
EOF
  cat >"$STACK/conf/broker-log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.log.LogCleaner=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.authorizer.logger=WARN
log4j.logger.org.apache.kafka.metadata.authorizer=WARN
log4j.logger.kafka.coordinator=WARN
log4j.logger.org.apache.kafka.coordinator=WARN
log4j.logger.kafka.log=WARN
log4j.logger.org.apache.kafka.storage=WARN
log4j.logger.kafka.server.epoch=WARN
EOF
}

# tls_leaf DIR NAME SUBJECT EXTENSION: a key, a certificate signed by DIR/ca.pem and a PKCS12 store of both.
tls_leaf() {
  local tls="$1" pw="$STACK/secrets/tls-store.password"
  openssl req -newkey rsa:2048 -nodes -subj "$3" -keyout "$tls/$2.key" -out "$tls/$2.csr" &&
    openssl x509 -req -in "$tls/$2.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial -days 3650 \
      -extfile <(printf '%s\n' "$4") -out "$tls/$2.pem" &&
    openssl pkcs12 -export -in "$tls/$2.pem" -inkey "$tls/$2.key" -certfile "$tls/ca.pem" -name "$2" \
      -passout "file:$pw" -out "$tls/$2.p12"
}

# A private CA, the source broker's certificates and a client certificate (CN=migrator). Made once.
write_source_tls() {
  local tls="$STACK/tls"
  [[ -f "$tls/.complete" ]] && return
  log "making the source's TLS CA and certificates under $tls"
  rm -rf "$tls"; mkdir -p "$tls"
  printf '%s' "$TLS_STORE_PASSWORD" >"$STACK/secrets/tls-store.password"; chmod 600 "$STACK/secrets/tls-store.password"
  {
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=kafka-migrate local CA" \
      -keyout "$tls/ca.key" -out "$tls/ca.pem" &&
      tls_leaf "$tls" source-broker "/CN=source-broker" "subjectAltName=IP:127.0.0.1,DNS:localhost" &&
      tls_leaf "$tls" source-broker-othername "/CN=kafka-source.example" "subjectAltName=DNS:kafka-source.example" &&
      tls_leaf "$tls" client-migrator "/CN=migrator" "extendedKeyUsage=clientAuth" &&
      keytool -importcert -noprompt -alias ca -file "$tls/ca.pem" -keystore "$tls/truststore.p12" -storetype PKCS12 \
        -storepass "$TLS_STORE_PASSWORD"
  } >"$LOGS/source-tls.log" 2>&1 || die "making the TLS certificates failed; see $LOGS/source-tls.log"
  chmod 600 "$tls/"*.key
  touch "$tls/.complete"
}

write_source_config() {
  local dir="$STACK/source"
  mkdir -p "$dir/data" "$STACK/secrets"
  printf '%s' "$ADMIN_PASSWORD" >"$STACK/secrets/admin.password"
  printf '%s' "$MIGRATOR_PASSWORD" >"$STACK/secrets/migrator.password"
  printf '%s' "$APP_PASSWORD" >"$STACK/secrets/app.password"
  chmod 600 "$STACK/secrets/"*.password
  write_source_tls
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$SOURCE_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$SOURCE_PLAINTEXT_PORT,SASL_PLAINTEXT://127.0.0.1:$SOURCE_SASL_PORT,CONTROLLER://127.0.0.1:$SOURCE_CONTROLLER_PORT,SSL://127.0.0.1:$SOURCE_SSL_PORT,MTLS://127.0.0.1:$SOURCE_MTLS_PORT,SASL_SSL://127.0.0.1:$SOURCE_SASL_SSL_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$SOURCE_PLAINTEXT_PORT,SASL_PLAINTEXT://127.0.0.1:$SOURCE_SASL_PORT,SSL://127.0.0.1:$SOURCE_SSL_PORT,MTLS://127.0.0.1:$SOURCE_MTLS_PORT,SASL_SSL://127.0.0.1:$SOURCE_SASL_SSL_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,MTLS:SSL,SASL_SSL:SASL_SSL
ssl.keystore.type=PKCS12
ssl.keystore.location=$STACK/tls/source-broker.p12
ssl.keystore.password=$TLS_STORE_PASSWORD
ssl.key.password=$TLS_STORE_PASSWORD
ssl.truststore.type=PEM
ssl.truststore.location=$STACK/tls/ca.pem
listener.name.mtls.ssl.client.auth=required
listener.name.mtls.ssl.principal.mapping.rules=RULE:^CN=([^,]+)\$/\$1/,DEFAULT
listener.name.sasl_ssl.ssl.keystore.location=$STACK/tls/source-broker-othername.p12
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$ADMIN_PASSWORD" user_admin="$ADMIN_PASSWORD" user_migrator="$MIGRATOR_PASSWORD" user_app="$APP_PASSWORD";
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$ADMIN_PASSWORD" user_admin="$ADMIN_PASSWORD" user_migrator="$MIGRATOR_PASSWORD" user_app="$APP_PASSWORD";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
# ANONYMOUS is the PLAINTEXT listener's principal: the test set-up and the controller use it.
super.users=User:admin;User:ANONYMOUS
log.dirs=$dir/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
group.initial.rebalance.delay.ms=0
log.retention.hours=-1
log.segment.bytes=268435456
log.cleaner.backoff.ms=1000
auto.create.topics.enable=false
delete.topic.enable=true
EOF
}

write_target_config() {
  local dir="$STACK/target"
  mkdir -p "$dir/data"
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$TARGET_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$TARGET_PORT,CONTROLLER://127.0.0.1:$TARGET_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$TARGET_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
log.dirs=$dir/data
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
group.initial.rebalance.delay.ms=0
log.retention.hours=-1
log.segment.bytes=268435456
auto.create.topics.enable=false
delete.topic.enable=true
EOF
}

# start_kafka NAME VERSION CLIENT_PORT
start_kafka() {
  local name="$1" version="$2" port="$3" dir="$STACK/$1"
  if pid_alive "$name" && port_open "$port"; then return; fi
  if port_open "$port"; then die "port $port is taken by another process (set the ${name^^} ports, or ${name^^}_BOOTSTRAP)"; fi
  ensure_kafka_jars "$version"
  write_log4j
  "write_${name}_config"
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    log "formatting $name storage (Kafka $version, KRaft)"
    local cluster_id; cluster_id="$(kafka_java "$version" kafka.tools.StorageTool random-uuid)"
    kafka_java "$version" kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/server.properties" \
      >"$LOGS/$name-format.log" 2>&1 || die "formatting $name storage failed; see $LOGS/$name-format.log"
  fi
  log "starting $name Kafka $version on 127.0.0.1:$port"
  # Every partition keeps files open: raise the soft limit to the hard one (10,000 partitions need ~12,000).
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  # shellcheck disable=SC2086
  nohup java $KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$STACK/conf/broker-log4j.properties" \
    -cp "$(kafka_libs "$version")/*" kafka.Kafka "$dir/server.properties" >"$LOGS/$name.log" 2>&1 &
  echo $! >"$RUN/$name.pid"
}

wait_kafka() {
  local name="$1" port="$2"
  wait_for "$name" "$LOGS/$name.log" 120 grep -q "Kafka Server started" "$LOGS/$name.log"
  wait_for "$name" "$LOGS/$name.log" 30 port_open "$port"
}

# The ACLs a migration needs, and an application user's. Applied once per data directory.
setup_source_acls() {
  local marker="$STACK/source/data/.acls-applied-v3"
  [[ -f "$marker" ]] && return
  log "applying source ACLs (migrator: read-only; app: read/write)"
  local bs="127.0.0.1:$SOURCE_PLAINTEXT_PORT" v="$SOURCE_KAFKA_VERSION"
  local acl=(kafka_java "$v" kafka.admin.AclCommand --bootstrap-server "$bs" --add --force)
  {
    "${acl[@]}" --allow-principal User:migrator --operation Read --operation Describe --operation DescribeConfigs --topic '*'
    "${acl[@]}" --allow-principal User:migrator --operation Read --operation Describe --group '*'
    "${acl[@]}" --allow-principal User:migrator --operation Describe --operation DescribeConfigs --cluster
    # the tool deletes the throwaway groups of its own reads (src/kafka/toolGroups.ts)
    "${acl[@]}" --allow-principal User:migrator --operation Delete --group 'kafka-migrate-' --resource-pattern-type prefixed
    "${acl[@]}" --allow-principal User:app --operation Read --operation Write --operation Describe --topic '*'
    "${acl[@]}" --allow-principal User:app --operation Read --operation Describe --group '*'
    "${acl[@]}" --allow-principal User:app --operation Write --operation Describe --transactional-id '*'
  } >"$LOGS/source-acls.log" 2>&1 || die "applying source ACLs failed; see $LOGS/source-acls.log"
  touch "$marker"
}

print_env() {
  cat <<EOF
TEMPORAL_ADDRESS=${TEMPORAL_ADDRESS:-127.0.0.1:$TEMPORAL_PORT}
TEMPORAL_UI=http://127.0.0.1:$TEMPORAL_UI_PORT
SOURCE_BOOTSTRAP=${SOURCE_BOOTSTRAP:-127.0.0.1:$SOURCE_SASL_PORT}
SOURCE_ADMIN_BOOTSTRAP=${SOURCE_ADMIN_BOOTSTRAP:-127.0.0.1:$SOURCE_PLAINTEXT_PORT}
TARGET_BOOTSTRAP=${TARGET_BOOTSTRAP:-127.0.0.1:$TARGET_PORT}
SOURCE_SASL_PASSWORD_FILE=$STACK/secrets/migrator.password
EOF
}

cmd_up() {
  mkdir -p "$BIN" "$LOGS" "$RUN"
  command -v java >/dev/null || die "Java 17 is needed to run the Kafka brokers"
  local started_kafka=()
  if [[ -z "${SOURCE_BOOTSTRAP:-}" ]]; then start_kafka source "$SOURCE_KAFKA_VERSION" "$SOURCE_SASL_PORT"; started_kafka+=(source:$SOURCE_SASL_PORT); fi
  if [[ -z "${TARGET_BOOTSTRAP:-}" ]]; then start_kafka target "$TARGET_KAFKA_VERSION" "$TARGET_PORT"; started_kafka+=(target:$TARGET_PORT); fi
  start_temporal
  for entry in "${started_kafka[@]}"; do wait_kafka "${entry%%:*}" "${entry##*:}"; done
  if [[ -z "${SOURCE_BOOTSTRAP:-}" ]]; then setup_source_acls; fi
  log "stack is up"
  print_env
}

stop_one() {
  local name="$1"
  if pid_alive "$name"; then
    local pid; pid="$(cat "$RUN/$name.pid")"
    log "stopping $name (pid $pid)"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/$name.pid"
}

cmd_down() { for c in temporal source target; do stop_one "$c"; done; log "stack is down"; }

cmd_status() {
  local rc=0
  for c in temporal source target; do
    if pid_alive "$c"; then echo "$c: running (pid $(cat "$RUN/$c.pid")), log $LOGS/$c.log"; else echo "$c: stopped"; rc=3; fi
  done
  print_env
  return $rc
}

cmd_reset() { cmd_down; rm -rf "$STACK/source" "$STACK/target" "$STACK/temporal"; log "data wiped (binaries and jars kept)"; }

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  reset) cmd_reset ;;
  env) print_env ;;
  restart-component) shift; stop_one "$1"; cmd_up ;;
  # Clusters of other releases beside this stack (a matrix source, a 3-broker source, a Kafka 4.1.1 target): see scripts/stack/release.sh.
  release) shift; exec bash "$ROOT/scripts/stack/release.sh" "$@" ;;
  *) echo "usage: $0 up|down|status|reset|env|release" >&2; exit 2 ;;
esac
