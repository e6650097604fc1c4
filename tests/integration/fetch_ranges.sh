# emberd fetch --connections and a follower: a large item in ranges from three mirrors
# at once (peer.py relays A, B, C in front of one publisher; each logs the
# Range it answered). Ranges from all three, the right bytes; a mirror
# altering bytes is named as dropped and not asked again; a mirror that
# dies midway leaves its ranges to the others; a SIGKILLed fetch resumes
# from FILE.part and FILE.part.state without asking for the checked
# pieces again; through a SOCKS5 proxy each connection gives its own
# username (Tor's stream isolation). Then a follower of A and B syncs the
# item in ranges from both, B altering bytes dropped; a follower's
# `emberd run` stopped during its ranges keeps the state for the next pass.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/follow_lib.sh"
EMBERD=$(realpath "$EMBERD")
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY \
	socks_proxy SOCKS_PROXY

mkdir "$T/in"
# 16 MiB and a bit: 65 pieces of 256 KiB, the last one short.
SIZE=$((16 * 1024 * 1024 + 12345))
head -c "$SIZE" /dev/urandom >"$T/in/big.bin"
BIG=$(sha256_of "$T/in/big.bin")
publisher_setup "$T/in/big.bin"
for p in a b c; do peer_start "$p" "$HTTP_URL"; done
A=${PEER_URL[a]} B=${PEER_URL[b]} C=${PEER_URL[c]}
peer_rate() { curl -sS --max-time 10 -o /dev/null "${PEER_URL[$1]}/_rate?r=$2" || fail "peer $1: rate"; }
resets() { local p; for p in a b c; do peer_reset "$p"; done; }
# ranges NAME: the object requests NAME answered 206
ranges() { grep -cE "^GET /sha256/$BIG bytes=[0-9]+-[0-9]+ 206$" "$T/$1.log" || true; }
# served NAME: bytes of the ranges NAME was asked for and answered
served() {
	sed -nE "s|^GET /sha256/$BIG bytes=([0-9]+)-([0-9]+) 206$|\1 \2|p" "$T/$1.log" |
		awk '{ s += $2 - $1 + 1 } END { print s + 0 }'
}
got_file() {
	[ -f "$1" ] || fail "$1 was not written"
	[ "$(sha256_of "$1")" = "$BIG" ] || fail "$1 has the wrong bytes"
	[ ! -e "$1.part" ] && [ ! -e "$1.part.state" ] || fail "$1.part or .part.state left behind"
}
q() { printf '%s' "$1" | sed 's/[][\.*^$?+(){}|/]/\\&/g'; }
F=(timeout 120 "$EMBERD" fetch --pubkey "$PUBKEY" -m "$A" -m "$B" -m "$C")

# ------------------------------------------------------------------ all good
expect_exit 2 "$EMBERD" fetch --pubkey "$PUBKEY" -m "$A" --connections 0 big.bin
assert_grep '^emberd: error: --connections 0: a number from 1 to 64' "$T/err"
resets
expect_exit 0 "${F[@]}" --connections 4 -o "$T/all.bin" big.bin
[ ! -s "$T/err" ] || { cat "$T/err"; fail "fetch wrote to stderr on success"; }
got_file "$T/all.bin"
for p in a b c; do
	[ "$(ranges $p)" -gt 0 ] || { peer_log $p; fail "mirror $p answered no range"; }
	grep -qE "^GET /files/big\.bin\.meta4 - 200$" "$T/$p.log" || fail "mirror $p: no Metalink asked"
