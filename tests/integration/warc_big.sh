# export --warc of a 1 GiB item added from a file: the payload is streamed
# from the store, so the export's peak RSS stays at most 32 MiB; warcio
# reads the record back and its digests match. An export killed (SIGKILL)
# midway leaves no OUT that looks complete, only OUT.partial, which the
# next export replaces.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/warc_lib.sh"
setup_publisher
head -c $((1 << 30)) /dev/urandom >"$T/big.bin" || fail "cannot make a 1 GiB file"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/big.bin"
rm "$T/big.bin"

# --- killed midway -----------------------------------------------------------
"$EMBERD" export -c "$CONF" --warc "$T/out.warc.gz" 2>/dev/null &
pid=$!
for i in $(seq 1 600); do
	sz=$(stat -c %s "$T/out.warc.gz.partial" 2>/dev/null || echo 0)
	[ "$sz" -gt $((64 << 20)) ] && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
kill -9 "$pid" 2>/dev/null || fail "the export ended before 64 MiB were written"
wait "$pid" 2>/dev/null || true
[ ! -e "$T/out.warc.gz" ] || fail "a killed export left out.warc.gz"
[ -s "$T/out.warc.gz.partial" ] || fail "no out.warc.gz.partial while the export ran"
pass "SIGKILL after $((sz >> 20)) MiB: no out.warc.gz, only out.warc.gz.partial"

# --- whole, in constant memory ------------------------------------------------
/usr/bin/time -f %M -o "$T/rss" "$EMBERD" export -c "$CONF" --warc "$T/out.warc.gz" ||
	fail "export --warc of 1 GiB failed"
rss=$(tail -n 1 "$T/rss")
[ "$rss" -le $((32 * 1024)) ] || fail "peak RSS $rss KiB, more than 32 MiB"
[ ! -e "$T/out.warc.gz.partial" ] || fail "the next export left out.warc.gz.partial"
warc_check "$T/out.warc.gz" >"$T/e.jsonl" || fail "warcio: a digest does not match"
python3 - "$T/e.jsonl" "$STORE/current/catalog.json" <<'PY' || fail "the 1 GiB record is not the item"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
[item] = json.load(open(sys.argv[2]))["items"]
[r] = [r for r in recs if r["type"] == "resource"]
assert r["length"] == 1 << 30 and r["sha256"] == item["sha256"], r
PY
pass "1 GiB item exported with peak RSS $((rss / 1024)) MiB; warcio reads it back, digests match"
