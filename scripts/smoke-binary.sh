#!/usr/bin/env bash
# Smoke-tests a single-file executable: embedded defaults on free ports, one real ffmpeg publish,
# KMP files must appear in the built-in receiver's output folder with every video frame.
set -euo pipefail
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
here="$(cd "$(dirname "$0")/.." && pwd)"
input="${2:-$here/../shared/fixtures/inputs/av_h264baseline_aac.flv}"
work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000)); api=$((port + 1))
cd "$work"
"$bin" --listen "127.0.0.1:$port" --api-listen "127.0.0.1:$api" > server.log 2>&1 &
pid=$!
for _ in $(seq 1 50); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
ffmpeg -hide_banner -nostdin -loglevel error -i "$input" -c copy -f flv "rtmp://127.0.0.1:$port/live/smoke"
for _ in $(seq 1 50); do [ -s kmp-out/smoke_v1_c1.txt ] && [ -s kmp-out/smoke_a1_c1.txt ] && break; sleep 0.2; done
frames=$(grep -c "type=fram" kmp-out/smoke_v1_c1.txt || true)
metrics="$(curl -fsS "http://127.0.0.1:$api/metrics")"
grep -Eq '^rtmp_kmp_rtmp_frames_in_total\{media="video"\} [1-9]' <<< "$metrics" || { echo "smoke: /metrics failed"; exit 1; }
kill -TERM "$pid"; wait "$pid" || true
if [ "$frames" -lt 50 ]; then echo "smoke: $bin: only $frames video frames in kmp-out"; cat server.log; exit 1; fi
echo "smoke: $bin OK ($frames video frames through KMP)"

# worker processes: the executable starts copies of itself behind one API, and drains on SIGTERM
mkdir -p "$work/w" && cd "$work/w"
"$bin" --workers 2 --listen "127.0.0.1:$port" --api-listen "127.0.0.1:$api" > server.log 2>&1 &
pid=$!
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$api/healthz" 2>/dev/null | grep -q '"workers":2' && break; sleep 0.2; done
ffmpeg -hide_banner -nostdin -loglevel error -i "$input" -c copy -f flv "rtmp://127.0.0.1:$port/live/smokew"
curl -fsS "http://127.0.0.1:$api/rtmp_kmp_api/" | grep -q '"workers":\[{"worker":0' || { echo "smoke: $bin: no workers in the API"; cat server.log; exit 1; }
kill -TERM "$pid"; code=0; wait "$pid" || code=$?
for _ in $(seq 1 50); do [ -s kmp-out/smokew_v1_c1.txt ] && break; sleep 0.2; done
wframes=$(grep -c "type=fram" kmp-out/smokew_v1_c1.txt || true)
if [ "$code" -ne 0 ] || [ "$wframes" -lt 50 ] || ! grep -q "all workers stopped" server.log; then
  echo "smoke: $bin --workers 2: exit $code, $wframes video frames"; cat server.log; exit 1
fi
echo "smoke: $bin --workers 2 OK ($wframes video frames through KMP, exit 0)"
