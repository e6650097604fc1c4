# emberd run with [https] workers = 3 and [http] workers = auto (one event
# loop per CPU): more than one loop even on a one-CPU machine; each a
# thread, beside the main loop, which then serves none. Fresh
# connections land on every HTTPS loop (SO_REUSEPORT), and /metrics sums
# them: the requests it counts are the requests made; an `add` while
# running is served at once by every loop; SIGHUP with a new certificate
# reaches every loop; SIGTERM lets downloads in flight on any loop finish,
# then exits 0. (As root, the privilege drop with workers is in
# privilege.sh; the load, streaming and crash tests run with workers too.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup_publisher

printf 'first file\n' >"$T/first.txt"
head -c 32000000 /dev/urandom >"$T/big.bin"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/first.txt" "$T/big.bin"
BIG_SHA=$(sha256_of "$T/big.bin")

# Two certificates for 127.0.0.1, A served first, B after a SIGHUP.
for c in a b; do
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
		-keyout "$T/$c.key" -out "$T/$c.pem" 2>/dev/null || fail "openssl req ($c) failed"
done
cp "$T/a.pem" "$T/cert.pem"
cp "$T/a.key" "$T/key.pem"
HTTPS_EXTRA=$(printf 'cert = %s\nkey = %s\nworkers = 3' "$T/cert.pem" "$T/key.pem")
HTTP_EXTRA="workers = auto"
CPUS=$(nproc)
LOOPS=$((CPUS > 3 ? CPUS : 3))
start_server

# fresh.py PORT CAFILE N PATH: N requests for PATH, each on a new HTTPS
# connection verified against CAFILE; prints per line the status, the
# body's SHA-256 and the SHA-256 of the certificate served.
cat >"$T/fresh.py" <<'PY'
import hashlib, http.client, ssl, sys
port, cafile, n, path = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
ctx = ssl.create_default_context(cafile=cafile)
for i in range(n):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=20)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    der = c.sock.getpeercert(binary_form=True)
    print(r.status, hashlib.sha256(body).hexdigest(), hashlib.sha256(der).hexdigest())
    c.close()
PY
fresh() {	# fresh CAFILE N PATH: into $T/fresh.out
	python3 "$T/fresh.py" "$HTTPS_PORT" "$1" "$2" "$3" >"$T/fresh.out" 2>"$T/fresh.err" ||
		{ cat "$T/fresh.err"; server_fail "fresh connections for $3 failed"; }
}
der_sha() { openssl x509 -in "$1" -outform der | sha256sum | cut -d' ' -f1; }
scrape() { curl -sS --max-time 10 "$HTTP_URL/metrics" >"$T/$1" || server_fail "GET /metrics"; }
# sum FILE REGEX: the samples of metrics matching REGEX, summed.
sum() { awk -v re="$2" '$1 ~ re { s += $2 } END { printf "%d\n", s }' "$T/$1"; }

# --- the loops: the count, threads, and a thread each.
wait_for_file_line "$SERVER_LOG" "serving on $LOOPS event loops" 5 ||
	server_fail "no 'serving on $LOOPS event loops' in the log ($CPUS CPUs)"
scrape m0
[ "$(sum m0 '^emberd_workers$')" = "$LOOPS" ] ||
	server_fail "emberd_workers is $(sum m0 '^emberd_workers$'), want $LOOPS"
tasks=$(ls "/proc/$SERVER_PID/task" | wc -l)
[ "$tasks" -gt "$LOOPS" ] || server_fail "$tasks threads for $LOOPS event loops and the main one"
pass "workers = 3 (HTTPS) and auto (HTTP, $CPUS CPUs): $LOOPS event loops beside the main one, $tasks threads"

# --- spread and sums: 60 fresh HTTPS connections land on each of the 3
# HTTPS loops (numbered 1 to 3; 0, the main loop, serves none), and /metrics counts exactly the requests made (the scrape
# between counts itself once it is answered).
fresh "$T/a.pem" 60 /healthz
[ "$(grep -c '^200 ' "$T/fresh.out")" = 60 ] || server_fail "not 60 answers of 200 to /healthz"
scrape m1
spread=
for w in 1 2 3; do
	n0=$(sum m0 "^emberd_worker_requests_total[{]worker=\"$w\"[}]$")
	n1=$(sum m1 "^emberd_worker_requests_total[{]worker=\"$w\"[}]$")
	[ "$n1" -gt "$n0" ] || server_fail "HTTPS loop $w answered none of 60 fresh connections"
	spread="$spread $((n1 - n0))"
