#!/usr/bin/env bash
# A Kafka cluster of any release of the compatibility matrix, beside the default stack (scripts/stack.sh), from
# Maven Central jars on the machine's Java 17. Jars are cached in .stack/release-jars/<version>/libs; each cluster
# lives in .stack/release/<name>/ (config, data, logs, pids, secrets, and an `env` file describing it).
#
#   scripts/stack.sh release up NAME VERSION [--brokers N] [--port-base P] [--plaintext-only]
#   scripts/stack.sh release down NAME            # stops every process of NAME (data kept)
#   scripts/stack.sh release wipe NAME            # kill its processes + delete its data
#   scripts/stack.sh release env NAME             # prints NAME's env file (bootstraps, version, features)
#   scripts/stack.sh release stop-broker NAME I [SIGNAL]   # stops broker I (0-based; TERM default, KILL for a crash)
#   scripts/stack.sh release start-broker NAME I  # starts broker I again and waits until it serves
#   scripts/stack.sh release topics|configs|acls|reassign|groups NAME ARGS...
#                                                 # that release's own kafka-topics/-configs/-acls/-reassign-partitions/
#                                                 # -consumer-groups, connection flag (--zookeeper or --bootstrap-server) added
#   scripts/stack.sh release java NAME CLASS ARGS...   # any class on that release's classpath
#
# VERSION: 0.9.0.1 0.10.2.2 0.11.0.3 1.1.1 2.0.1 2.8.2 (ZooKeeper, from the same jars via QuorumPeerMain), 3.4.1 (KRaft,
# static voters) or 4.1.1 (KRaft; one node formatted with `kafka-storage format --standalone`). Known fixes on Java 17:
# jaxb-api 2.3.1 for 0.10.2/0.11, ZooKeeper client 3.4.10 for 2.0.1, slf4j-log4j12 1.7.30 + log4j 1.2.17 for the old ones.
#
# Ports (default base 39092, away from the default stack): broker I listens on base+10*I (PLAINTEXT, super-user
# ANONYMOUS, for set-up) and base+10*I+1 (SASL_PLAINTEXT, absent on 0.9: GSSAPI only); KRaft controllers on base+10*I+2;
# ZooKeeper on base+8. Security (unless --plaintext-only): SASL/PLAIN on 0.10.0+, SCRAM-SHA-512 on 0.10.2+ (ZooKeeper
# releases and 4.1.1; 3.4.1 KRaft has no SCRAM), users admin/migrator/app (passwords in .stack/release/NAME/secrets),
# ACLs enforced (allow.everyone.if.no.acl.found=false) with the same grants as the default stack's source.
# With N brokers: replication factor N for internal topics and new topics, min.insync.replicas 2 when N >= 3.
# RELEASE_JARS_DIR: another jar cache (e.g. to time a cold start); RELEASE_START_TIMEOUT: seconds a broker may take
# to start (default 300: a loaded 2-core machine restarts a KRaft broker slowly); RELEASE_KAFKA_HEAP: its heap.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STACK="${KM_STACK_DIR:-$ROOT/.stack}"
JARS="${RELEASE_JARS_DIR:-$STACK/release-jars}" # RELEASE_JARS_DIR: another jar cache (a cold run)
HEAP="${RELEASE_KAFKA_HEAP:--Xms128m -Xmx512m}"
ADMIN_PASSWORD="admin-secret"
MIGRATOR_PASSWORD="migrator-secret"
APP_PASSWORD="app-secret"

