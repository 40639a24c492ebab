#!/usr/bin/env bash
# Surrogate: a real Apache Pulsar standalone broker, assembled from Maven Central jars.
#
#   pulsar.sh up                     start (or reuse) the broker; LAST stdout line = service URL
#   pulsar.sh down                   stop the broker this script started, delete its data dir
#   pulsar.sh status                 running/healthy? (exit 0 only if healthy)
#   pulsar.sh classpath [broker|client]
#                                    print a Java classpath (client = official Java client + pulsar-perf)
#   pulsar.sh token [SUBJECT]        (PULSAR_AUTH=token) print a JWT signed with the broker's secret key
#
# See README.md for the environment variables. Progress goes to stderr; stdout carries
# only results, so `url=$(deploy/pulsar/pulsar.sh up | tail -n1)` works.
set -euo pipefail

SCRIPT_DIR="$(cd -P -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
CACHE_DIR="${PULSAR_CACHE_DIR:-$SCRIPT_DIR/.cache}"
STATE_DIR="${PULSAR_STATE_DIR:-$CACHE_DIR/run}"
POM="$SCRIPT_DIR/pom.xml"
MVN_SETTINGS="$SCRIPT_DIR/maven-settings.xml"

PULSAR_PORT="${PULSAR_PORT:-6650}"
PULSAR_HTTP_PORT="${PULSAR_HTTP_PORT:-8080}"
PULSAR_BIND_ADDRESS="${PULSAR_BIND_ADDRESS:-127.0.0.1}"
PULSAR_ADVERTISED_ADDRESS="${PULSAR_ADVERTISED_ADDRESS:-127.0.0.1}"
PULSAR_MEM="${PULSAR_MEM:--Xms256m -Xmx768m -XX:MaxDirectMemorySize=512m}"
PULSAR_GC="${PULSAR_GC:--XX:+UseG1GC -XX:MaxGCPauseMillis=10 -XX:+ParallelRefProcEnabled -XX:+DisableExplicitGC -XX:ParallelGCThreads=2 -XX:ConcGCThreads=1}"
PULSAR_START_TIMEOUT="${PULSAR_START_TIMEOUT:-180}"
PULSAR_STOP_TIMEOUT="${PULSAR_STOP_TIMEOUT:-30}"
PULSAR_LOG_LEVEL="${PULSAR_LOG_LEVEL:-warn}"
PULSAR_AUTH="${PULSAR_AUTH:-none}"
PULSAR_SUPERUSER="${PULSAR_SUPERUSER:-admin}"

INSTALL_HINT="apt-get install openjdk-17-jdk-headless maven"

log() { printf 'pulsar.sh: %s\n' "$*" >&2; }
die() { printf 'pulsar.sh: error: %s\n' "$*" >&2; exit 1; }

usage() {
  sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit "${1:-2}"
}

# ---------------------------------------------------------------- tools

java_bin() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    printf '%s\n' "$JAVA_HOME/bin/java"
  elif command -v java >/dev/null 2>&1; then
    command -v java
  else
    die "java not found (Pulsar 4 needs JDK 17+). Install it: $INSTALL_HINT"
  fi
}

check_java() {
  local java major
  java="$(java_bin)"
  major="$("$java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
  [[ -n "$major" && "$major" -ge 17 ]] ||
    die "Java 17+ required, found '${major:-unknown}' at $java. Install it: $INSTALL_HINT (or set JAVA_HOME)"
}

check_mvn() {
  command -v mvn >/dev/null 2>&1 || die "mvn not found (needed once to download Pulsar). Install it: $INSTALL_HINT"
}

# ---------------------------------------------------------------- classpath

pom_hash() {
  if command -v sha256sum >/dev/null 2>&1; then
    cat "$POM" "$MVN_SETTINGS" | sha256sum | cut -d' ' -f1
  else
    cat "$POM" "$MVN_SETTINGS" | shasum -a 256 | cut -d' ' -f1
  fi
}

