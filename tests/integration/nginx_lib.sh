# Debian's nginx as the static host of an export; sourced after lib.sh
# (and after server_lib.sh / follow_lib.sh when used: it chains onto the
# EXIT trap set when it is sourced, so it comes last).
#
#   nginx_start ROOT     serve ROOT on a free port of 127.0.0.1 (plain HTTP,
#                        one worker, the types a mirror has); sets NGINX_URL
#                        (no trailing slash); waits, bounded, until it answers
#   nginx_stop           stop it (also done at exit)

NGINX_PID=
eval "set -- $(trap -p EXIT)"
NGINX_PREV_EXIT=${3:-}
set --

nginx_stop() {
	[ -n "$NGINX_PID" ] || return 0
	kill "$NGINX_PID" 2>/dev/null || true
	wait "$NGINX_PID" 2>/dev/null || true
	NGINX_PID=
}
nginx_cleanup() { nginx_stop; eval "$NGINX_PREV_EXIT"; }
trap nginx_cleanup EXIT

nginx_start() {
	local root=$1 port d=$T/nginx i user=''
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] ||
		fail "nginx is not installed (apt-get install nginx)"
	port=$(free_port)
	mkdir -p "$d/logs" "$d/tmp"
	# The test folder is private (mktemp: 0700): the worker runs as us.
	[ "$(id -u)" = 0 ] && user="user $(id -un) $(id -gn);"
	cat >"$d/nginx.conf" <<NGINX
$user
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 512; }
http {
    types {
        text/html html;
        application/json json;
        application/xml xml;
        video/mp4 mp4;
        text/plain txt;
        application/metalink4+xml meta4;
        application/x-bittorrent torrent;
    }
    default_type application/octet-stream;
    charset utf-8;
    access_log off;
    sendfile on;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        root $root;
    }
}
NGINX
	PATH=$PATH:/usr/sbin nginx -p "$d/" -c "$d/nginx.conf" -e "$d/logs/error.log" \
		>"$d/logs/stdout.log" 2>&1 &
	NGINX_PID=$!
	NGINX_URL="http://127.0.0.1:$port"
	for i in $(seq 1 200); do
		curl -s -o /dev/null --max-time 2 "$NGINX_URL/" && return 0
		kill -0 "$NGINX_PID" 2>/dev/null ||
			{ cat "$d/logs/error.log"; fail "nginx exited"; }
		sleep 0.05
	done
	cat "$d/logs/error.log"
	fail "nginx does not answer on $NGINX_URL within 10 s"
}