log() { echo "[release] $*" >&2; }
die() { echo -e "[release] ERROR: $*" >&2; exit 1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# ------------------------------------------------------------ what each release is
# version_ge A B: A >= B for dotted versions.
version_ge() { [[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" == "$2" ]]; }
is_kraft() { version_ge "$1" 3.0; }
scala_of() {
  case "$1" in
    0.9.*) echo 2.11 ;;
    0.10.* | 0.11.* | 1.* | 2.0.* | 2.1.* | 2.2.* | 2.3.*) echo 2.12 ;;
    *) echo 2.13 ;;
  esac
}
has_sasl() { version_ge "$1" 0.10.0; }
has_scram() { version_ge "$1" 0.10.2 && { ! is_kraft "$1" || version_ge "$1" 3.5; }; }
has_txn() { version_ge "$1" 0.11.0; }
authorizer_of() {
  if is_kraft "$1"; then echo org.apache.kafka.metadata.authorizer.StandardAuthorizer
  elif version_ge "$1" 2.4; then echo kafka.security.authorizer.AclAuthorizer
  else echo kafka.security.auth.SimpleAclAuthorizer; fi
}
log4j2() { version_ge "$1" 4.0; }

# ------------------------------------------------------------ jars
libs_of() { echo "$JARS/$1/libs"; }

ensure_jars() {
  local v="$1" libs; libs="$(libs_of "$v")"
  [[ -f "$libs/.complete" ]] && return
  command -v mvn >/dev/null || die "Maven is needed to fetch Kafka $v from Maven Central"
  local flags=(-Dkafka.version="$v" -Dscala.binary="$(scala_of "$v")" -Dlibs.dir="$libs")
  case "$v" in
    0.10.2.* | 0.11.*) flags+=(-Dwith.jaxb) ;;
    2.0.*) flags+=(-Dwith.zk3410) ;;
  esac
  if ! is_kraft "$v"; then flags+=(-Dwith.log4j1); fi
  if is_kraft "$v"; then flags+=(-Dwith.tools); fi
  if log4j2 "$v"; then flags+=(-Dwith.log4j2); elif is_kraft "$v"; then flags+=(-Dwith.reload4j); fi
  log "fetching Apache Kafka $v jars from Maven Central (first run only)"
  rm -rf "$libs"; mkdir -p "$libs"
  mvn -B -q -f "$ROOT/scripts/stack/release-pom.xml" "${flags[@]}" dependency:copy-dependencies >"$JARS/$v/mvn.log" 2>&1 \
    || die "Maven fetch of Kafka $v failed; see $JARS/$v/mvn.log"
  touch "$libs/.complete"
}

write_log_configs() {
  local conf="$STACK/release/conf"
  mkdir -p "$conf"
  cat >"$conf/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.log=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.authorizer.logger=WARN
log4j.logger.kafka.coordinator=WARN
log4j.logger.org.apache.zookeeper=WARN
log4j.logger.org.I0Itec.zkclient=WARN
log4j.logger.kafka.zookeeper=WARN
EOF
  sed 's/rootLogger=INFO, stdout/rootLogger=WARN, stdout/; s/appender.stdout.Target=.*//' "$conf/log4j.properties" >"$conf/tools-log4j.properties"
  echo 'log4j.appender.stdout.Target=System.err' >>"$conf/tools-log4j.properties"
  cat >"$conf/log4j2.properties" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = OUT
logger.req.name = kafka.request.logger
logger.req.level = WARN
logger.auth.name = kafka.authorizer.logger
logger.auth.level = WARN
EOF
  sed 's/rootLogger.level = INFO/rootLogger.level = WARN/; s/appender.out.type = Console/appender.out.type = Console\nappender.out.target = SYSTEM_ERR/' \
    "$conf/log4j2.properties" >"$conf/tools-log4j2.properties"
}

log_flag() {
  local v="$1" which="$2" conf="$STACK/release/conf"
  if log4j2 "$v"; then echo "-Dlog4j2.configurationFile=$conf/${which}log4j2.properties"; else echo "-Dlog4j.configuration=file:$conf/${which}log4j.properties"; fi
}

# ------------------------------------------------------------ one cluster's state
dir_of() { echo "$STACK/release/$1"; }
load_env() {
  local f; f="$(dir_of "$1")/env"
  [[ -f "$f" ]] || die "no release cluster named $1 (start it with: scripts/stack.sh release up $1 VERSION)"
  # shellcheck disable=SC1090
  source "$f"
}

# rjava NAME ARGS...: java on NAME's release classpath with its tools logging.
rjava() {
  local name="$1"; shift
  load_env "$name"
  # shellcheck disable=SC2046
  # Short-lived tools: C1 only and the serial collector spend less of a loaded 2-core machine's CPU on start-up.
  java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC $(log_flag "$RELEASE_VERSION" tools-) -cp "$(libs_of "$RELEASE_VERSION")/*" "$@"
}

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_until() {
  local what="$1" logfile="$2" pidfile="$3" timeout="$4"; shift 4
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    pid_alive "$pidfile" || die "$what exited during start-up; see $logfile:\n$(tail -n 30 "$logfile" 2>/dev/null)"
    ((SECONDS > deadline)) && die "$what did not answer within ${timeout}s; see $logfile"
    sleep 0.5
  done
}

broker_port() { echo $(($2 + 10 * $1 + ${3:-0})); } # broker_port I BASE [OFFSET]