# Prints the cached classpath of profile $1 (broker|client), resolving it with Maven when
# the file is missing, the pom changed, or a jar vanished from the local repository.
resolve_classpath() {
  local kind="$1" cp_file="$CACHE_DIR/$1.classpath" hash_file="$CACHE_DIR/$1.pom.sha256"
  local want stale=0 jar
  want="$(pom_hash)"
  if [[ ! -s "$cp_file" || ! -f "$hash_file" || "$(cat "$hash_file")" != "$want" ]]; then
    stale=1
  else
    while IFS= read -r jar; do
      [[ -z "$jar" || -f "$jar" ]] || { stale=1; break; }
    done < <(tr ':' '\n' <"$cp_file")
  fi
  if [[ "$stale" == 1 ]]; then
    check_mvn
    mkdir -p "$CACHE_DIR"
    log "resolving the $kind classpath with Maven (first run downloads Pulsar from Maven Central) ..."
    local tmp="$cp_file.tmp.$$" mvn_log="$CACHE_DIR/mvn-$kind.log"
    # -gs: our mirror-to-Central settings as GLOBAL settings, so ~/.m2/settings.xml still wins.
    # shellcheck disable=SC2086
    if ! mvn -B -q -f "$POM" -gs "$MVN_SETTINGS" -P "$kind" ${PULSAR_MVN_ARGS:-} \
        dependency:build-classpath -Dmdep.includeScope=runtime -Dmdep.outputFile="$tmp" \
        </dev/null >"$mvn_log" 2>&1; then
      tail -n 30 "$mvn_log" >&2
      rm -f "$tmp"
      die "Maven could not resolve the $kind classpath (full log: $mvn_log)"
    fi
    [[ -s "$tmp" ]] || die "Maven wrote an empty classpath (log: $mvn_log)"
    mv -f "$tmp" "$cp_file"
    printf '%s\n' "$want" >"$hash_file"
  fi
  cat "$cp_file"
}

cmd_classpath() {
  local kind="${1:-broker}"
  case "$kind" in
    broker) resolve_classpath broker ;;
    # conf/client first: it holds a log4j2.xml that prints pulsar-perf reports to stdout.
    client)
      local cp
      cp="$(resolve_classpath client)"
      printf '%s:%s\n' "$SCRIPT_DIR/conf/client" "$cp"
      ;;
    *) die "unknown classpath '$kind' (expected broker or client)" ;;
  esac
}

# ---------------------------------------------------------------- state & health

state_get() { [[ -f "$STATE_DIR/$1" ]] && cat "$STATE_DIR/$1" || true; }

# Our broker's pid if it is still alive (and still a java process), else nothing.
running_pid() {
  local pid
  pid="$(state_get pid)"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  if [[ -r "/proc/$pid/cmdline" ]] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q PulsarStandaloneStarter; then
    return 0 # pid reused by something else
  fi
  printf '%s\n' "$pid"
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

connect_host() {
  case "$PULSAR_BIND_ADDRESS" in 0.0.0.0 | "::" | "") printf '127.0.0.1' ;; *) printf '%s' "$PULSAR_BIND_ADDRESS" ;; esac
}

# The token for the admin API: PULSAR_ADMIN_TOKEN, else the one `up` made for a token-auth broker.
admin_token() {
  if [[ -n "${PULSAR_ADMIN_TOKEN:-}" ]]; then
    printf '%s' "$PULSAR_ADMIN_TOKEN"
  elif [[ -s "$STATE_DIR/admin.token" ]]; then
    cat "$STATE_DIR/admin.token"
  fi
}

