#!/usr/bin/env bash
# A fairspec cluster on one machine: three replicas on 127.0.0.1 behind HAProxy (health checks on
# /readyz, retries on 503 and refused connections), one Prometheus scraping all three every 0.5 s,
# one state folder shared by the three, and an experiment created through HAProxy. The load
# generator sends its traffic through HAProxy while every replica in turn gets SIGTERM, exits and
# starts again (a rolling restart); then bench/cluster-check.ts holds the cluster read-out from
# Prometheus against the replicas' own counts and the client's (README of bench/).
#
#   bench/cluster-local.sh          the default pack (models/default), about 8 minutes
#   bench/cluster-local.sh --ci     the fixture pack (test/fixtures/gpt2-pack), about 2 minutes
#
# Needs haproxy, prometheus and curl (Debian: apt-get install haproxy prometheus curl). Loopback
# only; every process it starts is stopped on exit, whatever the exit (a watchdog ends a run that
# overstays); KEEP_WORK=1 keeps the work folder (logs, Prometheus data, captures). Exit status 0
# when every check passed.

set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; }
mode=full
case "${1:-}" in
  --ci) mode=ci ;;
  '') ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; exit 2 ;;
esac

for tool in haproxy prometheus curl node; do
  command -v "$tool" >/dev/null || { echo "cluster-local: $tool is not installed (apt-get install haproxy prometheus curl)" >&2; exit 2; }
done

if [ "$mode" = ci ]; then
  drafters=(small nopos); languages=en,de,fr; rate=8; duration=75; users=150; max_tokens=12; prompt_bytes=36
  linger_ms=2000; watchdog_s=420; ready_s=120; drain_s=120
else
  # Three replicas share the machine's cores: a rate they serve with room to spare, restarts included.
  drafters=(baseline scdf); languages=en,de,fr,es,ru,ja,ar,zh; rate=0.5; duration=300; users=400; max_tokens=16; prompt_bytes=150
  linger_ms=3000; watchdog_s=1500; ready_s=300; drain_s=300
fi
experiment=cluster-ab
token="cluster-local-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
work=$(mktemp -d "${TMPDIR:-/tmp}/fairspec-cluster.XXXXXX")
dist=node_modules/.cache/fairspec-cluster-local
pids=()
status=0

