#!/usr/bin/env bash
# Scale-out example and load test (issue 13): two `phi4 serve` replicas on 127.0.0.1 behind nginx with
# prefix-affinity routing, then tools/scaleout/load_test.py through nginx. Everything stops on exit.
#
#   tools/scaleout/run.sh [--model DIR|GGUF] [--replicas N] [--port P] [--keep] [-- load_test.py options]
#
# --model     model for the replicas (default: the tiny Phi-4-multimodal fixture, whose 8k context holds the
#             growing conversations; tools/fetch-smollm2.sh prints a real small GGUF)
# --replicas  number of replicas (default 2)
# --port      nginx's port (default: a free one)
# --keep      after the load test, keep serving until Ctrl-C (to try the balancer by hand)
# --phi4 BIN  the phi4 binary (default: `swift build -c release --product phi4`, a no-op when up to date)
# Installs nginx with apt-get when it is missing (needs root). Exits non-zero when anything fails.
set -euo pipefail
cd "$(dirname "$0")/../.."

model=Tests/PhiModelsTests/Fixtures/phi4mm-tiny
replicas=2
listen_port=
keep=0
phi4=
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --replicas) replicas=$2; shift 2 ;;
    --port) listen_port=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --phi4) phi4=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "run.sh: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
[[ $replicas =~ ^[1-9][0-9]?$ ]] || { echo "run.sh: --replicas takes 1…99" >&2; exit 2; }

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "scale-out: installing nginx (apt-get)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
  else
    echo "scale-out: nginx is missing; install it (Debian/Ubuntu: apt-get install nginx)" >&2
    exit 1
  fi
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
command -v python3 >/dev/null 2>&1 || { echo "scale-out: python3 is needed for the load test" >&2; exit 1; }
if [ -z "$phi4" ]; then
  swift build -c release --product phi4 >&2
  phi4="$(swift build -c release --show-bin-path)/phi4"
fi
[ -x "$phi4" ] || { echo "scale-out: no phi4 binary at $phi4" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/phikit-scaleout.XXXXXX")
# nginx's workers drop root for an unprivileged user: they must be able to enter the directory.
chmod 755 "$work"
mkdir -p "$work/tmp"
pids=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    # Give each process a few seconds to stop cleanly, then insist.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "$status" != 0 ]; then
    for f in "$work"/replica-*.log "$work"/error.log; do
      [ -s "$f" ] && { echo "--- $f (last lines)"; tail -20 "$f"; }
    done
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Free loopback ports, all asked for at once so they differ (a port can still be taken before we bind it:
# then a replica fails to start and the run fails, loudly).
ports=($(python3 - "$((replicas + 1))" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
))
[ -n "$listen_port" ] || listen_port=${ports[$replicas]}

upstreams=""
replica_args=()
for i in $(seq 0 $((replicas - 1))); do
  port=${ports[$i]}
  "$phi4" serve --model "$model" --host 127.0.0.1 --port "$port" --parallel 4 --max-queue 64 \
    > "$work/replica-$i.log" 2>&1 &
  pids+=($!)
  replica_args+=(--replica "127.0.0.1:$port=$!")
  upstreams+="${upstreams:+$'\n'}        server 127.0.0.1:$port max_fails=2 fail_timeout=10s;"
done

# Readiness: /health answers 503 while the model loads, 200 once it is ready. Open-source nginx only learns
# about a replica from failed requests (passive checks), so traffic waits until every replica says 200.
wait_healthy() {  # URL, seconds
  local url=$1 deadline=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if python3 -c 'import sys, urllib.request; sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=2).status == 200 else 1)' \
      "$url" 2>/dev/null; then return 0; fi
    for pid in "${pids[@]}"; do
      kill -0 "$pid" 2>/dev/null || { echo "scale-out: process $pid exited while waiting for $url" >&2; return 1; }
    done
    sleep 0.2
  done
  echo "scale-out: $url not healthy within $2 s" >&2
  return 1
}
for i in $(seq 0 $((replicas - 1))); do
  wait_healthy "http://127.0.0.1:${ports[$i]}/health" 300
done
echo "scale-out: $replicas replicas ready on ports ${ports[*]:0:$replicas} ($model)"

# nginx with a private config, pid, logs and temp paths, in the foreground (not a daemon) so it is ours.
sed -e "s|@PREFIX@|$work|g" -e "s|@LISTEN_PORT@|$listen_port|g" tools/scaleout/nginx.conf |
  awk -v servers="$upstreams" '/^[[:space:]]*@UPSTREAM_SERVERS@[[:space:]]*$/ { print servers; next } { print }' > "$work/nginx.conf"
"$nginx_bin" -t -q -p "$work" -c "$work/nginx.conf" -e "$work/error.log"
"$nginx_bin" -p "$work" -c "$work/nginx.conf" -e "$work/error.log" -g 'daemon off;' &
pids+=($!)
wait_healthy "http://127.0.0.1:$listen_port/health" 30
echo "scale-out: nginx on http://127.0.0.1:$listen_port"

python3 tools/scaleout/load_test.py --url "http://127.0.0.1:$listen_port" "${replica_args[@]}" "$@"

if [ "$keep" = 1 ]; then
  echo "scale-out: serving on http://127.0.0.1:$listen_port until Ctrl-C (try: curl -H 'X-Conversation-ID: a' ...)"
  wait "${pids[0]}"
fi