# Healthy = admin health check (a real produce/consume on the heartbeat topic) passes,
# the public/default namespace exists, and the binary port accepts connections.
healthy() {
  local host="$1" port="$2" http="$3"
  [[ "$(admin_get "http://$host:$http/admin/v2/brokers/health" 10)" == "ok" ]] || return 1
  admin_get "http://$host:$http/admin/v2/namespaces/public" 5 | grep -q '"public/default"' || return 1
  port_open "$host" "$port"
}

# GET from the admin API, with the admin token (if any) as a header read from a file descriptor: on
# curl's command line it would be visible to every user of the machine (/proc/*/cmdline). printf is a
# shell builtin, so the token is in no process's arguments.
admin_get() {
  local url="$1" max_time="$2" token
  token="$(admin_token)"
  if [[ -n "$token" ]]; then
    curl -sf --max-time "$max_time" -H @<(printf 'Authorization: Bearer %s\n' "$token") "$url" 2>/dev/null
  else
    curl -sf --max-time "$max_time" "$url" 2>/dev/null
  fi
}

state_healthy() {
  local pid
  pid="$(running_pid)"
  [[ -n "$pid" ]] && healthy "$(state_get host)" "$(state_get port)" "$(state_get http_port)"
}

free_port() {
  local p i
  for i in $(seq 1 200); do
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    port_open 127.0.0.1 "$p" || { printf '%s\n' "$p"; return 0; }
  done
  die "could not find a free TCP port"
}

last_logs() {
  local data="$1" f
  for f in "$data/logs/pulsar-standalone.log" "$data/logs/stdout.log"; do
    [[ -s "$f" ]] || continue
    printf -- '----- last lines of %s -----\n' "$f" >&2
    tail -n 40 "$f" >&2
  done
}

lock_state() {
  mkdir -p "$STATE_DIR"
  exec 9>"$STATE_DIR/.lock"
  command -v flock >/dev/null 2>&1 || return 0
  flock -w 900 9 || die "timed out waiting for another pulsar.sh in $STATE_DIR"
}

clear_state() { rm -f "$STATE_DIR"/{pid,data_dir,host,port,http_port,url,http_url,started_at,admin.token,auth}; }

# merge_conf CONF EXTRA: EXTRA's keys replace CONF's (dropped from CONF first: never repeat a key,
# the in-process bookie would turn duplicates into lists), then EXTRA is appended.
merge_conf() {
  local conf="$1" extra="$2" keys
  keys="$(sed -n 's/^[[:space:]]*\([A-Za-z0-9_.]*\)[[:space:]]*=.*/\1/p' "$extra" | paste -sd'|' -)"
  if [[ -n "$keys" ]]; then
    grep -Ev "^[[:space:]]*($keys)[[:space:]]*=" "$conf" >"$conf.tmp" || true
    mv "$conf.tmp" "$conf"
  fi
  cat "$extra" >>"$conf"
}

# ---------------------------------------------------------------- token authentication

# The HS256 secret key of a token-auth broker: PULSAR_TOKEN_SECRET_KEY (a file of raw key bytes),
# else one made once under the state dir.
token_secret_key() {
  if [[ -n "${PULSAR_TOKEN_SECRET_KEY:-}" ]]; then
    [[ -s "$PULSAR_TOKEN_SECRET_KEY" ]] || die "PULSAR_TOKEN_SECRET_KEY=$PULSAR_TOKEN_SECRET_KEY is not a non-empty file"
    (cd "$(dirname "$PULSAR_TOKEN_SECRET_KEY")" && printf '%s/%s\n' "$(pwd -P)" "$(basename "$PULSAR_TOKEN_SECRET_KEY")")
    return
  fi
  local key="$STATE_DIR/token-secret.key"
  if [[ ! -s "$key" ]]; then
    mkdir -p "$STATE_DIR"
    (umask 077 && head -c 32 /dev/urandom >"$key")
  fi
  printf '%s\n' "$key"
}

# make_token SUBJECT: a JWT for SUBJECT signed with the secret key (Pulsar's own TokensCliUtils).
make_token() {
  local java cp
  java="$(java_bin)"
  cp="$(resolve_classpath broker)"
  "$java" -cp "$cp" org.apache.pulsar.utils.auth.tokens.TokensCliUtils create \
    --secret-key "file://$(token_secret_key)" --subject "$1" 2>/dev/null | tail -n1
}

# Writes the broker settings of token authentication to $1 (merged into standalone.conf by `up`).
token_auth_conf() {
  local out="$1" key token
  key="$(token_secret_key)"
  if [[ -n "${PULSAR_ADMIN_TOKEN:-}" ]]; then
    token="$PULSAR_ADMIN_TOKEN"
  else
    token="$(make_token "$PULSAR_SUPERUSER")"
    [[ "$token" == *.*.* ]] || die "could not create the admin token with TokensCliUtils"
  fi
  (umask 077 && printf '%s' "$token" >"$STATE_DIR/admin.token")
  cat >"$out" <<CONF
authenticationEnabled=true
authenticationProviders=org.apache.pulsar.broker.authentication.AuthenticationProviderToken
tokenSecretKey=file://$key
superUserRoles=$PULSAR_SUPERUSER
brokerClientAuthenticationPlugin=org.apache.pulsar.client.impl.auth.AuthenticationToken
brokerClientAuthenticationParameters=file://$STATE_DIR/admin.token
CONF
}

cmd_token() {
  [[ "$PULSAR_AUTH" == token ]] || die "set PULSAR_AUTH=token (and PULSAR_TOKEN_SECRET_KEY, or the same PULSAR_STATE_DIR as 'up')"
  check_java
  make_token "${1:-$PULSAR_SUPERUSER}"
}

# ---------------------------------------------------------------- up

cmd_up() {
  if [[ -n "${PULSAR_URL:-}" ]]; then
    printf '%s\n' "$PULSAR_URL"
    return 0
  fi
  lock_state

  local pid
  pid="$(running_pid)"
  if [[ -n "$pid" ]]; then
    if wait_healthy "$pid" "$(state_get data_dir)" 60; then
      log "broker already running (pid $pid)"
      state_get url
      return 0
    fi
    die "broker pid $pid (state $STATE_DIR) is running but unhealthy; run '$0 down' first"
  fi
  # Stale state from a crashed/killed broker: clean its data dir.
  local old_data
  old_data="$(state_get data_dir)"
  [[ -n "$old_data" && -d "$old_data" && -f "$old_data/.surrogate-pulsar" ]] && rm -rf -- "$old_data"
  clear_state

  check_java
  command -v curl >/dev/null 2>&1 || die "curl not found (used for health checks). Install it: apt-get install curl"
  local java cp
  java="$(java_bin)"
  cp="$(resolve_classpath broker)"

  [[ "$PULSAR_PORT" == 0 ]] && PULSAR_PORT="$(free_port)"
  [[ "$PULSAR_HTTP_PORT" == 0 ]] && PULSAR_HTTP_PORT="$(free_port)"
  local host
  host="$(connect_host)"
  for p in "$PULSAR_PORT" "$PULSAR_HTTP_PORT"; do
    port_open "$host" "$p" &&
      die "port $p on $host is already in use; set PULSAR_PORT / PULSAR_HTTP_PORT (0 = pick a free port), or PULSAR_URL to use an existing broker"
  done

  local data
  data="$(mktemp -d "${TMPDIR:-/tmp}/surrogate-pulsar.XXXXXX")"
  touch "$data/.surrogate-pulsar"
  mkdir -p "$data/logs"
  sed -e "s|@PULSAR_PORT@|$PULSAR_PORT|g" \
      -e "s|@PULSAR_HTTP_PORT@|$PULSAR_HTTP_PORT|g" \
      -e "s|@PULSAR_BIND_ADDRESS@|$PULSAR_BIND_ADDRESS|g" \
      -e "s|@PULSAR_ADVERTISED_ADDRESS@|$PULSAR_ADVERTISED_ADDRESS|g" \
      "$SCRIPT_DIR/standalone.conf" >"$data/standalone.conf"
  case "$PULSAR_AUTH" in
    none)
      rm -f "$STATE_DIR/admin.token"
      printf 'none\n' >"$STATE_DIR/auth"
      ;;
    token)
      log "token authentication on (secret key $(token_secret_key), superuser '$PULSAR_SUPERUSER')"
      token_auth_conf "$data/auth.conf"
      merge_conf "$data/standalone.conf" "$data/auth.conf"
      printf 'token\n' >"$STATE_DIR/auth"
      ;;
    *) die "PULSAR_AUTH=$PULSAR_AUTH: expected none or token" ;;
  esac
  if [[ -n "${PULSAR_EXTRA_CONF:-}" ]]; then
    [[ -f "$PULSAR_EXTRA_CONF" ]] || die "PULSAR_EXTRA_CONF=$PULSAR_EXTRA_CONF is not a file"
    # Later keys replace earlier ones.
    merge_conf "$data/standalone.conf" "$PULSAR_EXTRA_CONF"
  fi

  # JVM options as in Pulsar's bin/pulsar + conf/pulsar_env.sh (4.0), with small memory.
  local -a opts
  # shellcheck disable=SC2206
  opts=($PULSAR_MEM $PULSAR_GC
    -Djava.net.preferIPv4Stack=true
    -Dio.netty.tryReflectionSetAccessible=true
    --add-opens java.base/java.io=ALL-UNNAMED --add-opens java.base/java.util.zip=ALL-UNNAMED
    --add-opens java.base/java.nio=ALL-UNNAMED --add-opens java.base/jdk.internal.misc=ALL-UNNAMED
    --add-opens java.base/sun.net=ALL-UNNAMED --add-opens java.management/sun.management=ALL-UNNAMED
    -Dpulsar.allocator.exit_on_oom=true -Dio.netty.recycler.maxCapacityPerThread=4096
    -Djute.maxbuffer=10485760
    -Dbookkeeper.metadata.bookie.drivers=org.apache.pulsar.metadata.bookkeeper.PulsarMetadataBookieDriver
    -Dbookkeeper.metadata.client.drivers=org.apache.pulsar.metadata.bookkeeper.PulsarMetadataClientDriver
    -Dlog4j.configurationFile="$SCRIPT_DIR/conf/log4j2.xml" -Dlog4j2.is.webapp=false -Dlog4j.shutdownHookEnabled=false
    -Djava.util.logging.manager=org.apache.logging.log4j.jul.LogManager
    -Dpulsar.log.dir="$data/logs" -Dpulsar.log.file=pulsar-standalone.log -Dpulsar.log.level="$PULSAR_LOG_LEVEL"
    -Djava.io.tmpdir="$data/tmp"
    ${PULSAR_EXTRA_OPTS:-})
  mkdir -p "$data/tmp"

  log "starting Pulsar standalone (pulsar://$PULSAR_ADVERTISED_ADDRESS:$PULSAR_PORT, http :$PULSAR_HTTP_PORT, data $data)"
  local t0=$SECONDS
  # Own session (setsid) so the broker outlives this shell and ignores terminal hangups;
  # the child writes its own pid before exec'ing java. cwd = data dir, so every relative
  # default path of the standalone lands there.
  (
    cd "$data"
    unset PULSAR_STANDALONE_USE_ZOOKEEPER
    detach=(nohup)
    command -v setsid >/dev/null 2>&1 && detach=(setsid)
    exec "${detach[@]}" bash -c 'echo $$ >"$0/pid"; exec "$@"' "$data" \
      "$java" "${opts[@]}" -cp "$cp" org.apache.pulsar.PulsarStandaloneStarter \
      --config "$data/standalone.conf" \
      --metadata-url "rocksdb://$data/metadata" \
      --bookkeeper-dir "$data/bookkeeper" \
      --num-bookies 1 \
      --no-functions-worker --no-stream-storage \
      </dev/null >>"$data/logs/stdout.log" 2>&1 9>&-
  ) &
  local i
  for i in $(seq 1 50); do [[ -s "$data/pid" ]] && break; sleep 0.1; done
  [[ -s "$data/pid" ]] || { last_logs "$data"; die "broker process did not start"; }
  pid="$(cat "$data/pid")"

  printf '%s\n' "$pid" >"$STATE_DIR/pid"
  printf '%s\n' "$data" >"$STATE_DIR/data_dir"
  printf '%s\n' "$host" >"$STATE_DIR/host"
  printf '%s\n' "$PULSAR_PORT" >"$STATE_DIR/port"
  printf '%s\n' "$PULSAR_HTTP_PORT" >"$STATE_DIR/http_port"
  printf 'pulsar://%s:%s\n' "$PULSAR_ADVERTISED_ADDRESS" "$PULSAR_PORT" >"$STATE_DIR/url"
  printf 'http://%s:%s\n' "$PULSAR_ADVERTISED_ADDRESS" "$PULSAR_HTTP_PORT" >"$STATE_DIR/http_url"
  date -u +%Y-%m-%dT%H:%M:%SZ >"$STATE_DIR/started_at"

  if ! wait_healthy "$pid" "$data" "$PULSAR_START_TIMEOUT"; then
    last_logs "$data"
    if kill -0 "$pid" 2>/dev/null; then
      log "stopping the unhealthy broker (data dir kept for inspection: $data)"
      stop_pid "$pid"
      clear_state
      die "broker not healthy after ${PULSAR_START_TIMEOUT}s (PULSAR_START_TIMEOUT)"
    fi
    clear_state
    die "broker exited during startup (logs above; data dir kept: $data)"
  fi
  log "healthy after $((SECONDS - t0))s (pid $pid, admin $(state_get http_url))"
  state_get url
}