write_broker_config() {
  local name="$1" i="$2" v="$3" n="$4" base="$5" plaintext_only="$6" d; d="$(dir_of "$name")"
  local pt sasl ctl; pt="$(broker_port "$i" "$base" 0)"; sasl="$(broker_port "$i" "$base" 1)"; ctl="$(broker_port "$i" "$base" 2)"
  local rf="$n" minisr=1; ((n >= 3)) && minisr=2
  local secure=0; [[ "$plaintext_only" == 0 ]] && has_sasl "$v" && secure=1
  local listeners="PLAINTEXT://127.0.0.1:$pt" mechs="PLAIN"
  [[ $secure == 1 ]] && listeners+=",SASL_PLAINTEXT://127.0.0.1:$sasl"
  has_scram "$v" && mechs+=",SCRAM-SHA-512"
  mkdir -p "$d/broker-$i/data"
  {
    if is_kraft "$v"; then
      local voters="" j
      for ((j = 0; j < n; j++)); do voters+="${voters:+,}$((j + 1))@127.0.0.1:$(broker_port "$j" "$base" 2)"; done
      echo "process.roles=broker,controller"
      echo "node.id=$((i + 1))"
      if log4j2 "$v" && ((n == 1)); then echo "controller.quorum.bootstrap.servers=127.0.0.1:$ctl"; else echo "controller.quorum.voters=$voters"; fi
      echo "listeners=$listeners,CONTROLLER://127.0.0.1:$ctl"
      echo "controller.listener.names=CONTROLLER"
      echo "inter.broker.listener.name=PLAINTEXT"
      echo "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT"
    else
      echo "broker.id=$i"
      echo "listeners=$listeners"
      echo "zookeeper.connect=127.0.0.1:$((base + 8))"
      echo "zookeeper.connection.timeout.ms=30000"
      echo "security.inter.broker.protocol=PLAINTEXT"
    fi
    echo "advertised.listeners=$listeners"
    if [[ $secure == 1 ]]; then
      echo "sasl.enabled.mechanisms=$mechs"
      echo "authorizer.class.name=$(authorizer_of "$v")"
      echo "allow.everyone.if.no.acl.found=false"
      echo "super.users=User:admin;User:ANONYMOUS"
    fi
    cat <<EOF
log.dirs=$d/broker-$i/data
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$minisr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$minisr
transaction.state.log.num.partitions=10
group.initial.rebalance.delay.ms=0
log.retention.hours=-1
log.cleaner.backoff.ms=1000
auto.create.topics.enable=false
delete.topic.enable=true
controlled.shutdown.enable=true
EOF
  } >"$d/broker-$i/server.properties"
  # JAAS (one KafkaServer section for every SASL listener): PLAIN users inline, SCRAM users stored in ZooKeeper/metadata.
  {
    echo "KafkaServer {"
    echo "  org.apache.kafka.common.security.plain.PlainLoginModule required username=\"admin\" password=\"$ADMIN_PASSWORD\" user_admin=\"$ADMIN_PASSWORD\" user_migrator=\"$MIGRATOR_PASSWORD\" user_app=\"$APP_PASSWORD\";"
    has_scram "$v" && echo "  org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$ADMIN_PASSWORD\";"
    echo "};"
  } >"$d/broker-$i/jaas.conf"
}

start_zookeeper() {
  local name="$1" v="$2" base="$3" d; d="$(dir_of "$name")"
  local zk=$((base + 8))
  if pid_alive "$d/zookeeper.pid" && port_open "$zk"; then return; fi
  port_open "$zk" && die "port $zk (ZooKeeper of $name) is taken by another process; choose another --port-base"
  mkdir -p "$d/zookeeper"
  cat >"$d/zookeeper.properties" <<EOF
dataDir=$d/zookeeper
clientPort=$zk
clientPortAddress=127.0.0.1
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=*
EOF
  log "starting ZooKeeper of $name (Kafka $v jars) on 127.0.0.1:$zk"
  # shellcheck disable=SC2046,SC2086
  nohup java $HEAP $(log_flag "$v" "") -cp "$(libs_of "$v")/*" org.apache.zookeeper.server.quorum.QuorumPeerMain "$d/zookeeper.properties" \
    >"$d/zookeeper.log" 2>&1 &
  echo $! >"$d/zookeeper.pid"
  wait_until "ZooKeeper of $name" "$d/zookeeper.log" "$d/zookeeper.pid" 60 port_open "$zk"
}

