# emberd fetch, the reader's client: by name and by sha256, -o, the key as
# a string and as a .pub file; mirrors that are dead, badly signed, signed
# by another key, rolled back, forged, truncating, altering, missing the
# object; the newest valid catalog wins; resume across mirrors (Range) and
# of a leftover FILE.part; --insecure (TLS only, never the signature);
# quiet off a terminal, a progress bar on one; --proxy through microsocks
# to a mirror only the proxy can reach.
#
# Mirrors: the publisher's own listeners ($HTTP_URL, $HTTPS_URL with its
# self-signed certificate) and peer.py relays in front of $HTTP_URL: G
# (always good; its log shows the Range asked for), X and Y (hostile, mode
# switched per case; X's --alt-dir is $T/alt).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/follow_lib.sh"
EMBERD=$(realpath "$EMBERD")	# fetch runs in other folders
for tool in python3 script microsocks minisign; do
	command -v "$tool" >/dev/null || fail "$tool is not installed"
done
# Only --proxy may name a proxy here.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY \
	socks_proxy SOCKS_PROXY

mkdir "$T/in" "$T/alt"
BIG_SIZE=$((6 * 1024 * 1024 + 4321))
head -c "$BIG_SIZE" /dev/urandom >"$T/in/big.bin"
BIG=$(sha256_of "$T/in/big.bin")
printf 'Voice of April, verse %d\n' $(seq 1 200) >"$T/in/small.txt"
SMALL=$(sha256_of "$T/in/small.txt")
publisher_setup "$T/in/big.bin" "$T/in/small.txt"
curl_http -o "$T/publisher.pub" "$HTTP_URL/pubkey" || fail "GET /pubkey"
peer_start g "$HTTP_URL"
peer_start x "$HTTP_URL" --alt-dir "$T/alt"
peer_start y "$HTTP_URL"
G=${PEER_URL[g]} X=${PEER_URL[x]} Y=${PEER_URL[y]}
DEAD="http://127.0.0.1:$(free_port)"	# nothing listens there

# fetch RC [ARGS...]: `emberd fetch --pubkey $PUBKEY ARGS` in $T/cwd (made
# empty first), bounded; stdout/stderr in $T/out, $T/err.
fetch() {
	local rc=$1
	shift
	rm -rf "$T/cwd"
	mkdir "$T/cwd"
	(cd "$T/cwd" && expect_exit "$rc" timeout 120 "$EMBERD" fetch --pubkey "$PUBKEY" "$@")
}
# fetch_k RC KEY [ARGS...]: the same with another --pubkey.
fetch_k() {
	local rc=$1 key=$2
	shift 2
	rm -rf "$T/cwd"
	mkdir "$T/cwd"
	(cd "$T/cwd" && expect_exit "$rc" timeout 120 "$EMBERD" fetch --pubkey "$key" "$@")
}
got_file() {	# got_file FILE SHA: FILE holds exactly the item, no .part left
	[ -f "$1" ] || fail "$1 was not written"
	[ "$(sha256_of "$1")" = "$2" ] || fail "$1 has the wrong bytes"
	[ ! -e "$1.part" ] || fail "$1.part left behind after a verified download"
}
quiet() {	# nothing at all on stderr (not a terminal), nothing on stdout
	[ ! -s "$T/err" ] || { cat "$T/err"; fail "fetch wrote to stderr on success off a terminal"; }
	[ ! -s "$T/out" ] || { cat "$T/out"; fail "fetch wrote to stdout"; }
}
one_error() {	# one_error REGEX: exactly one error line, and it matches
	local n
	n=$(grep -c '^emberd: error: ' "$T/err" || true)
	[ "$n" = 1 ] || { cat "$T/err"; fail "want one error line, got $n"; }
	assert_grep "^emberd: error: fetch: $1" "$T/err"
}
no_warning() {
	grep -q 'warning' "$T/err" && { cat "$T/err"; fail "unexpected warning"; }
	return 0
}
wlines() { grep -c '^emberd: warning: fetch: ' "$T/err" || true; }
q() { printf '%s' "$1" | sed 's/[][\.*^$?+(){}|/]/\\&/g'; }	# regex-quote

