# emberd run streams objects: 200 readers download a 256 MiB object at
# once over HTTPS, every copy is byte-for-byte the original, and the
# daemon's resident memory stays under 64 MiB all along (objects are never
# read whole into memory, nor mapped whole).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup_publisher
ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 1024 ] || fail "open-files limit too low: $(ulimit -n)"

N=200
SIZE=$((256 * 1024 * 1024))
LIMIT_KB=$((64 * 1024))
head -c "$SIZE" /dev/urandom >"$T/big.mp4"
sha=$(sha256_of "$T/big.mp4")
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/big.mp4"
expect_exit 0 "$EMBERD" ls -c "$CONF"
assert_grep "^big.mp4 .* $sha raw$" "$T/out"
start_server

rss_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || true; }
conns() {	# established TCP connections to the TLS port
	ss -Htn state established "( sport = :$HTTPS_PORT )" 2>/dev/null | wc -l
}

# Sample VmRSS every 50 ms (and the connection count every ~0.5 s) until
# told to stop.
rm -f "$T/stop-sampling"
(
	max=0 maxc=0 n=0
	while [ ! -e "$T/stop-sampling" ]; do
		r=$(rss_kb VmRSS)
		[ -n "$r" ] && [ "$r" -gt "$max" ] && max=$r
		if [ $((n % 10)) = 0 ]; then
			c=$(conns)
			[ "$c" -gt "$maxc" ] && maxc=$c
		fi
		n=$((n + 1))
		echo "$max $maxc $n" >"$T/samples.tmp" && mv "$T/samples.tmp" "$T/samples"
		sleep 0.05
	done
) &
SAMPLER=$!
bg "$SAMPLER"

# 200 concurrent downloads, each compared byte for byte with the original
# (cmp against the file is the same check as its SHA-256, and cheaper).
mkdir "$T/r"
t0=$(date +%s)
pids=()
for i in $(seq 1 "$N"); do
	if [ $((i % 2)) = 0 ]; then url="$HTTPS_URL/files/big.mp4"; else url="$HTTPS_URL/sha256/$sha"; fi
	(
		set -o pipefail
		if curl -sS --max-time 280 --cacert "$STORE/tls/cert.pem" "$url" 2>"$T/r/$i.err" |
			cmp -s - "$T/big.mp4"; then
			echo ok >"$T/r/$i"
		else
			echo "bad: $(head -c 300 "$T/r/$i.err")" >"$T/r/$i"
		fi
	) &
	pids+=($!)
	bg "$!"
done

# Once most downloads are under way (polled, bounded), a normal reader
# still gets through.
for i in $(seq 1 600); do
	[ "$(conns)" -ge $((N / 2)) ] && break
	sleep 0.05
done
[ "$(conns)" -ge $((N / 2)) ] || fail "the downloads did not start"
for i in 1 2 3; do
	out=$(curl -sS --max-time 5 --cacert "$STORE/tls/cert.pem" "$HTTPS_URL/healthz" 2>&1) ||
		server_fail "/healthz under load: $out"
	[ "$out" = ok ] || server_fail "/healthz under load answered '$out'"
done

for p in "${pids[@]}"; do wait "$p" || true; done
elapsed=$(( $(date +%s) - t0 ))
hwm=$(rss_kb VmHWM)
touch "$T/stop-sampling"
wait "$SAMPLER" || true
read -r max_rss max_conns n_samples <"$T/samples"
server_alive

good=$(grep -lx ok "$T"/r/* 2>/dev/null | wc -l)
if [ "$good" != "$N" ]; then
	grep -vhx ok "$T"/r/[0-9]* | sort | uniq -c | head -n 5
	server_fail "$good of $N downloads were whole"
fi
echo "info: $N x 256 MiB over HTTPS in ${elapsed}s; max VmRSS ${max_rss} kB over $n_samples samples; VmHWM ${hwm} kB; up to $max_conns connections at once"
[ "$max_conns" -ge $((N * 3 / 4)) ] || fail "only $max_conns downloads ran at once (want >= $((N * 3 / 4)))"
# Under AddressSanitizer, RSS measures the sanitizer's quarantine and
# shadow memory, not emberd: the bound is checked by the plain build, and
# here only the 200 whole downloads count.
if [ "${EMBERD_SANITIZED:-0}" = 1 ]; then
	echo "info: sanitizer build: memory bound not measured here (plain build checks it)"
else
	[ "$max_rss" -lt "$LIMIT_KB" ] || fail "VmRSS reached $max_rss kB (limit $LIMIT_KB kB)"
	[ -n "$hwm" ] && [ "$hwm" -lt "$LIMIT_KB" ] || fail "VmHWM is $hwm kB (limit $LIMIT_KB kB)"
fi
pass "$N concurrent 256 MiB downloads, all whole; peak RSS $((hwm / 1024)) MiB (bound: 64 MiB, plain build)"
stop_server