broker_started() { grep -qE "started \(kafka.server.Kafka|Kafka Server started" "$1"; }

start_broker() {
  local name="$1" i="$2" d; d="$(dir_of "$name")"
  load_env "$name"
  local v="$RELEASE_VERSION" pt; pt="$(broker_port "$i" "$RELEASE_PORT_BASE" 0)"
  local pidfile="$d/broker-$i.pid" logfile="$d/broker-$i.log"
  if pid_alive "$pidfile" && port_open "$pt"; then return; fi
  port_open "$pt" && die "port $pt (broker $i of $name) is taken by another process; choose another --port-base"
  [[ -f "$logfile" ]] && mv "$logfile" "$logfile.$(date +%s)"
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  # shellcheck disable=SC2046,SC2086
  nohup java $HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true $(log_flag "$v" "") \
    -Djava.security.auth.login.config="$d/broker-$i/jaas.conf" -Dzookeeper.sasl.client=false \
    -cp "$(libs_of "$v")/*" kafka.Kafka "$d/broker-$i/server.properties" >"$logfile" 2>&1 &
  echo $! >"$pidfile"
  wait_until "broker $i of $name (Kafka $v)" "$logfile" "$pidfile" "${RELEASE_START_TIMEOUT:-300}" broker_started "$logfile"
  wait_until "broker $i of $name (Kafka $v)" "$logfile" "$pidfile" 30 port_open "$pt"
}

stop_pid() {
  local pidfile="$1" signal="${2:-TERM}"
  if pid_alive "$pidfile"; then
    local pid; pid="$(cat "$pidfile")"
    kill "-$signal" "$pid" 2>/dev/null || true
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

# Grants of the default stack's source: migrator read-only, app read/write (transactional ids from 0.11).
apply_acls() {
  local name="$1" v="$2"
  local acl=(cmd_tool acls "$name" --add --force)
  local describe_configs=() ; version_ge "$v" 0.11 && describe_configs=(--operation DescribeConfigs)
  # One AclCommand per principal and operation set (each is a JVM): resources combined where the operations fit them all.
  # Called as `apply_acls ... || die`, where set -e does not apply: each grant fails the function itself.
  "${acl[@]}" --allow-principal User:migrator --operation Read --operation Describe --topic '*' --group '*' || return 1
  # Before 0.11 kafka-acls has no Describe on the Cluster (only Create, ClusterAction, All), which 0.10's ListGroups
  # needs: the migrator gets no cluster grant there (least privilege) and lists groups from __consumer_offsets.
  if ((${#describe_configs[@]})); then
    "${acl[@]}" --allow-principal User:migrator --operation Describe --operation DescribeConfigs --topic '*' --cluster || return 1
  fi
  "${acl[@]}" --allow-principal User:app --operation Read --operation Describe --topic '*' --group '*' || return 1
  if has_txn "$v"; then "${acl[@]}" --allow-principal User:app --operation Write --operation Describe --topic '*' --transactional-id '*' || return 1
  else "${acl[@]}" --allow-principal User:app --operation Write --topic '*' || return 1; fi
}

scram_users() {
  local name="$1" v="$2" u p
  for u in admin migrator app; do
    case $u in admin) p=$ADMIN_PASSWORD ;; migrator) p=$MIGRATOR_PASSWORD ;; app) p=$APP_PASSWORD ;; esac
    cmd_tool configs "$name" --alter --add-config "SCRAM-SHA-512=[iterations=4096,password=$p]" --entity-type users --entity-name "$u"
  done
}

cmd_up() {
  local name="$1" v="$2"; shift 2
  local n=1 base=39092 plaintext_only=0
  while (($#)); do
    case "$1" in
      --brokers) n="$2"; shift 2 ;;
      --port-base) base="$2"; shift 2 ;;
      --plaintext-only) plaintext_only=1; shift ;;
      *) die "unknown option $1 (expected --brokers N, --port-base P, --plaintext-only)" ;;
    esac
  done
  [[ "$name" =~ ^[a-z0-9][a-z0-9-]*$ ]] || die "NAME: expected lower-case letters, digits, dashes (got '$name')"
  command -v java >/dev/null || die "Java 17 is needed to run Kafka"
  local d; d="$(dir_of "$name")"
  if [[ -f "$d/env" ]]; then
    # shellcheck disable=SC1091
    local old; old="$(source "$d/env"; echo "$RELEASE_VERSION $RELEASE_BROKERS $RELEASE_PORT_BASE $RELEASE_PLAINTEXT_ONLY")"
    [[ "$old" == "$v $n $base $plaintext_only" ]] || die "$name exists as '$old' (version brokers port-base plaintext-only); wipe it first"
  fi
  ensure_jars "$v"
  write_log_configs
  mkdir -p "$d/secrets"
  printf '%s' "$ADMIN_PASSWORD" >"$d/secrets/admin.password"
  printf '%s' "$MIGRATOR_PASSWORD" >"$d/secrets/migrator.password"
  printf '%s' "$APP_PASSWORD" >"$d/secrets/app.password"
  chmod 600 "$d/secrets/"*.password
  local secure=0; [[ $plaintext_only == 0 ]] && has_sasl "$v" && secure=1
  local scram=0; [[ $secure == 1 ]] && has_scram "$v" && scram=1
  local i pts="" sasls=""
  for ((i = 0; i < n; i++)); do
    pts+="${pts:+,}127.0.0.1:$(broker_port "$i" "$base" 0)"
    sasls+="${sasls:+,}127.0.0.1:$(broker_port "$i" "$base" 1)"
  done
  [[ $secure == 1 ]] || sasls=""
  cat >"$d/env" <<EOF