# ------------------------------------------------------------------ usage
expect_exit 2 "$EMBERD" fetch -m "$HTTP_URL" small.txt
assert_grep '^emberd: error: .*--pubkey' "$T/err"
expect_exit 2 "$EMBERD" fetch --pubkey "$PUBKEY" small.txt
assert_grep '^emberd: error: .*-m URL' "$T/err"
expect_exit 2 "$EMBERD" fetch --pubkey "$PUBKEY" -m "ftp://127.0.0.1/" small.txt
assert_grep '^emberd: error: .*ftp://127\.0\.0\.1/' "$T/err"
expect_exit 2 "$EMBERD" fetch --pubkey RWQnot-a-key -m "$HTTP_URL" small.txt
assert_grep '^emberd: error: .*RWQnot-a-key' "$T/err"
[ ! -e small.txt ] || fail "a usage error wrote small.txt"
pass "usage errors: exit 2 naming --pubkey, -m, the bad URL, the bad key"

# ------------------------------------------------------------------ basics
fetch 0 -m "$HTTP_URL" big.bin
quiet
got_file "$T/cwd/big.bin" "$BIG"
[ "$(ls -A "$T/cwd")" = big.bin ] || fail "fetch left other files: $(ls -A "$T/cwd")"
pass "by name, key as RW... string: big.bin ($BIG_SIZE bytes) in the cwd, verified, stderr empty"

fetch_k 0 "$T/publisher.pub" -m "$HTTP_URL" "$SMALL"
quiet
got_file "$T/cwd/small.txt" "$SMALL"
mkdir -p "$T/o/sub"
fetch_k 0 "$T/publisher.pub" -m "$HTTP_URL/" -o "$T/o/sub/x.bin" "$BIG"
quiet
got_file "$T/o/sub/x.bin" "$BIG"
[ -z "$(ls -A "$T/cwd")" ] || fail "-o elsewhere, yet the cwd got $(ls -A "$T/cwd")"
pass "by sha256, key as the .pub from /pubkey: default name is the item's; -o PATH in another folder"

# ------------------------------------------------------------------ bad mirrors
fetch 0 -m "$DEAD" -m "$HTTP_URL" small.txt
got_file "$T/cwd/small.txt" "$SMALL"
assert_grep "^emberd: warning: fetch: mirror $(q "$DEAD")/: " "$T/err"
[ "$(wlines)" = 1 ] || { cat "$T/err"; fail "want one warning"; }
grep -q '^emberd: error' "$T/err" && fail "an error line on success"
pass "first mirror dead (closed port): ok, one warning naming it: $(head -n 1 "$T/err")"

peer_mode x error
fetch 0 -m "$X" -m "$HTTP_URL" small.txt
got_file "$T/cwd/small.txt" "$SMALL"
assert_grep "^emberd: warning: fetch: mirror $(q "$X")/: .*500" "$T/err"
pass "first mirror answers 500: ok, warning names it and the status"

peer_mode x badsig
fetch 0 -m "$X" -m "$G" small.txt
got_file "$T/cwd/small.txt" "$SMALL"
assert_grep "^emberd: warning: fetch: mirror $(q "$X")/: .*signature" "$T/err"
[ "$(wlines)" = 1 ] || { cat "$T/err"; fail "want one warning"; }
pass "first mirror's signature altered (badsig): the other's catalog used; $(head -n 1 "$T/err")"

# Another publisher's genuinely signed catalog.
mkdir "$T/other"
printf '[mirror]\nname = Impostor\nstore = store\nkey = other.key\nallow_root = yes\n' >"$T/other/emberd.conf"
expect_exit 0 "$EMBERD" keygen -c "$T/other/emberd.conf"
OTHER_KEY=$(tail -n 1 "$T/out")
printf 'impostor copy\n' >"$T/other/small.txt"
expect_exit 0 "$EMBERD" add -c "$T/other/emberd.conf" "$T/other/small.txt"
cp "$T/other/store/current/catalog.json" "$T/other/store/current/catalog.json.minisig" "$T/alt/"
minisign -Vm "$T/alt/catalog.json" -P "$OTHER_KEY" >/dev/null ||
	fail "the impostor's catalog does not verify with its own key"
peer_mode x otherkey
fetch 0 -m "$X" -m "$G" small.txt
got_file "$T/cwd/small.txt" "$SMALL"
assert_grep "^emberd: warning: fetch: mirror $(q "$X")/: " "$T/err"
[ "$(wlines)" = 1 ] || { cat "$T/err"; fail "want one warning"; }
pass "first mirror signed by another key (otherkey): the other's catalog used; $(head -n 1 "$T/err")"