cleanup() {
  status=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if [ "$status" -ne 0 ]; then
    echo "cluster-local: failed (exit $status); last lines of the logs:" >&2
    for log in "$work"/*.log; do [ -f "$log" ] && { echo "--- $log" >&2; tail -5 "$log" >&2; }; done
  fi
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "cluster-local: work folder kept: $work"; else rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# The watchdog: a run that overstays ends as if interrupted, and cleanup stops everything.
( sleep "$watchdog_s"; echo "cluster-local: watchdog: ${watchdog_s}s passed" >&2; kill -TERM $$ ) &
pids+=($!)

log() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*"; }

# until <seconds> <what> <command...>: runs the command every 0.1 s until it succeeds.
until_ok() {
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "cluster-local: $what: not within ${limit}s" >&2; return 1; }
    sleep 0.1
  done
}

# ---- build, ports, pack -------------------------------------------------------------------------
log "building the server into $dist (type errors elsewhere in the tree do not stop the emit)"
npx tsc -p tsconfig.build.json --outDir "$dist" >"$work/build.log" 2>&1 || true
[ -f "$dist/server.js" ] || { echo "cluster-local: the build produced no server.js" >&2; cat "$work/build.log" >&2; exit 1; }

read -r -a ports <<<"$(node -e '
  const net = require("node:net");
  (async () => {
    const servers = [];
    for (let i = 0; i < 6; i++) {
      const s = net.createServer();
      await new Promise((resolve) => s.listen(0, "127.0.0.1", resolve));
      servers.push(s);
    }
    console.log(servers.map((s) => s.address().port).join(" "));
    servers.forEach((s) => s.close());
  })();')"
replica_port=("${ports[0]}" "${ports[1]}" "${ports[2]}")
balancer_port=${ports[3]}
prometheus_port=${ports[4]}
stats_port=${ports[5]}
balancer=http://127.0.0.1:$balancer_port
prometheus_url=http://127.0.0.1:$prometheus_port

if [ "$mode" = ci ]; then
  pack=$work/pack
  cp -r test/fixtures/gpt2-pack "$pack"
  # test/helpers/build-app.ts TEST_ROUTING: drafters small and nopos.
  cat >"$pack/routing.json" <<'JSON'
{"default": {"drafter": "small", "draft_length": 4},
 "languages": {"en": {"drafter": "small", "draft_length": 3}, "fr": {"drafter": "nopos", "draft_length": 2},
               "de": {"drafter": "small", "draft_length": 4}, "am": {"drafter": null, "draft_length": 0}}}
JSON
else
  pack=models/default
fi
mkdir -p "$work/state" "$work/captures"
# The shared definitions file (a ConfigMap in Kubernetes): every replica reads the same one.
cat >"$work/experiments.json" <<JSON
[{"id": "shared-config", "enabled": false, "arms": [{"name": "plain", "drafter": null, "weight": 1}, {"name": "${drafters[0]}", "drafter": "${drafters[0]}", "weight": 1}]}]
JSON

# ---- Prometheus ---------------------------------------------------------------------------------
cat >"$work/prometheus.yml" <<YAML
global: {scrape_interval: 500ms, scrape_timeout: 500ms, evaluation_interval: 1s}
scrape_configs:
  - job_name: fairspec
    static_configs: [{targets: ['127.0.0.1:${replica_port[0]}', '127.0.0.1:${replica_port[1]}', '127.0.0.1:${replica_port[2]}']}]
YAML
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
  --web.listen-address="127.0.0.1:$prometheus_port" --log.level=warn >"$work/prometheus.log" 2>&1 &
pids+=($!)
until_ok 30 "Prometheus ready" curl -sf "$prometheus_url/-/ready"

# ---- replicas -----------------------------------------------------------------------------------
replica_pid=()
start_replica() {
  local i=$1
  PORT=${replica_port[$i]} HOST=127.0.0.1 FAIRSPEC_PACK=$pack FAIRSPEC_MODEL_ID=fairspec-cluster \
    FAIRSPEC_EXPERIMENTS=$work/experiments.json FAIRSPEC_STATE_DIR=$work/state FAIRSPEC_STATE_SYNC_MS=500 \
    FAIRSPEC_ADMIN_TOKEN=$token FAIRSPEC_PROMETHEUS_URL=$prometheus_url FAIRSPEC_SHUTDOWN_LINGER_MS=$linger_ms \
    FAIRSPEC_METRIC_LANGUAGES=$languages FAIRSPEC_ROUTING_MODE=static FAIRSPEC_ORT_THREADS=1 FAIRSPEC_MAX_QUEUE=256 \
    LOG_LEVEL=info node --no-memory-reducer "$dist/server.js" >>"$work/replica-$i.log" 2>&1 &
  replica_pid[$i]=$!
  pids+=($!)
}
ready() { curl -sf "http://127.0.0.1:$1/readyz"; }
for i in 0 1 2; do start_replica "$i"; done
for i in 0 1 2; do until_ok "$ready_s" "replica $i ready" ready "${replica_port[$i]}"; done
log "replicas ready on ${replica_port[*]} (pack $pack); Prometheus on $prometheus_port"

# ---- HAProxy ------------------------------------------------------------------------------------
cat >"$work/haproxy.cfg" <<CFG
global
  maxconn 1024
defaults
  mode http
  timeout connect 1s
  timeout client 300s
  timeout server 300s
  timeout http-request 30s
  # A replica busy generating on a loaded machine can answer /readyz seconds late; that is not a
  # reason to take it out (with all three out, HAProxy itself would answer 503).
  timeout check 5s
  # A replica that is draining answers 503 before doing any work, and one that has exited
  # refuses the connection: both are safe to send to another replica, which HAProxy does here.
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response 503
  option http-buffer-request
  option http-server-close
frontend cluster
  bind 127.0.0.1:$balancer_port
  default_backend fairspec
backend fairspec
  balance roundrobin
  option httpchk GET /readyz
  http-check expect status 200
  default-server inter 250ms fall 3 rise 2
  server r0 127.0.0.1:${replica_port[0]} check
  server r1 127.0.0.1:${replica_port[1]} check
  server r2 127.0.0.1:${replica_port[2]} check
listen stats
  bind 127.0.0.1:$stats_port
  stats enable
  stats uri /stats
CFG
haproxy -c -f "$work/haproxy.cfg" >"$work/haproxy-check.log" 2>&1 || { cat "$work/haproxy-check.log" >&2; exit 1; }
haproxy -f "$work/haproxy.cfg" -db >"$work/haproxy.log" 2>&1 &
pids+=($!)
until_ok 30 "HAProxy up" curl -sf "$balancer/readyz"

# ---- an experiment created through HAProxy --------------------------------------------------------
curl -sf -X POST "$balancer/v1/experiments" -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d "{\"id\": \"$experiment\", \"salt\": \"cluster-local\", \"arms\": [
        {\"name\": \"${drafters[0]}\", \"drafter\": \"${drafters[0]}\", \"weight\": 1},
        {\"name\": \"${drafters[1]}\", \"drafter\": \"${drafters[1]}\", \"weight\": 1}]}" >"$work/created.json"
log "experiment $experiment created through HAProxy: $(cat "$work/created.json")"
lists() { curl -sf "http://127.0.0.1:$1/v1/experiments" -H "authorization: Bearer $token" | grep -q "\"id\":\"$experiment\""; }
for i in 0 1 2; do until_ok 10 "replica $i lists $experiment (state folder sync)" lists "${replica_port[$i]}"; done
log "every replica lists it"

# ---- load through HAProxy, and a rolling restart under it ----------------------------------------
node --import tsx bench/load-generator.ts --url "$balancer" --rate "$rate" --duration-s "$duration" --users "$users" \
  --languages "$languages" --pin-language --temperature 1 --max-tokens "$max_tokens" --prompt-bytes "$prompt_bytes" \
  --plain-fraction 0.2 --max-in-flight 512 --drain-s "$drain_s" --seed 7 --summary-json "$work/load.json" >"$work/load.log" 2>&1 &
load_pid=$!
pids+=($load_pid)
served() { curl -sf "http://127.0.0.1:$1/metrics" | grep -q "^fairspec_experiment_cell_requests_total{experiment=\"$experiment\""; }
until_ok 120 "experiment traffic on replica 0" served "${replica_port[0]}"
sleep 3
restarts=0
draining_idle() {
  local body
  body=$(curl -s "http://127.0.0.1:$1/readyz") || return 1
  [[ $body == *'"status":"draining"'* && $body == *'"running":0'* && $body == *'"queued":0'* ]]
}
for i in 0 1 2; do
  log "replica $i: SIGTERM"
  kill -TERM "${replica_pid[$i]}"
  # It stops admitting, finishes its generations, then lingers: its final counts, as it sees them.
  until_ok 60 "replica $i idle after SIGTERM" draining_idle "${replica_port[$i]}"
  curl -sf "http://127.0.0.1:${replica_port[$i]}/metrics" >"$work/captures/replica-$i-restart-$restarts.prom"
  code=0
  wait "${replica_pid[$i]}" || code=$?
  [ "$code" -eq 0 ] || { echo "cluster-local: replica $i exited with $code" >&2; exit 1; }
  restarts=$((restarts + 1))
  log "replica $i: exited 0 after its linger; starting it again"
  start_replica "$i"
  until_ok "$ready_s" "replica $i ready again" ready "${replica_port[$i]}"
  sleep 1 # HAProxy's rise: two health checks 250 ms apart
  log "replica $i: ready"
  sleep 3
done

code=0
wait "$load_pid" || code=$?
[ "$code" -eq 0 ] || { echo "cluster-local: the load generator exited with $code" >&2; cat "$work/load.log" >&2; exit 1; }
cat "$work/load.log"

stats=$(curl -sf "http://127.0.0.1:$stats_port/stats;csv")
field() { awk -F, -v name="$1" -v col="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col || $i == "# " col) c = i } $1 == "cluster" && $2 == name { print $c }' <<<"$stats"; }
backend() { awk -F, -v col="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i } $1 == "fairspec" && $2 == "BACKEND" { print $c }' <<<"$stats"; }
log "HAProxy: frontend 5xx $(field FRONTEND hrsp_5xx), backend retries $(backend wretr), redispatches $(backend wredis), connection errors $(backend econ), response errors $(backend eresp); restarts $restarts"

# ---- the checks -----------------------------------------------------------------------------------
FAIRSPEC_ADMIN_TOKEN=$token node --import tsx bench/cluster-check.ts --experiment "$experiment" --configured shared-config \
  --balancer "$balancer" --replicas "http://127.0.0.1:${replica_port[0]},http://127.0.0.1:${replica_port[1]},http://127.0.0.1:${replica_port[2]}" \
  --prometheus "$prometheus_url" --captures "$work/captures" --load-summary "$work/load.json" --created "$work/created.json"
[ "$(field FRONTEND hrsp_5xx)" = 0 ] || { echo "cluster-local: HAProxy sent clients 5xx responses" >&2; exit 1; }
log "cluster-local passed ($mode): $restarts restarts, 0 lost, 0 5xx"