RELEASE_NAME=$name
RELEASE_VERSION=$v
RELEASE_BROKERS=$n
RELEASE_PORT_BASE=$base
RELEASE_PLAINTEXT_ONLY=$plaintext_only
RELEASE_KRAFT=$(is_kraft "$v" && echo 1 || echo 0)
RELEASE_ZOOKEEPER=$(is_kraft "$v" && echo "" || echo "127.0.0.1:$((base + 8))")
RELEASE_PLAINTEXT_BOOTSTRAP=$pts
RELEASE_SASL_BOOTSTRAP=$sasls
RELEASE_SASL_MECHANISMS=$([[ $secure == 1 ]] && { echo -n PLAIN; [[ $scram == 1 ]] && echo -n ,SCRAM-SHA-512; } || true)
RELEASE_ACLS=$secure
RELEASE_TRANSACTIONS=$(has_txn "$v" && echo 1 || echo 0)
RELEASE_LIBS=$(libs_of "$v")
RELEASE_SECRETS=$d/secrets
EOF
  for ((i = 0; i < n; i++)); do write_broker_config "$name" "$i" "$v" "$n" "$base" "$plaintext_only"; done
  if is_kraft "$v"; then
    local first="$d/broker-0/data/meta.properties"
    if [[ ! -f "$first" ]]; then
      log "formatting $name storage (Kafka $v, KRaft, $n node(s))"
      local cid; cid="$(rjava "$name" kafka.tools.StorageTool random-uuid)"
      local fpids=()
      for ((i = 0; i < n; i++)); do
        local fmt=(format -t "$cid" -c "$d/broker-$i/server.properties")
        if log4j2 "$v" && ((n == 1)); then fmt+=(--standalone); fi
        if [[ $scram == 1 ]]; then
          fmt+=(--add-scram "SCRAM-SHA-512=[name=admin,password=$ADMIN_PASSWORD]" --add-scram "SCRAM-SHA-512=[name=migrator,password=$MIGRATOR_PASSWORD]"
            --add-scram "SCRAM-SHA-512=[name=app,password=$APP_PASSWORD]")
        fi
        # Each broker's storage is its own directory: formatted side by side (one JVM start each).
        rjava "$name" kafka.tools.StorageTool "${fmt[@]}" >"$d/format-$i.log" 2>&1 &
        fpids+=($!)
      done
      for ((i = 0; i < n; i++)); do wait "${fpids[$i]}" || die "formatting broker $i of $name failed; see $d/format-$i.log"; done
    fi
  else
    start_zookeeper "$name" "$v" "$base"
  fi
  log "starting $name: Kafka $v, $n broker(s), PLAINTEXT $pts${sasls:+, SASL_PLAINTEXT $sasls}"
  if is_kraft "$v" && ((n > 1)); then
    # KRaft voters elect a leader only once a majority runs: start all, then wait for each.
    local pids=()
    for ((i = 0; i < n; i++)); do (start_broker "$name" "$i") & pids+=($!); done
    for i in "${pids[@]}"; do wait "$i" || die "a broker of $name did not start"; done
  else
    for ((i = 0; i < n; i++)); do start_broker "$name" "$i"; done
  fi
  # ZooKeeper releases: SCRAM credentials go to ZooKeeper once the brokers have created its config paths.
  if [[ $scram == 1 ]] && ! is_kraft "$v" && [[ ! -f "$d/.scram-users" ]]; then
    scram_users "$name" "$v" >"$d/scram.log" 2>&1 && ! grep -q "Error while executing" "$d/scram.log" || die "SCRAM users of $name: see $d/scram.log"
    touch "$d/.scram-users"
  fi
  if [[ $secure == 1 && ! -f "$d/.acls-applied" ]]; then
    log "applying ACLs of $name (migrator: read-only; app: read/write)"
    apply_acls "$name" "$v" >"$d/acls.log" 2>&1 || die "ACLs of $name: see $d/acls.log"
    touch "$d/.acls-applied"
  fi
  cat "$d/env"
}