# No mirror with a valid signature at all.
peer_mode y badsig
fetch 1 -m "$X" -m "$Y" -m "$DEAD" small.txt
one_error "no mirror gave a catalog signed by key $KEYID"
[ "$(wlines)" = 3 ] || { cat "$T/err"; fail "want a warning per mirror"; }
[ -z "$(ls -A "$T/cwd")" ] || fail "no valid catalog, yet the cwd got $(ls -A "$T/cwd")"
pass "no mirror with a valid signature (otherkey, badsig, dead): exit 1, $(grep error "$T/err")"

# Unknown name or hash.
fetch 1 -m "$HTTP_URL" nope.bin
one_error "'nope\.bin' is not in catalog sequence $PUB_SEQ"
fetch 1 -m "$HTTP_URL" "$(printf '0%.0s' $(seq 1 64))"
one_error "'0{64}' is not in catalog"
[ -z "$(ls -A "$T/cwd")" ] || fail "unknown item, yet the cwd got $(ls -A "$T/cwd")"
pass "unknown name or sha256: exit 1, one error naming it"

# ------------------------------------------------------------------ the newest catalog wins
cp "$STORE/current/catalog.json" "$STORE/current/catalog.json.minisig" "$T/alt/"
OLD_SEQ=$PUB_SEQ
printf 'Voice of April, second edition\n' >"$T/in/small-v2.txt"
SMALL2=$(sha256_of "$T/in/small-v2.txt")
publisher_add --name small.txt "$T/in/small-v2.txt"
[ "$PUB_SEQ" -gt "$OLD_SEQ" ] || fail "the sequence did not grow"
peer_mode x otherkey	# now: the publisher's own, older catalog
fetch 0 -m "$X" big.bin	# alone, the older catalog is valid
got_file "$T/cwd/big.bin" "$BIG"
no_warning
for order in "$X $HTTP_URL" "$HTTP_URL $X"; do
	read -r m1 m2 <<<"$order"
	fetch 0 -m "$m1" -m "$m2" small.txt
	got_file "$T/cwd/small.txt" "$SMALL2"
	no_warning
done
pass "newest catalog wins: sequence $PUB_SEQ over $OLD_SEQ (rolled-back relay first or second); alone, the old one is used"

# ------------------------------------------------------------------ transfers that go wrong
peer_mode x truncated
peer_reset g
peer_reset x
fetch 0 -m "$X" -m "$G" big.bin
got_file "$T/cwd/big.bin" "$BIG"
assert_grep "^emberd: warning: fetch: $(q "$X")/sha256/$BIG: .*; resuming from the next mirror$" "$T/err"
n=$(peer_log g | sed -nE "s|^GET /sha256/$BIG bytes=([0-9]+)- 206$|\1|p" | head -n 1)
[ -n "$n" ] && [ "$n" -gt 0 ] && [ "$n" -lt "$BIG_SIZE" ] ||
	{ peer_log x; peer_log g; fail "mirror G got no Range request bytes=N- (N > 0)"; }
grep -qE "^GET /sha256/$BIG - " "$T/g.log" && fail "mirror G was asked for the whole object"
pass "first mirror truncates big.bin: resumed on the second with Range bytes=$n-, right bytes"

peer_mode x altered
peer_reset g
fetch 0 -m "$X" -m "$G" big.bin
got_file "$T/cwd/big.bin" "$BIG"
assert_grep "^emberd: warning: fetch: $(q "$X")/(sha256/$BIG)?: sha256 mismatch .*; starting over from the next mirror$" "$T/err"
grep -qE "^GET /sha256/$BIG - 200$" "$T/g.log" || { peer_log g; fail "G was not asked for the whole object"; }
pass "first mirror alters big.bin: 'starting over from the next mirror', right bytes"

fetch 1 -m "$X" big.bin
one_error "no mirror had a good copy of big\.bin \(sha256 $BIG\)"
assert_grep "sha256 mismatch" "$T/err"
[ ! -e "$T/cwd/big.bin" ] || fail "altered bytes were written to big.bin"
# What the message says about big.bin.part must be true.
kept=$(sed -nE 's/.*; ([0-9]+) bytes kept in (.*) for a later run$/\1/p' "$T/err")
part=$(sed -nE 's/.*; ([0-9]+) bytes kept in (.*) for a later run$/\2/p' "$T/err")
if [ -n "$kept" ]; then
	[ "$part" = big.bin.part ] || fail "the error names $part, want big.bin.part"
	[ "$(stat -c %s "$T/cwd/big.bin.part" 2>/dev/null)" = "$kept" ] ||
		fail "the error says $kept bytes are kept in big.bin.part; it is not so"