# wait_healthy PID DATA_DIR TIMEOUT_SECONDS
wait_healthy() {
  local pid="$1" deadline=$((SECONDS + $3))
  local host port http
  host="$(state_get host)"; port="$(state_get port)"; http="$(state_get http_port)"
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || return 1
    healthy "$host" "$port" "$http" && return 0
    sleep 1
  done
  return 1
}

# ---------------------------------------------------------------- down

stop_pid() {
  local pid="$1" deadline
  kill -TERM "$pid" 2>/dev/null || return 0
  deadline=$((SECONDS + PULSAR_STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid still alive after ${PULSAR_STOP_TIMEOUT}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
}

cmd_down() {
  [[ -d "$STATE_DIR" ]] || { log "no broker state in $STATE_DIR; nothing to stop"; return 0; }
  lock_state
  local pid data
  pid="$(running_pid)"
  data="$(state_get data_dir)"
  if [[ -n "$pid" ]]; then
    log "stopping broker pid $pid"
    stop_pid "$pid"
  else
    log "no running broker started by this script"
  fi
  if [[ -n "$data" && -d "$data" && -f "$data/.surrogate-pulsar" ]]; then
    # Keep the last WARN+ log around for post-mortems (CI artifacts).
    [[ -f "$data/logs/pulsar-standalone.log" ]] && cp -f "$data/logs/pulsar-standalone.log" "$STATE_DIR/last-broker.log" || true
    [[ -f "$data/logs/stdout.log" ]] && cp -f "$data/logs/stdout.log" "$STATE_DIR/last-stdout.log" || true
    rm -rf -- "$data"
    log "removed $data"
  fi
  clear_state
}

# ---------------------------------------------------------------- status

cmd_status() {
  if [[ -n "${PULSAR_URL:-}" ]]; then
    printf 'PULSAR_URL is set: %s (external broker, not managed here)\n' "$PULSAR_URL"
    return 0
  fi
  local pid
  pid="$(running_pid)"
  if [[ -z "$pid" ]]; then
    printf 'stopped\n'
    return 3
  fi
  local rss
  rss="$(awk '/VmRSS/ {printf "%d MiB", $2/1024}' "/proc/$pid/status" 2>/dev/null || true)"
  if healthy "$(state_get host)" "$(state_get port)" "$(state_get http_port)"; then
    printf 'running healthy pid=%s url=%s admin=%s rss=%s data=%s auth=%s\n' \
      "$pid" "$(state_get url)" "$(state_get http_url)" "${rss:-?}" "$(state_get data_dir)" "$(state_get auth)"
    return 0
  fi
  printf 'running UNHEALTHY pid=%s url=%s admin=%s rss=%s data=%s\n' \
    "$pid" "$(state_get url)" "$(state_get http_url)" "${rss:-?}" "$(state_get data_dir)"
  return 1
}

# ---------------------------------------------------------------- main

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  classpath) shift; cmd_classpath "$@" ;;
  token) shift; cmd_token "$@" ;;
  -h | --help | help) usage 0 ;;
  *) usage 2 ;;
esac
