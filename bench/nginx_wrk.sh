#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/nginx_wrk.sh: the agent's overhead on a real server. nginx (Debian's, 1 worker,
# 127.0.0.1, a 612-byte file, keep-alive, no access log) under wrk, alternating runs
# without and with build/kspan attached by --port, PAIRS pairs, then one more run with
# the console exporter writing to /dev/null. What is measured and reported, and the knobs
# shared with the other wrk benchmarks (BUILD, PAIRS, DURATION, CONNS, THREADS, PROG_STATS,
# BPF_STATS): bench/wrk_agent.sh.
#
# Own knobs: PORT (a free one from 18480), SELECT (the agent's selector, default
# "--port $PORT"; e.g. "--pid $(pgrep -n sleep)" measures the cost of the hooks alone, with
# nginx untraced). Needs root (BPF), nginx and wrk (`make bench` installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

WRK_NAME=nginx_wrk.sh
# shellcheck source=bench/wrk_agent.sh
. bench/wrk_agent.sh
wrk_agent_check nginx

PORT=${PORT:-$(free_port 18480)}
SELECT=${SELECT:---port $PORT}
URL=http://127.0.0.1:$PORT/index.html

work=$(mktemp -d /tmp/kspan-bench-nginx-XXXXXX)
chmod 755 "$work" # the worker runs as nobody
nginx_pid=

cleanup() {
	wrk_agent_cleanup
	if [ -n "$nginx_pid" ]; then
		if kill -QUIT "$nginx_pid" 2>/dev/null; then wait "$nginx_pid" 2>/dev/null || true; fi
	fi
	rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/html"
head -c 612 /dev/zero | tr '\0' 'x' >"$work/html/index.html"
cat >"$work/nginx.conf" <<CONF
daemon off;
master_process on;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/body;
  proxy_temp_path $work/proxy;
  fastcgi_temp_path $work/fastcgi;
  uwsgi_temp_path $work/uwsgi;
  scgi_temp_path $work/scgi;
  sendfile on;
  keepalive_requests 100000000;
  keepalive_timeout 60;
  server { listen 127.0.0.1:$PORT; root $work/html; }
}
CONF
nginx -p "$work" -c "$work/nginx.conf" -e "$work/error.log" &
nginx_pid=$!
for _ in $(seq 100); do
	curl -fs -o /dev/null "$URL" && break
	sleep 0.05
done

wrk_agent_compare "nginx under wrk" "nginx $(nginx -v 2>&1 | sed 's|.*/||'), 612-byte file"