else
	# Nothing said to be kept: nothing may be left behind.
	[ ! -e "$T/cwd/big.bin.part" ] ||
		fail "big.bin.part is left ($(stat -c %s "$T/cwd/big.bin.part") bytes) but the error does not say so"
fi
pass "only mirror alters: exit 1, no big.bin; $(grep error "$T/err" | cut -c1-110)..."

peer_mode x notfound
fetch 0 -m "$X" -m "$G" small.txt
got_file "$T/cwd/small.txt" "$SMALL2"
assert_grep "^emberd: warning: fetch: $(q "$X")/sha256/$SMALL2: HTTP 404" "$T/err"
pass "first mirror lacks the object (404): the next one serves it"

# ------------------------------------------------------------------ TLS and --insecure
fetch 1 -m "$HTTPS_URL" big.bin
assert_grep "^emberd: warning: fetch: mirror $(q "$HTTPS_URL")/: .*certificate" "$T/err"
one_error "no mirror gave a catalog signed by key $KEYID"
fetch 0 --insecure -m "$HTTPS_URL" big.bin
quiet
got_file "$T/cwd/big.bin" "$BIG"
peer_mode x badsig
fetch 1 --insecure -m "$X" small.txt
one_error "no mirror gave a catalog signed by key $KEYID"
# A forged catalog (big.bin's sha256 replaced, the genuine signature kept).
python3 - "$STORE/current/catalog.json" "$T/alt/catalog.json" "$BIG" "$SMALL" <<'PY'
import sys
s = open(sys.argv[1]).read()
assert sys.argv[3] in s
open(sys.argv[2], "w").write(s.replace(sys.argv[3], sys.argv[4]))
PY
cp "$STORE/current/catalog.json.minisig" "$T/alt/"
peer_mode x otherkey
fetch 1 --insecure -m "$X" big.bin
one_error "no mirror gave a catalog signed by key $KEYID"
[ -z "$(ls -A "$T/cwd")" ] || fail "a forged catalog let something be written: $(ls -A "$T/cwd")"
pass "self-signed https: certificate error without --insecure (exit 1); ok with it; badsig and forged catalogs still fail with it"

# ------------------------------------------------------------------ terminal
rm -rf "$T/cwd" && mkdir "$T/cwd"
cmd=$(printf '%q ' "$EMBERD" fetch --pubkey "$PUBKEY" -m "$HTTP_URL" -o "$T/cwd/tty.bin" big.bin)
rc=0
timeout 120 script -qec "$cmd" /dev/null </dev/null >"$T/tty.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || { cat -v "$T/tty.out"; fail "fetch on a terminal: exit $rc"; }
got_file "$T/cwd/tty.bin" "$BIG"
grep -q '100%' "$T/tty.out" && grep -q 'MiB/s' "$T/tty.out" && grep -q 'ETA' "$T/tty.out" ||
	{ cat -v "$T/tty.out"; fail "no progress bar (100%, MiB/s, ETA) on a terminal"; }
pass "on a terminal: a progress bar ($(tr '\r' '\n' <"$T/tty.out" | grep -m1 '100%' | tr -s ' ' | cut -c1-70))"

# ------------------------------------------------------------------ leftover .part
mkdir -p "$T/r"
head -c 2097152 "$T/in/big.bin" >"$T/r/big.bin.part"
peer_reset g
fetch 0 -m "$G" -o "$T/r/big.bin" big.bin
quiet
got_file "$T/r/big.bin" "$BIG"
[ "$(peer_log g | grep -c "^GET /sha256/$BIG ")" = 1 ] || { peer_log g; fail "want one object request"; }
grep -qE "^GET /sha256/$BIG bytes=2097152- 206$" "$T/g.log" || { peer_log g; fail "no Range bytes=2097152-"; }
pass "leftover FILE.part (first 2 MiB): re-hashed, resumed with Range bytes=2097152-, right bytes"