done
# Every byte asked, and none asked twice except the back part of a range
# still running that an idle connection took over (the first transfer is
# then cut there): of two ranges that overlap, one holds the other.
cover=$(for p in a b c; do
	sed -nE "s|^GET /sha256/$BIG bytes=([0-9]+)-([0-9]+) 206$|\1 \2|p" "$T/$p.log"
done | python3 -c '
import sys
size = int(sys.argv[1])
r = sorted(tuple(map(int, l.split())) for l in sys.stdin)
end, again = 0, 0
for i, (a, b) in enumerate(r):
    if a > end:
        sys.exit("bytes %d-%d asked of no mirror" % (end, a - 1))
    for c, d in r[:i]:
        if c <= b and a <= d and not (c <= a and b <= d) and not (a <= c and d <= b):
            sys.exit("ranges %d-%d and %d-%d overlap, neither holds the other" % (c, d, a, b))
    again += max(0, min(b + 1, end) - a)
    end = max(end, b + 1)
if end != size:
    sys.exit("ranges end at %d, the object at %d" % (end, size))
print(again)' "$SIZE" 2>&1) || fail "the ranges asked of the mirrors: $cover"
pass "--connections 4 over 3 mirrors: ranges from each (a $(ranges a), b $(ranges b), c $(ranges c)), all $SIZE bytes asked ($cover asked again after a range was split), verified"

# One mirror: ranges over 3 connections, no Metalink asked (piece hashes
# from the only mirror could say nothing the SHA-256 does not).
resets
expect_exit 0 timeout 120 "$EMBERD" fetch --pubkey "$PUBKEY" -m "$A" --connections 3 -o "$T/one.bin" big.bin
got_file "$T/one.bin"
[ "$(ranges a)" -gt 1 ] || { peer_log a; fail "one mirror: no ranges"; }
grep -q 'meta4' "$T/a.log" && fail "one mirror: its Metalink was asked for"
pass "one mirror, --connections 3: $(ranges a) ranges, no Metalink, the file right"
# The publisher's own HTTPS listener (self-signed: --insecure) and A.
resets
expect_exit 0 timeout 120 "$EMBERD" fetch --pubkey "$PUBKEY" --insecure -m "$HTTPS_URL" -m "$A" \
	--connections 4 -o "$T/tls.bin" big.bin
got_file "$T/tls.bin"
sa=$(served a)
[ "$sa" -gt 0 ] && [ "$sa" -lt "$SIZE" ] || fail "A served $sa of $SIZE bytes: want some, not all"
pass "HTTPS (--insecure) and HTTP mirrors together, --connections 4: A served $sa bytes, HTTPS the rest, the file right"

# ------------------------------------------------------------------ a mirror alters bytes
# Paced (4 MiB/s a connection), so that the fetch lasts about a second and
# a half: left alone, B would answer about a third of the ~33 ranges.
for p in a b c; do peer_rate $p 4194304; done
peer_mode b altered
resets
expect_exit 0 "${F[@]}" --connections 4 -o "$T/alt.bin" big.bin
got_file "$T/alt.bin"
assert_grep "^emberd: warning: fetch: $(q "$B")/: piece [0-9]+ \(bytes [0-9]+-[0-9]+\) does not match its SHA-1; mirror dropped, its ranges fetched elsewhere$" "$T/err"
[ "$(grep -c 'mirror dropped' "$T/err")" = 1 ] || { cat "$T/err"; fail "want one mirror dropped"; }
nb=$(grep -c "^GET /sha256/$BIG " "$T/b.log" || true)
# B holds 2 of the 4 connections at most: each may have started one more
# range before the bad piece's check came back, none after.
[ "$nb" -ge 1 ] && [ "$nb" -le 4 ] || { peer_log b; fail "B was asked $nb times; want 1 to 4"; }
pass "B alters a byte of every range: named as dropped, $nb range(s) asked of it in all, the file right ($(grep dropped "$T/err" | cut -c1-90)...)"

# Unpaced, the SHA-256 is what the download waits for, and the piece
# checks run only while it waits or once it comes out wrong: B is named
# and dropped all the same, its pieces fetched again, the file right.
for p in a b c; do peer_rate $p 0; done
resets
expect_exit 0 "${F[@]}" --connections 4 -o "$T/alt2.bin" big.bin
got_file "$T/alt2.bin"
assert_grep "^emberd: warning: fetch: $(q "$B")/: piece [0-9]+ \(bytes [0-9]+-[0-9]+\) does not match its SHA-1; mirror dropped, its ranges fetched elsewhere$" "$T/err"
pass "unpaced, B altering every range: named as dropped ($(ranges b) range(s) asked of it), the file right"
peer_mode b good

# ------------------------------------------------------------------ a lying piece list
# A and B serve a Metalink whose first piece hash is false (the majority),
# C the true one: every mirror's piece 0 fails the list, all are dropped,
# then the pieces are checked against C's list and the file ends right.
# Paced, so that the checks run while the download goes on (unpaced, they
# may wait for the end, and a SHA-256 that comes out right makes the
# false list never matter: the file is right either way).
for p in a b c; do peer_rate $p 4194304; done
peer_mode a badmeta4
peer_mode b badmeta4
resets
expect_exit 0 "${F[@]}" --connections 4 -o "$T/lie.bin" big.bin
got_file "$T/lie.bin"
assert_grep "^emberd: warning: fetch: big\.bin: every mirror was dropped; checking against another Metalink's pieces$" "$T/err"
assert_grep "piece 0 \(bytes 0-262143\) does not match its SHA-1" "$T/err"
pass "a false piece list from two of three mirrors: $(grep -c 'mirror dropped' "$T/err") mirrors dropped on piece 0, then C's list: the file right"
peer_mode a good
peer_mode b good

# ------------------------------------------------------------------ a consistent lie
# A and B flip a byte of piece 1 and serve a Metalink whose hash for that
# piece matches it (the majority list): their bytes pass every check, C's
# true piece 1 fails it. Only the signed SHA-256 tells: it comes out wrong,
# that list is a lie, A and B are dropped, and against C's list their
# piece 1 fails and comes again from C.
for p in a b c; do peer_rate $p 0; done
peer_mode a liar
peer_mode b liar
resets
expect_exit 0 "${F[@]}" --connections 4 -o "$T/liar.bin" big.bin
got_file "$T/liar.bin"
assert_grep "^emberd: warning: fetch: big\.bin: every piece matched the Metalink's pieces, yet the file's sha256 is [0-9a-f]{64}, not the catalog's; the mirrors that served that Metalink are dropped$" "$T/err"
assert_grep "^emberd: warning: fetch: $(q "$A")/: its Metalink lied; dropped$" "$T/err"
assert_grep "^emberd: warning: fetch: $(q "$B")/: its Metalink lied; dropped$" "$T/err"
grep -q "$(q "$C")/: its Metalink lied" "$T/err" && { cat "$T/err"; fail "C, which told the truth, was called a liar"; }
pass "altered bytes with a Metalink to match from two of three mirrors: the SHA-256 wrong, A and B dropped as liars, C's list: the file right"
peer_mode a good
peer_mode b good

# ------------------------------------------------------------------ a mirror dies midway
for p in a b c; do peer_rate $p 2097152; done
resets
"${F[@]}" --connections 4 -o "$T/die.bin" big.bin >"$T/die.out" 2>"$T/die.err" &
fpid=$!
for i in $(seq 1 400); do
	[ "$(ranges c)" -ge 1 ] && break
	sleep 0.05
done
[ "$(ranges c)" -ge 1 ] || fail "C answered no range within 20 s"
disown "${PEER_PID[c]}" 2>/dev/null || true
kill -9 "${PEER_PID[c]}"
rc=0
wait "$fpid" || rc=$?
[ "$rc" = 0 ] || { cat "$T/die.err"; fail "fetch exit $rc after C died"; }
got_file "$T/die.bin"
assert_grep "^emberd: warning: fetch: $(q "$C")/: .*" "$T/die.err"
[ "$(( $(ranges a) + $(ranges b) ))" -gt 0 ] || fail "no range from A or B"
pass "C killed midway: its ranges finished on A and B, the file right ($(grep -m1 "$(q "$C")" "$T/die.err" | cut -c1-100))"

# ------------------------------------------------------------------ SIGKILL and resume
# 1 MiB/s a connection: about four seconds; killed once the state file
# records 16 checked pieces.
F=(timeout 120 "$EMBERD" fetch --pubkey "$PUBKEY" -m "$A" -m "$B")
for p in a b; do peer_rate $p 1048576; done
resets() { peer_reset a; peer_reset b; }
resets
mkdir "$T/k"
# Not under timeout: the SIGKILL is for emberd itself.
"${F[@]:2}" --connections 4 -o "$T/k/big.bin" big.bin >"$T/k.out" 2>"$T/k.err" &
fpid=$!
for i in $(seq 1 600); do
	n=$( (sed -n 2p "$T/k/big.bin.part.state" 2>/dev/null || true) | tr -cd 1 | wc -c)
	[ "$n" -ge 16 ] && break
	sleep 0.05
done
kill -9 "$fpid"
wait "$fpid" 2>/dev/null || true
cp "$T/k/big.bin.part.state" "$T/k/state.at-kill" || fail "no big.bin.part.state after SIGKILL"
n=$(sed -n 2p "$T/k/state.at-kill" | tr -cd 1 | wc -c)
[ "$n" -ge 16 ] && [ "$n" -lt 65 ] || fail "the state at the kill has $n checked pieces; want 16 to 64"
for p in a b; do peer_rate $p 0; done
resets
expect_exit 0 "${F[@]}" --connections 4 -o "$T/k/big.bin" big.bin
got_file "$T/k/big.bin"
# No range asked in the second run touches a piece the state called checked.
python3 - "$T/k/state.at-kill" "$T/a.log" "$T/b.log" "$BIG" <<'PY' || fail "a checked piece was asked for again"
import re, sys
head, bits = open(sys.argv[1]).read().split("\n")[:2]
plen = int(head.split()[4])
asked = 0
for log in sys.argv[2:4]:
    for line in open(log):
        m = re.match(r"GET /sha256/%s bytes=(\d+)-(\d+) 206$" % sys.argv[4], line.strip())
        if not m:
            continue
        s, e = int(m.group(1)), int(m.group(2))
        asked += e - s + 1
        for p in range(s // plen, e // plen + 1):
            if bits[p] == "1":
                sys.exit("piece %d was checked, yet asked again (%s)" % (p, line.strip()))
PY
pass "SIGKILL with $n of 65 pieces checked: the rerun asked only for the others ($(python3 - "$T/a.log" "$T/b.log" <<'PY'
import sys
print(sum(1 for f in sys.argv[1:] for l in open(f) if " 206" in l), end="")
PY
) ranges), the file right"

