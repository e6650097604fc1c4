# emberd crawl through real proxies on loopback: microsocks (SOCKS5) and
# tinyproxy (HTTP). The origin answers only connections whose peer address
# is 127.0.0.3, and both proxies connect out from 127.0.0.3 (microsocks -b,
# tinyproxy Bind), so the origin is reachable only through a proxy:
#   (a) no proxy: the crawl fails (origin unreachable directly);
#   (b) [crawl] proxy = socks5h://...: fetched, right sha256; the URL's
#       host is `localhost`, so the name is resolved by the proxy (when
#       localhost resolves to ::1 first, microsocks, which only tries the
#       first address, could not reach the IPv4 origin: 127.0.0.1 is used);
#   (c) [crawl] proxy = http://... (tinyproxy): fetched;
#   (d) a [source] proxy overrides [crawl] proxy (which points at a dead
#       port): fetched;
#   (e) the origin's and the proxies' logs show the connections.
# Needs the Debian packages microsocks and tinyproxy.
. "$(dirname "$0")/lib.sh"

for tool in microsocks tinyproxy python3; do
	command -v "$tool" >/dev/null ||
		fail "$tool not found (Debian packages: microsocks tinyproxy python3)"
done
# Only the config may name a proxy: no proxy from the environment.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY \
	no_proxy NO_PROXY socks_proxy SOCKS_PROXY

# Our helpers are killed at exit, then lib.sh's cleanup runs.
PIDS=()
proxies_cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	cleanup
}
trap proxies_cleanup EXIT

# wait_port PID WHAT PORT: bounded poll (~10 s) until 127.0.0.1:PORT accepts
# a TCP connection; fails at once if PID exits.
wait_port() {
	local pid=$1 what=$2 port=$3 _
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || fail "$what exited before listening on port $port"
		python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.5).close()' \
			"$port" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "$what did not listen on 127.0.0.1:$port within 10 s"
}

# ---------------------------------------------------------------- origin
# http.server on 127.0.0.1, a random port (written to origin.port once it
# listens); a connection from any peer but 127.0.0.3 is closed without a
# response. Every request is logged with its peer address.
mkdir "$T/www"
head -c $((256 * 1024)) /dev/urandom >"$T/www/april.bin"
want=$(sha256_of "$T/www/april.bin")
cat >"$T/origin.py" <<'PY'
import http.server, os, sys

root, portfile, logfile = sys.argv[1:4]
log = open(logfile, "a", buffering=1)

class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw):
        super().__init__(*a, directory=root, **kw)

    def log_message(self, fmt, *args):
        log.write("%s %s\n" % (self.client_address[0], fmt % args))

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def verify_request(self, request, client_address):
        if client_address[0] == "127.0.0.3":
            return True
        log.write("%s refused\n" % client_address[0])
        return False        # socketserver closes it, no response