# A leftover of wrong bytes cannot survive: the hash fails, started over.
rm -f "$T/r/big.bin"
head -c 2097152 /dev/urandom >"$T/r/big.bin.part"
peer_reset g
fetch 0 -m "$G" -o "$T/r/big.bin" big.bin
got_file "$T/r/big.bin" "$BIG"
assert_grep "starting over" "$T/err"
grep -qE "^GET /sha256/$BIG - 200$" "$T/g.log" || { peer_log g; fail "not started over"; }
# Longer than the item: not resumable, started over without a Range.
rm -f "$T/r/big.bin"
head -c $((BIG_SIZE + 10)) /dev/urandom >"$T/r/big.bin.part"
peer_reset g
fetch 0 -m "$G" -o "$T/r/big.bin" big.bin
got_file "$T/r/big.bin" "$BIG"
[ "$(peer_log g | grep -c "^GET /sha256/$BIG ")" = 1 ] && grep -qE "^GET /sha256/$BIG - 200$" "$T/g.log" ||
	{ peer_log g; fail "a .part longer than the item was not replaced by one whole download"; }
pass "leftover FILE.part of wrong bytes, or too long: started over, right bytes"

# ------------------------------------------------------------------ --proxy
# A gate in front of the publisher that closes every connection whose peer
# is not 127.0.0.3; microsocks connects out from 127.0.0.3.
cat >"$T/gate.py" <<'PY'
import os, socket, sys, threading
up, portfile, logfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
log = open(logfile, "a", buffering=1)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(64)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % srv.getsockname()[1])
os.rename(portfile + ".tmp", portfile)

def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    try:
        b.shutdown(socket.SHUT_WR)
    except OSError:
        pass

def serve(c, addr):
    if addr[0] != "127.0.0.3":
        log.write("%s refused\n" % addr[0])
        c.close()
        return
    log.write("%s accepted\n" % addr[0])
    u = socket.create_connection(("127.0.0.1", up))
    t = threading.Thread(target=pipe, args=(u, c), daemon=True)
    t.start()
    pipe(c, u)
    t.join()
    c.close()
    u.close()

while True:
    c, addr = srv.accept()
    threading.Thread(target=serve, args=(c, addr), daemon=True).start()
PY
python3 "$T/gate.py" "$HTTP_PORT" "$T/gate.port" "$T/gate.log" >"$T/gate.out" 2>&1 &
bg $!
wait_exists() {
	local i
	for i in $(seq 1 200); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
wait_exists "$T/gate.port" || fail "gate.py did not start"
GATE="http://127.0.0.1:$(cat "$T/gate.port")"
SOCKS_PORT=$(free_port)
microsocks -i 127.0.0.1 -p "$SOCKS_PORT" -b 127.0.0.3 >"$T/microsocks.log" 2>&1 &
bg $!
for i in $(seq 1 200); do
	python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.5).close()' "$SOCKS_PORT" \
		2>/dev/null && break
	sleep 0.05
done
fetch 1 -m "$GATE" big.bin
assert_grep "^emberd: warning: fetch: mirror $(q "$GATE")/: " "$T/err"
assert_grep '^127\.0\.0\.1 refused' "$T/gate.log"
grep -q accepted "$T/gate.log" && fail "the gate let a direct connection in"
fetch 0 --proxy "socks5h://127.0.0.1:$SOCKS_PORT" -m "$GATE" big.bin
quiet
got_file "$T/cwd/big.bin" "$BIG"
assert_grep '^127\.0\.0\.3 accepted' "$T/gate.log"
assert_grep "connected to 127\.0\.0\.1:$(cat "$T/gate.port")" "$T/microsocks.log"
pass "--proxy socks5h:// (microsocks): reaches a mirror that refuses direct connections ($(grep -c accepted "$T/gate.log") via 127.0.0.3)"

# ------------------------------------------------------------------ documented argument order
# `fetch ... NAME|SHA256 [-o FILE] [--proxy URL] [--insecure]`: options after
# the name, as the synopsis writes them.
rm -rf "$T/cwd" && mkdir "$T/cwd"
(cd "$T/cwd" && expect_exit 0 timeout 120 "$EMBERD" fetch --pubkey "$PUBKEY" -m "$HTTP_URL" \
	small.txt -o "$T/cwd/after.txt")
got_file "$T/cwd/after.txt" "$SMALL2"
pass "options after NAME, as in the synopsis (NAME -o FILE)"

stop_server