# ------------------------------------------------------------------ a leftover .part, no state
# As one mirror at a time leaves it: a prefix. Its first 2 MiB are right,
# the next 2 MiB wrong: pieces 0-7 are kept, 8-15 fetched again.
mkdir "$T/p"
{ head -c 2097152 "$T/in/big.bin"; head -c 2098152 /dev/urandom; } >"$T/p/big.bin.part"
resets
expect_exit 0 "${F[@]}" --connections 4 -o "$T/p/big.bin" big.bin
got_file "$T/p/big.bin"
python3 - "$T/a.log" "$T/b.log" "$BIG" <<'PY' || fail "the right prefix was asked for again, or the wrong part not"
import re, sys
asked = set()
for log in sys.argv[1:3]:
    for line in open(log):
        m = re.match(r"GET /sha256/%s bytes=(\d+)-(\d+) 206$" % sys.argv[3], line.strip())
        if m:
            asked.update(range(int(m.group(1)) // 262144, int(m.group(2)) // 262144 + 1))
assert not asked & set(range(8)), sorted(asked)
assert set(range(8, 16)) <= asked, sorted(asked)
PY
pass "a leftover .part of 4 MiB without a state file: its 8 right pieces kept, its 8 wrong ones fetched again, the file right"

# ------------------------------------------------------------------ SOCKS isolation
python3 "$TESTS_DIR/integration/socks5_log.py" "$T/socks.port" "$T/socks.log" 2>"$T/socks.err" &
bg $!
for i in $(seq 1 200); do [ -s "$T/socks.port" ] && break; sleep 0.05; done
[ -s "$T/socks.port" ] || fail "socks5_log.py did not start"
resets
expect_exit 0 "${F[@]}" --proxy "socks5h://127.0.0.1:$(cat "$T/socks.port")" --connections 4 \
	-o "$T/socks.bin" big.bin
got_file "$T/socks.bin"
users=$(grep -E '^emberd-[0-9]+-[0-9]+ ' "$T/socks.log" | cut -d' ' -f1 | sort -u | wc -l)
[ "$users" -ge 2 ] || { cat "$T/socks.log"; fail "want 2 or more SOCKS usernames, got $users"; }
[ "$(ranges a)" -gt 0 ] && [ "$(ranges b)" -gt 0 ] || fail "not both mirrors used through the proxy"
pass "socks5h:// proxy: $users SOCKS usernames over $(wc -l <"$T/socks.log") CONNECTs (stream isolation), the file right"

# ------------------------------------------------------------------ the follower
# A follower of A, B and C syncs the item in ranges from more than one of
# them; B alters a byte of every range: dropped, the object right.
for p in a b; do peer_rate $p 2097152; done
peer_mode b altered
resets() { peer_reset a; peer_reset b; }
resets
follower_config f "[follow]" "pubkey = $PUBKEY" "peer = $A/" "peer = $B/" "peer = $C/"
sed -i "s|^peer = $(q "$C")/\$||" "$T/f/emberd.conf"	# C is dead by now
follower_crawl f 0
assert_grep "^emberd: sync $BIG: [0-9]+ bytes in ranges from 2 peers at once" "$T/err"
assert_grep "^emberd: warning: sync: $(q "$B")/: piece [0-9]+ .* does not match its SHA-1; mirror dropped" "$T/err"
[ "$(ranges a)" -gt 0 ] && [ "$(ranges b)" -gt 0 ] || { cat "$T/err"; fail "the follower did not take ranges from A and B"; }
expect_exit 0 "$EMBERD" verify -c "$(fconf f)"
cmp -s "$T/f/store/current/catalog.json" "$STORE/current/catalog.json" || fail "the follower's catalog is not the publisher's"
[ -z "$(ls "$T/f/store/crawl" | grep ranges)" ] || fail "ranges files left: $(ls "$T/f/store/crawl")"
pass "follower: big.bin in ranges from A ($(ranges a)) and B ($(ranges b)); B's altered bytes dropped it; verify passes"

# `emberd run` stopped (SIGTERM) while a sync takes ranges: it ends within
# the bound, keeping ID.ranges.part and its state; the next pass finishes.
peer_mode b good
for p in a b; do peer_rate $p 1048576; done
follower_config g "[follow]" "pubkey = $PUBKEY" "peer = $A/" "peer = $B/" "interval = 1h"
follower_start g
for i in $(seq 1 400); do
	n=$( (sed -n 2p "$T/g/store/crawl/$BIG.ranges.part.state" 2>/dev/null || true) | tr -cd 1 | wc -c)
	[ "$n" -ge 4 ] && break
	follower_alive g
	sleep 0.05
done
[ "$n" -ge 4 ] || { tail "$T/g/run.log"; fail "no ranges state within 20 s"; }
follower_stop g
[ -s "$T/g/store/crawl/$BIG.ranges.part.state" ] || fail "the ranges state was not kept"
for p in a b; do peer_rate $p 0; done
follower_crawl g 0
expect_exit 0 "$EMBERD" verify -c "$(fconf g)"
pass "follower stopped by SIGTERM during ranges ($n pieces checked): exit 0 within 10 s, state kept; the next pass ends right"

stop_server