srv = Server(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
PY
python3 "$T/origin.py" "$T/www" "$T/origin.port" "$T/origin.log" \
	>"$T/origin.out" 2>&1 &
PIDS+=($!)
ORIGIN_PID=$!
for _ in $(seq 1 100); do
	[ -s "$T/origin.port" ] && break
	kill -0 "$ORIGIN_PID" 2>/dev/null || { cat "$T/origin.out"; fail "origin exited"; }
	sleep 0.1
done
[ -s "$T/origin.port" ] || fail "origin did not start within 10 s"
ORIGIN_PORT=$(cat "$T/origin.port")
wait_port "$ORIGIN_PID" origin "$ORIGIN_PORT"
# The name the proxies resolve: localhost, unless its first address is not
# IPv4 (then microsocks, which connects to the first address only, would
# miss the origin).
HOST=localhost
python3 -c 'import socket, sys
sys.exit(socket.getaddrinfo("localhost", 80, 0, socket.SOCK_STREAM)[0][0] != socket.AF_INET)' ||
	{ HOST=127.0.0.1; echo "note: localhost resolves to IPv6 first here; using 127.0.0.1"; }
URL="http://$HOST:$ORIGIN_PORT/april.bin"

# ---------------------------------------------------------------- proxies
SOCKS_PORT=$(free_port)
microsocks -i 127.0.0.1 -p "$SOCKS_PORT" -b 127.0.0.3 >"$T/microsocks.log" 2>&1 &
PIDS+=($!)
wait_port $! microsocks "$SOCKS_PORT"

HTTPP_PORT=$(free_port)
while [ "$HTTPP_PORT" = "$SOCKS_PORT" ]; do HTTPP_PORT=$(free_port); done
cat >"$T/tinyproxy.conf" <<EOF
User $(id -un)
Group $(id -gn)
Port $HTTPP_PORT
Listen 127.0.0.1
Bind 127.0.0.3
Allow 127.0.0.1
Timeout 30
MaxClients 20
LogFile "$T/tinyproxy.log"
LogLevel Connect
EOF
tinyproxy -d -c "$T/tinyproxy.conf" >"$T/tinyproxy.out" 2>&1 &
PIDS+=($!)
wait_port $! tinyproxy "$HTTPP_PORT"

DEAD_PORT=$(free_port)	# nothing listens there

# crawl_config NAME [LINE...]: $T/NAME.conf with its own store (NAME-store)
# and the shared key; LINEs follow [mirror] (a "[section]" starts another).
crawl_config() {
	local name=$1 l
	shift
	{
		echo "[mirror]"
		echo "name  = Test archive"
		echo "store = $name-store"
		echo "key   = publisher.key"
		echo "allow_root = yes"
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$T/$name.conf"
}

# assert_fetched NAME ID: the summary names the right sha256, and so does
# the catalog of NAME-store, whose provenance says "via proxy".
assert_fetched() {
	local name=$1 id=$2
	assert_grep "^emberd: crawl $id: fetched april\.bin \(262144 bytes, sha256 $want\)" "$T/err"
	assert_grep "^emberd: crawl: 1 sources: 1 fetched, 0 unchanged, 0 failed" "$T/err"
	expect_exit 0 "$EMBERD" ls -c "$T/$name.conf" --json
	python3 - "$T/out" "$want" "$URL" <<'PY' || fail "$name: catalog does not list april.bin with sha256 $want"
import json, sys
cat = json.load(open(sys.argv[1]))
items = cat["items"] if isinstance(cat, dict) else cat
ok = [i for i in items if i["name"] == "april.bin" and i["sha256"] == sys.argv[2]
      and i.get("size") == 262144 and i.get("source", sys.argv[3]) == sys.argv[3]
      # Provenance names no proxy: the peer is only "via proxy".
      and i["provenance"].get("ip") == "via proxy"]
sys.exit(0 if len(ok) == 1 else 1)
PY
}

setup_publisher	# the key publisher.key, shared by every config below

# ---------------------------------------------------------------- (a)
crawl_config direct \
	"[crawl]" "timeout = 10s" \
	"[source april]" "url = $URL"
expect_exit 1 timeout 30 "$EMBERD" crawl -c "$T/direct.conf"
assert_grep "^emberd: crawl april: failed: transfer failed after 3 attempts: " "$T/err"
assert_grep "^emberd: crawl: 1 sources: 0 fetched, 0 unchanged, 1 failed" "$T/err"
grep -q '^127\.0\.0\.1 refused' "$T/origin.log" ||
	fail "the origin saw no direct connection from 127.0.0.1: $(cat "$T/origin.log")"
grep -q '"GET ' "$T/origin.log" && fail "the origin answered a request without a proxy"
pass "(a) no proxy: origin unreachable, the crawl fails (exit 1)"

# ---------------------------------------------------------------- (b)
crawl_config socks \
	"[crawl]" "proxy = socks5h://127.0.0.1:$SOCKS_PORT" \
	"[source april]" "url = $URL"
expect_exit 0 timeout 30 "$EMBERD" crawl -c "$T/socks.conf"
assert_fetched socks april
pass "(b) [crawl] proxy = socks5h:// (microsocks, name resolved by the proxy): fetched"

# ---------------------------------------------------------------- (c)
crawl_config httpp \
	"[crawl]" "proxy = http://127.0.0.1:$HTTPP_PORT" \
	"[source april]" "url = $URL"
expect_exit 0 timeout 30 "$EMBERD" crawl -c "$T/httpp.conf"
assert_fetched httpp april
pass "(c) [crawl] proxy = http:// (tinyproxy): fetched"

# ---------------------------------------------------------------- (d)
crawl_config override \
	"[crawl]" "proxy = socks5h://127.0.0.1:$DEAD_PORT" \
	"[source april-override]" "url = $URL" "proxy = socks5h://127.0.0.1:$SOCKS_PORT"
expect_exit 0 timeout 30 "$EMBERD" crawl -c "$T/override.conf"
assert_fetched override april-override
pass "(d) [source] proxy overrides [crawl] proxy (dead port): fetched"

# ... and [crawl] proxy is what a source without its own proxy uses: the
# dead port fails it, though the other source (own proxy) is fetched.
crawl_config dead \
	"[crawl]" "proxy = http://127.0.0.1:$DEAD_PORT" "timeout = 10s" \
	"[source april-own]" "url = $URL" "proxy = http://127.0.0.1:$HTTPP_PORT" \
	"[source april-dead]" "url = $URL"
expect_exit 1 timeout 30 "$EMBERD" crawl -c "$T/dead.conf"
assert_grep "^emberd: crawl april-own: fetched april\.bin \(262144 bytes, sha256 $want\)" "$T/err"
assert_grep "^emberd: crawl april-dead: failed: " "$T/err"
assert_grep "^emberd: crawl: 2 sources: 1 fetched, 0 unchanged, 1 failed" "$T/err"
pass "(d) a source without its own proxy uses [crawl] proxy (dead: failed)"

# ---------------------------------------------------------------- (e)
# The origin saw the requests from the proxies' address: one per fetch
# (b, c, d twice), all from 127.0.0.3, none from elsewhere.
n=$(grep -c '^127\.0\.0\.3 "GET /april\.bin HTTP/1\.[01]" 200 ' "$T/origin.log" || true)
[ "$n" -ge 4 ] || { cat "$T/origin.log"; fail "origin: $n GETs answered with 200 from 127.0.0.3, want >= 4"; }
grep -vE '^(127\.0\.0\.3 |127\.0\.0\.1 refused)' "$T/origin.log" &&
	fail "origin log has lines from another peer"
# tinyproxy logs each client connection and request (c and d's april-own).
n=$(grep -c "GET http://$HOST:$ORIGIN_PORT/april\.bin" "$T/tinyproxy.log" || true)
[ "$n" -ge 2 ] || { cat "$T/tinyproxy.log"; fail "tinyproxy logged $n requests for april.bin, want >= 2"; }
assert_grep "Connect \(file descriptor [0-9]+\): 127\.0\.0\.1" "$T/tinyproxy.log"
# microsocks logs each client with the name it was asked to reach: with
# socks5h, the name itself ("localhost"), not an address (b, d).
n=$(grep -c "127\.0\.0\.1: connected to $HOST:$ORIGIN_PORT" "$T/microsocks.log" || true)
[ "$n" -ge 2 ] || { cat "$T/microsocks.log"; fail "microsocks logged $n connections to $HOST:$ORIGIN_PORT, want >= 2"; }
pass "(e) origin: $(grep -c '^127\.0\.0\.3 ' "$T/origin.log") requests, all from 127.0.0.3; tinyproxy and microsocks logged theirs"
