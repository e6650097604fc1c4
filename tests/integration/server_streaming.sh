# emberd run streams objects: it holds 200 responses of a 256 MiB object
# open at once over HTTPS, to readers that read slowly, while a few
# readers download the whole object at full speed; every byte any reader
# got is the original's at its offset, the daemon's resident memory stays
# under 64 MiB all along (objects are never read whole into memory, nor
# mapped whole: the whole downloads would show either), and once the
# readers are gone its descriptors are back to where they were.
#
# The readers are throttled rather than fast so that the proof does not
# depend on moving 200 x 256 MiB (51 GB) through a shared machine: what
# bounds the daemon's memory is that it reads an object only as fast as
# each reader takes it, which a slow reader tests better than a fast one.
#
#   - 200 throttled readers (tests/integration/stream_readers.py): each
#     takes at most 64 KiB/s through a 64 KiB receive buffer, so the daemon
#     must keep writing all 200 at once, in small steps (a reader that
#     stops for 30 s is dropped by the daemon, see the README; these never
#     stop); half ask /files/big.mp4, half /sha256/HEX; every fourth asks
#     a Range from its own offset (206, Content-Range). They close
#     mid-response when told, as a partial reader does.
#   - While all 200 are held: /healthz still answers, and 4 readers
#     (EMBERD_SANITIZED=1: 2, fewer bytes under the slower build) download
#     the whole 256 MiB with curl, compared byte for byte.
#   - VmRSS is sampled every 50 ms from start to end; the bound is checked
#     by the plain build (under AddressSanitizer RSS measures the
#     sanitizer's shadow and quarantine, not emberd).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup_publisher
ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 1024 ] || fail "open-files limit too low: $(ulimit -n)"

N=200
if [ "${EMBERD_SANITIZED:-0}" = 1 ]; then WHOLE=2; else WHOLE=4; fi
SIZE=$((256 * 1024 * 1024))
LIMIT_KB=$((64 * 1024))
head -c "$SIZE" /dev/urandom >"$T/big.mp4"
sha=$(sha256_of "$T/big.mp4")
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/big.mp4"
expect_exit 0 "$EMBERD" ls -c "$CONF"
assert_grep "^big.mp4 .* $sha raw$" "$T/out"
# One event loop per CPU (workers = auto): the bound holds with the
# responses spread over them.
HTTPS_EXTRA="workers = auto"
HTTP_EXTRA="workers = auto"
start_server

rss_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || true; }
fd_count() { ls "/proc/$SERVER_PID/fd" 2>/dev/null | wc -l; }
conns() {	# established TCP connections to the TLS port
	ss -Htn state established "( sport = :$HTTPS_PORT )" 2>/dev/null | wc -l
}
FD_BASE=$(fd_count)

# Sample VmRSS every 50 ms until told to stop.
rm -f "$T/stop-sampling"
(
	max=0 n=0
	while [ ! -e "$T/stop-sampling" ]; do
		r=$(rss_kb VmRSS)
		[ -n "$r" ] && [ "$r" -gt "$max" ] && max=$r
		n=$((n + 1))
		echo "$max $n" >"$T/samples.tmp" && mv "$T/samples.tmp" "$T/samples"
		sleep 0.05
	done
) &
SAMPLER=$!
bg "$SAMPLER"

python3 "$(dirname "$0")/stream_readers.py" --port "$HTTPS_PORT" --cafile "$STORE/tls/cert.pem" \
	--file "$T/big.mp4" --sha256 "$sha" --name big.mp4 --readers "$N" \
	--state "$T/readers.state" --stop "$T/readers.stop" --report "$T/readers.report" \
	>"$T/readers.out" 2>&1 &
READERS=$!
bg "$READERS"

# All 200 responses under way (polled, bounded; the helper gives up at
# 240 s and says why).
for i in $(seq 1 3000); do
	[ -s "$T/readers.state" ] && break
	kill -0 "$READERS" 2>/dev/null || break
	server_alive
	sleep 0.1
done
grep -q '^held' "$T/readers.state" 2>/dev/null ||
	{ cat "$T/readers.out" "$T/readers.state" 2>/dev/null; server_fail "the $N readers were not all under way"; }