cmd_down() {
  local name="$1" signal="${2:-TERM}" d; d="$(dir_of "$name")"
  [[ -d "$d" ]] || return 0
  local f
  for f in "$d"/broker-*.pid; do [[ -e "$f" ]] && stop_pid "$f" "$signal"; done
  stop_pid "$d/zookeeper.pid" "$signal"
  log "$name is down"
}

# Its data is deleted: no controlled shutdown to wait for (3 KRaft brokers stopping one by one take a minute).
cmd_wipe() { cmd_down "$1" KILL; rm -rf "$(dir_of "$1")"; log "$1 wiped"; }

# cmd_tool KIND NAME ARGS...: the release's own admin tool, with its connection flag.
cmd_tool() {
  local kind="$1" name="$2"; shift 2
  load_env "$name"
  local v="$RELEASE_VERSION" bs="${RELEASE_PLAINTEXT_BOOTSTRAP%%,*}" cls conn
  case "$kind" in
    topics)
      if ! is_kraft "$v"; then cls=kafka.admin.TopicCommand; conn=(--zookeeper "$RELEASE_ZOOKEEPER")
      elif version_ge "$v" 3.6; then cls=org.apache.kafka.tools.TopicCommand; conn=(--bootstrap-server "$bs")
      else cls=kafka.admin.TopicCommand; conn=(--bootstrap-server "$bs"); fi ;;
    configs)
      cls=kafka.admin.ConfigCommand
      if is_kraft "$v"; then conn=(--bootstrap-server "$bs"); else conn=(--zookeeper "$RELEASE_ZOOKEEPER"); fi ;;
    acls)
      if version_ge "$v" 3.7; then cls=org.apache.kafka.tools.AclCommand; else cls=kafka.admin.AclCommand; fi
      if is_kraft "$v"; then conn=(--bootstrap-server "$bs"); else conn=(--authorizer-properties "zookeeper.connect=$RELEASE_ZOOKEEPER"); fi ;;
    reassign)
      if version_ge "$v" 3.5; then cls=org.apache.kafka.tools.reassign.ReassignPartitionsCommand; else cls=kafka.admin.ReassignPartitionsCommand; fi
      if version_ge "$v" 2.4; then conn=(--bootstrap-server "$bs"); else conn=(--zookeeper "$RELEASE_ZOOKEEPER"); fi ;;
    groups)
      if version_ge "$v" 3.7; then cls=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand; else cls=kafka.admin.ConsumerGroupCommand; fi
      conn=(--bootstrap-server "$bs") ;;
    *) die "unknown tool $kind" ;;
  esac
  rjava "$name" "$cls" "${conn[@]}" "$@"
}

usage() { sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

sub="${1:-}"; shift || true
case "$sub" in
  up) (($# >= 2)) || usage; cmd_up "$@" ;;
  down) (($# == 1)) || usage; cmd_down "$1" ;;
  wipe) (($# == 1)) || usage; cmd_wipe "$1" ;;
  env) (($# == 1)) || usage; load_env "$1"; cat "$(dir_of "$1")/env" ;;
  stop-broker) (($# >= 2)) || usage; stop_pid "$(dir_of "$1")/broker-$2.pid" "${3:-TERM}"; log "broker $2 of $1 stopped (${3:-TERM})" ;;
  start-broker) (($# == 2)) || usage; start_broker "$1" "$2"; log "broker $2 of $1 serves" ;;
  topics | configs | acls | reassign | groups) (($# >= 1)) || usage; cmd_tool "$sub" "$@" ;;
  java) (($# >= 2)) || usage; rjava "$@" ;;
  *) usage ;;
esac