done
d_req=$(($(sum m1 '^emberd_worker_requests_total') - $(sum m0 '^emberd_worker_requests_total')))
d_resp=$(($(sum m1 '^emberd_requests_total') - $(sum m0 '^emberd_requests_total')))
[ "$d_req" = 61 ] && [ "$d_resp" = 61 ] ||
	server_fail "/metrics counted $d_req requests and $d_resp responses for 60 requests and one scrape (want 61)"
pass "60 fresh HTTPS connections spread over loops 1, 2, 3 as:$spread; /metrics sums them: 61 requests and responses (with a scrape)"

# --- an add while running: every loop serves the new catalog at once.
printf 'added while running\n' >"$T/new.txt"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/new.txt"
fresh "$T/a.pem" 40 /files/new.txt
ok=$(grep -c "^200 $(sha256_of "$T/new.txt") " "$T/fresh.out" || true)
[ "$ok" = 40 ] || { sort "$T/fresh.out" | uniq -c; server_fail "only $ok of 40 fresh connections got new.txt right after add"; }
# The index pages of the new catalog, made on first use by whichever loop
# asks first: 30 at once over 3 languages, each lists new.txt.
curl -sS --no-progress-meter --max-time 20 --parallel --parallel-max 30 --cacert "$T/a.pem" \
	-o "$T/idx_#1_#2" "$HTTPS_URL/?lang={en,ru,fa}&n=[1-10]" ||
	server_fail "30 index pages at once failed"
ok=$(grep -l 'new\.txt' "$T"/idx_* | wc -l)
[ "$ok" = 30 ] || server_fail "$ok of 30 index pages list new.txt"
pass "add while running: 40 fresh connections, on every loop, all get new.txt at once; so do 30 index pages asked at once"

# --- SIGHUP with a new certificate: every loop serves it to new connections.
cp "$T/b.pem" "$T/cert.pem"
cp "$T/b.key" "$T/key.pem"
kill -HUP "$SERVER_PID"
wait_for_file_line "$SERVER_LOG" "SIGHUP: serving certificate $T/cert.pem" 10 ||
	server_fail "no certificate reload logged after SIGHUP"
fresh "$T/b.pem" 40 /healthz
B_DER=$(der_sha "$T/b.pem")
ok=$(grep -c "^200 .* $B_DER$" "$T/fresh.out" || true)
[ "$ok" = 40 ] || server_fail "only $ok of 40 fresh connections got certificate B after SIGHUP"
scrape m2
busy=0
for w in 1 2 3; do
	[ "$(sum m2 "^emberd_worker_requests_total[{]worker=\"$w\"[}]$")" -gt \
		"$(sum m1 "^emberd_worker_requests_total[{]worker=\"$w\"[}]$")" ] && busy=$((busy + 1))
done
[ "$busy" = 3 ] || server_fail "after SIGHUP, $busy of 3 HTTPS loops answered"
pass "SIGHUP: 40 fresh connections, on all 3 HTTPS loops, get the new certificate"

# --- SIGTERM while 6 downloads are in flight: each loop finishes its
# own, then the daemon exits 0. 32 MB at 4 MB/s: the server is done with
# a download once the rest fits in the socket buffers and the HTTP/2
# window (about 9 MB on loopback), so it counts as active for some 6 s
# of its 8, long enough to see all six at once on a loaded machine (12 MB
# at 2 MB/s left 1.5 s, missed once beside the sanitized suite), and none
# has more than 8 s left when SIGTERM comes, within the drain's 10 s.
pids=
for i in 1 2 3 4 5 6; do
	curl -sS --max-time 90 --limit-rate 4M --cacert "$T/b.pem" -o "$T/dl.$i" \
		"$HTTPS_URL/sha256/$BIG_SHA" 2>"$T/dl.$i.err" &
	pids="$pids $!"
	bg "$!"
done
for i in $(seq 1 300); do
	scrape m3
	[ "$(sum m3 '^emberd_downloads_active$')" = 6 ] && break
	sleep 0.1
done
[ "$(sum m3 '^emberd_downloads_active$')" = 6 ] ||
	server_fail "6 downloads not in flight (active: $(sum m3 '^emberd_downloads_active$'); $(cat "$T"/dl.*.err))"

on=$(awk '$1 ~ /^emberd_worker_connections/ && $2 > 0 { n++ } END { print n + 0 }' "$T/m3")
stop_server TERM 20
for p in $pids; do wait "$p" || fail "a download failed after SIGTERM: $(cat "$T"/dl.*.err)"; done
for i in 1 2 3 4 5 6; do
	[ "$(sha256_of "$T/dl.$i")" = "$BIG_SHA" ] || fail "download $i incomplete after SIGTERM"
done
pass "SIGTERM with 6 downloads in flight on $on loops: all complete, exit 0 after $STOP_SECONDS s"