held=$(conns)
[ "$held" -ge "$N" ] || server_fail "only $held connections established while $N readers are held"

for i in 1 2 3; do
	out=$(curl -sS --max-time 30 --cacert "$STORE/tls/cert.pem" "$HTTPS_URL/healthz" 2>&1) ||
		server_fail "/healthz with $N responses open: $out"
	[ "$out" = ok ] || server_fail "/healthz with $N responses open answered '$out'"
done

# Whole downloads beside the held ones, each compared byte for byte with
# the original (cmp against the file is the same check as its SHA-256).
mkdir "$T/r"
pids=()
for i in $(seq 1 "$WHOLE"); do
	if [ $((i % 2)) = 0 ]; then url="$HTTPS_URL/files/big.mp4"; else url="$HTTPS_URL/sha256/$sha"; fi
	(
		set -o pipefail
		if curl -sS --max-time 570 --cacert "$STORE/tls/cert.pem" "$url" 2>"$T/r/$i.err" |
			cmp -s - "$T/big.mp4"; then
			echo ok >"$T/r/$i"
		else
			echo "bad: $(head -c 300 "$T/r/$i.err")" >"$T/r/$i"
		fi
	) &
	pids+=($!)
	bg "$!"
done
for p in "${pids[@]}"; do wait "$p" || true; done
still=$(conns)

touch "$T/readers.stop"
rc=0
wait "$READERS" || rc=$?
hwm=$(rss_kb VmHWM)
touch "$T/stop-sampling"
wait "$SAMPLER" || true
read -r max_rss n_samples <"$T/samples"
server_alive

good=$(grep -lx ok "$T"/r/[0-9]* 2>/dev/null | wc -l)
if [ "$good" != "$WHOLE" ]; then
	grep -vhx ok "$T"/r/[0-9]* | sort | uniq -c | head -n 5
	server_fail "$good of $WHOLE whole downloads were right"
fi
[ "$rc" = 0 ] && [ -s "$T/readers.report" ] ||
	{ cat "$T/readers.out"; server_fail "the throttled readers' helper failed (exit $rc)"; }
nok=$(grep -c '^ok ' "$T/readers.report" || true)
if [ "$nok" != "$N" ]; then
	grep -v '^ok ' "$T/readers.report" | head -n 10
	server_fail "$nok of $N throttled readers got only right bytes to the end"
fi
[ "$still" -ge "$N" ] ||
	server_fail "only $still connections left once the whole downloads ended: the held responses did not last (want >= $N)"
read -r rmin rmax rsum < <(awk '{ b = $3; if (NR == 1 || b < mn) mn = b; if (b > mx) mx = b; s += b }
	END { print mn, mx, s }' "$T/readers.report")

# Every connection closed, the descriptors go back to the baseline.
for i in $(seq 1 200); do
	[ "$(fd_count)" -le "$FD_BASE" ] && break
	sleep 0.05
done
fds=$(fd_count)
[ "$fds" -le "$FD_BASE" ] || { ls -l "/proc/$SERVER_PID/fd" | tail -n 20; server_fail "$fds descriptors open after the readers left (baseline $FD_BASE)"; }

echo "info: $N held responses (each reader took $rmin-$rmax bytes, $rsum in all) and $WHOLE whole 256 MiB downloads; max VmRSS ${max_rss} kB over $n_samples samples; VmHWM ${hwm} kB; descriptors $FD_BASE -> $fds"
if [ "${EMBERD_SANITIZED:-0}" = 1 ]; then
	echo "info: sanitizer build: memory bound not measured here (plain build checks it)"
else
	[ "$max_rss" -lt "$LIMIT_KB" ] || fail "VmRSS reached $max_rss kB (limit $LIMIT_KB kB)"
	[ -n "$hwm" ] && [ "$hwm" -lt "$LIMIT_KB" ] || fail "VmHWM is $hwm kB (limit $LIMIT_KB kB)"
fi
pass "$N responses of a 256 MiB object held at once by throttled readers, $WHOLE whole downloads beside them, every byte right; peak RSS $((hwm / 1024)) MiB (bound: 64 MiB, plain build); descriptors back to $fds"
stop_server
