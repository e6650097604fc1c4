# Crash at any instant: SIGKILL `emberd run` at random moments while it
# crawls, syncs and serves. A publisher P crawls an origin (small text
# items, one that changes all the time, three of 6-16 MB, two of them
# dripped slowly so transfers are in flight when the kill comes); a
# follower F syncs from P every second; readers download from both all
# along. P and F are killed in turn (sometimes both), 0.05-1.5 s after the
# previous restart. After each kill, before the restart: no partial object
# or catalog is visible, `current` is a whole catalog whose signature
# minisign verifies, `emberd verify` passes and tidies what the crash left,
# sequences never went backwards, F never holds a catalog P did not sign.
# At the end the interrupted work completes: P's first pass after its last
# restart lists every source with the origin's bytes, F converges to P's
# catalog byte for byte and serves every object, and whatever a reader
# got whole from /sha256/HEX hashed to HEX.
#
# CRASH_SEED=N replays the kill schedule (the seed is printed);
# CRASH_KILLS=N sets the number of kill rounds (default 20, the least
# allowed; a longer soak: CRASH_KILLS=200).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/crawl_lib.sh"
. "$(dirname "$0")/follow_lib.sh"
command -v minisign >/dev/null || fail "minisign is not installed"

SEED=${CRASH_SEED:-$(((RANDOM << 15) | RANDOM))}
# 20 kill rounds in every build: each one kills at a random moment of a
# crawl, a sync or a serve, and the same checks follow every one.
KILLS=${CRASH_KILLS:-20}
[ "$KILLS" -ge 20 ] || fail "CRASH_KILLS=$KILLS: at least 20 kills"
echo "seed: $SEED (replay with CRASH_SEED=$SEED), $KILLS kill rounds"
RANDOM=$SEED
t_start=$(date +%s)

# --- the origin's files ------------------------------------------------------
O="$T/origin"
mkdir -p "$O"
printf 'Statement of the April committee.\n%.0s' $(seq 1 40) >"$O/statement.txt"
{ echo '<!doctype html><title>notes</title>'; seq -f '<p>note %g</p>' 1 300; } >"$O/notes.html"
printf 'tiny\n' >"$O/tiny.txt"
head -c 12000000 /dev/urandom >"$O/big1.mp4"
{ seq 1 250000; head -c 5000000 /dev/urandom; } >"$O/big2.bin"	# text, then media
head -c 16000000 /dev/urandom >"$O/big3.mp4"
write_news() {	# atomically, so the origin never serves half a file
	{ echo "news edition $1"; seq -f "line %g of edition $1" 1 $((50 + $1 % 7)); } >"$O/.news.new"
	mv -f "$O/.news.new" "$O/news.txt"
}
write_news 0

start_origin --root "$O"
setup_publisher
# name -> source URL (big1 and big2 dripped: about 6 s and 3 s per transfer)
declare -A SRC=(
	[statement.txt]="/r/statement.txt" [notes.html]="/r/notes.html"
	[tiny.txt]="/r/tiny.txt" [news.txt]="/r/news.txt"
	[big1.mp4]="/r/big1.mp4?drip=2" [big2.bin]="/r/big2.bin?drip=1"
	[big3.mp4]="/r/big3.mp4")
P_LINES=("[crawl]" "interval = 2s" "timeout = 60s" "per_host = 8")
for n in "${!SRC[@]}"; do
	P_LINES+=("[source ${n%%.*}]" "url = $ORIGIN${SRC[$n]}" "name = $n")
done
# The publisher serves with one event loop per CPU (workers = auto).
HTTPS_EXTRA="workers = auto"
HTTP_EXTRA="workers = auto"
server_config "${P_LINES[@]}"
follower_config F "[follow]" "pubkey = $PUBKEY" "peer = $HTTP_URL/" "interval = 1s"
FSTORE=$(fstore F)

# --- P and F ---------------------------------------------------------------
p_start() {
	: >>"$SERVER_LOG"
	"$EMBERD" run -c "$CONF" </dev/null >>"$T/server.out" 2>>"$SERVER_LOG" &
	SERVER_PID=$!
	wait_healthy
}
p_kill() {
	kill -9 "$SERVER_PID" 2>/dev/null || server_fail "P died before its kill"
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}
f_kill() {
	kill -9 "${FPID[F]}" 2>/dev/null || { tail -n 40 "$T/F/run.log"; fail "F died before its kill"; }
	wait "${FPID[F]}" 2>/dev/null || true
	FPID[F]=
}
# The sequence `current` names ("0": none yet).
cur_seq() {
	local l
	l=$(readlink "$1/current" 2>/dev/null) || { echo 0; return; }
	echo "${l#catalogs/}"
}

# --- background work: the origin changes, readers download -------------------
mutator() {
	set +e
	local e=0
	while [ ! -e "$T/mutator.stop" ]; do
		e=$((e + 1))
		write_news "$e"
		echo "$e" >"$T/news.edition"
		sleep 0.$((3 + RANDOM % 7))
	done
}
mutator &
MUT_PID=$!
bg "$MUT_PID"

# Alternately from P and F: the catalog, then one object it lists by hash
# (every third with gzip). A transfer that ends whole must hash to the id;
# transfers cut by a kill, and 404s on F, are expected.
reader() {
	set +e
	local n=0 url hexes arr hex got comp
	while [ ! -e "$T/readers.stop" ]; do
		n=$((n + 1))
		if [ $((n % 2)) = 0 ]; then url=$HTTP_URL; else url=$(furl F); fi
		hexes=$(curl -s --max-time 3 "$url/catalog.json" 2>/dev/null |
			grep -oE '"sha256": ?"[0-9a-f]{64}"' | grep -oE '[0-9a-f]{64}')
		if [ -z "$hexes" ]; then sleep 0.05; continue; fi
		mapfile -t arr <<<"$hexes"
		hex=${arr[RANDOM % ${#arr[@]}]}
		comp=--no-compressed
		[ $((n % 3)) = 0 ] && comp=--compressed
		if curl -s --fail --max-time 20 "$comp" -o "$T/reader.bin" "$url/sha256/$hex" 2>/dev/null; then
			got=$(sha256sum <"$T/reader.bin" | cut -d' ' -f1)
			if [ "$got" = "$hex" ]; then
				echo "$url $hex" >>"$T/readers.ok"
			else
				echo "$url/sha256/$hex ($comp) hashes to $got" >>"$T/readers.bad"
			fi
		fi
	done
}
: >"$T/readers.ok"
: >"$T/readers.bad"

# --- what a kill may leave, and what must hold ------------------------------
declare -A MAXSEQ=([P]=0 [F]=0)
check_seq() {	# NAME STORE WHEN: `current` never goes backwards
	local s
	s=$(cur_seq "$2")
	[ "$s" -ge "${MAXSEQ[$1]}" ] || fail "$1 $3: catalog sequence went back from ${MAXSEQ[$1]} to $s"
	MAXSEQ[$1]=$s
}

# after_kill NAME STORE CONF: the store as the kill left it, then after
# `emberd verify` (which opens the store, as the next start would).
after_kill() {
	local name=$1 st=$2 conf=$3 f b seq left extra
	# Objects: named by a 64-hex id and whole (the trailer), or an
	# unnamed temp's locked name (.tmp-*), which verify must remove.
	python3 - "$st/objects" >"$T/objcheck" <<'PY' || { cat "$T/objcheck"; fail "$name: a partial object is visible after a kill"; }
import os, re, sys
d, bad = sys.argv[1], []
for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
    if f.startswith(".tmp-"):
        continue
    if not re.fullmatch("[0-9a-f]{64}", f):
        bad.append("unexpected file objects/" + f)
        continue
    with open(os.path.join(d, f), "rb") as h:
        size = h.seek(0, 2)
        h.seek(max(size - 8, 0))
        tail = h.read()
    if tail != b"EMBERDM1":
        bad.append("object %s visible without its metadata" % f)
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
	# The published catalog: whole, signed, its own sequence.
	seq=$(cur_seq "$st")
	if [ "$seq" != 0 ]; then
		[ -f "$st/current/catalog.json" ] && [ -f "$st/current/catalog.json.minisig" ] ||
			fail "$name: current -> catalogs/$seq lacks a file after a kill"
		minisign -Vm "$st/current/catalog.json" -x "$st/current/catalog.json.minisig" \
			-P "$PUBKEY" >/dev/null 2>"$T/minisign.err" ||
			{ cat "$T/minisign.err"; fail "$name: the signature of catalog $seq does not verify after a kill"; }
		grep -qE '^\{.*"sequence": ?'"$seq"',' "$st/current/catalog.json" ||
			fail "$name: catalogs/$seq does not hold sequence $seq"
	fi
	check_seq "$name" "$st" "after a kill"
	# Unpublished catalog folders (newer than current) and temp files may
	# be left; the next start of any command on the store removes them.
	left=
	while IFS= read -r f; do
		case $f in
		"$st"/catalogs/*)
			b=${f#"$st"/catalogs/}
			if [[ $b =~ ^[0-9]+$ ]] && [ "$b" -gt "$seq" ]; then left+="$f"$'\n'
			elif [[ $b == .tmp-* ]]; then left+="$f"$'\n'; fi ;;
		"$st"/crawl/*) ;;	# swept when the next crawl starts
		*/.tmp-*) left+="$f"$'\n' ;;
		esac
	done < <(find "$st" -maxdepth 3 \( -path "$st/catalogs/*" -prune -o -name '.tmp-*' \) -print)
	left=${left%$'\n'}
	[ -z "$left" ] || { LEFTOVERS=$((LEFTOVERS + $(wc -l <<<"$left"))); echo "  left by the kill: ${left//$'\n'/ }"; }
	expect_exit 0 "$EMBERD" verify -c "$conf"
	[ "$seq" = 0 ] || assert_grep 'catalog signature ok' "$T/out"
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		[ ! -e "$f" ] || fail "$name: $f, left by the kill, is still there after emberd verify"
	done <<<"$left"
	extra=$(find "$st" -path "$st/crawl" -prune -o -name '.tmp-*' -print | head -n 5)
	[ -z "$extra" ] || fail "$name: temp files after emberd verify: $extra"
	[ "$(cur_seq "$st")" = "$seq" ] || fail "$name: emberd verify moved current"
}
LEFTOVERS=0

# F holds only what P signed: its catalog is P's (byte for byte while P
# still keeps that sequence) and never newer than P's.
check_f_vs_p() {
	local fs ps rc
	fs=$(cur_seq "$FSTORE")
	ps=$(cur_seq "$STORE")
	[ "$fs" -le "$ps" ] || fail "F holds catalog $fs, newer than P's $ps"
	[ "$fs" != 0 ] || return 0
	# Either may prune that folder meanwhile (cmp: 2); only 1 is a difference.
	rc=0
	cmp -s "$FSTORE/catalogs/$fs/catalog.json" "$STORE/catalogs/$fs/catalog.json" || rc=$?
	[ "$rc" != 1 ] || fail "F's catalog $fs differs from P's"
	rc=0
	cmp -s "$FSTORE/catalogs/$fs/catalog.json.minisig" "$STORE/catalogs/$fs/catalog.json.minisig" || rc=$?
	[ "$rc" != 1 ] || fail "F's signature of catalog $fs differs from P's"
	return 0
}

# --- run -----------------------------------------------------------------------
p_start
follower_start F
reader &
READER_PID=$!
bg "$READER_PID"

ms() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }
declare -A KILLED=([P]=0 [F]=0 [both]=0)
for k in $(seq 1 "$KILLS"); do
	if [ "$k" = "$KILLS" ] || [ $((RANDOM % 5)) = 0 ]; then
		who=both
	elif [ $((k % 2)) = 1 ]; then
		who=P
	else
		who=F
	fi
	delay=$((50 + RANDOM % 1451))
	if [ "$k" = "$KILLS" ]; then
		# The last round: the origin stops changing, so the interrupted
		# work can be checked against its final files.
		touch "$T/mutator.stop"
		for i in $(seq 1 100); do kill -0 "$MUT_PID" 2>/dev/null || break; sleep 0.05; done
		kill -0 "$MUT_PID" 2>/dev/null && fail "the origin's mutator did not stop"
		wait "$MUT_PID" || fail "the origin's mutator failed"
	fi
	sleep "$(ms "$delay")"
	case $who in
	P) p_kill ;;
	F) f_kill ;;
	both) p_kill; f_kill ;;
	esac
	KILLED[$who]=$((KILLED[$who] + 1))
	if [ "$who" != F ]; then after_kill P "$STORE" "$CONF"; fi
	if [ "$who" != P ]; then after_kill F "$FSTORE" "$(fconf F)"; fi
	check_f_vs_p
	printf 'kill %2d: %-4s after %s s: P at sequence %s, F at %s\n' "$k" "$who" "$(ms "$delay")" \
		"$(cur_seq "$STORE")" "$(cur_seq "$FSTORE")"
	if [ "$who" != F ]; then
		p_passes=$(grep -c 'crawl: pass done' "$SERVER_LOG" || true)
		p_start
		check_seq P "$STORE" "after a restart"
	fi
	if [ "$who" != P ]; then
		follower_start F
		check_seq F "$FSTORE" "after a restart"
	fi
	check_f_vs_p
done
[ -z "$(cat "$T/readers.bad")" ] || { cat "$T/readers.bad"; fail "a reader got bytes that do not hash to their id"; }
pass "$KILLS kill rounds (P ${KILLED[P]}, F ${KILLED[F]}, both ${KILLED[both]}): after each the store verifies, the catalog signature verifies, nothing partial is visible ($LEFTOVERS leftovers tidied by the next start), sequences never go back (P ${MAXSEQ[P]}, F ${MAXSEQ[F]})"

# --- the interrupted work completes ----------------------------------------------
# Expected: the origin's final files.
: >"$T/expected"
for n in "${!SRC[@]}"; do
	echo "$(sha256_of "$O/$n") $(stat -c %s "$O/$n") $n" >>"$T/expected"
done
sort -k3 -o "$T/expected" "$T/expected"
# P's first pass after its last restart fetches everything that is left.
for i in $(seq 1 1200); do
	[ "$(grep -c 'crawl: pass done' "$SERVER_LOG" || true)" -gt "$p_passes" ] && break
	server_alive
	sleep 0.05
done
[ "$(grep -c 'crawl: pass done' "$SERVER_LOG" || true)" -gt "$p_passes" ] ||
	server_fail "P's first crawl pass after the last restart did not end within 60 s"
items_of "$STORE/current/catalog.json" | sort -k3 >"$T/got"
diff "$T/expected" "$T/got" >"$T/diff" ||
	{ cat "$T/diff"; server_fail "P's catalog after its first pass since the last restart is not the origin's files"; }
minisign -Vm "$STORE/current/catalog.json" -x "$STORE/current/catalog.json.minisig" -P "$PUBKEY" >/dev/null ||
	fail "P's final catalog does not verify"
n206=$(origin_q "len([e for e in L if e['status'] == 206 and e['path'].split('?')[0] in ('/r/big1.mp4', '/r/big2.bin', '/r/big3.mp4')])")
pass "P's first pass after the last restart completes the work: all ${#SRC[@]} sources with the origin's sha256 (news edition $(cat "$T/news.edition")), signed (sequence $(cur_seq "$STORE")); $n206 transfers resumed with Range across kills"

# F converges to P's catalog byte for byte, and serves it and every object.
for i in $(seq 1 600); do
	cmp -s "$FSTORE/current/catalog.json" "$STORE/current/catalog.json" 2>/dev/null && break
	follower_alive F
	sleep 0.05
done
same_catalog "$FSTORE/current"
mkdir -p "$T/fserved"
curl_http -o "$T/fserved/catalog.json" "$(furl F)/catalog.json" || fail "F does not serve its catalog"
curl_http -o "$T/fserved/catalog.json.minisig" "$(furl F)/catalog.json.minisig" || fail "F does not serve its signature"
same_catalog "$T/fserved"
minisign -Vm "$T/fserved/catalog.json" -P "$PUBKEY" >/dev/null ||
	fail "the catalog F serves does not verify"
check_served "$(furl F)" "$STORE/current/catalog.json"
check_served "$HTTP_URL" "$STORE/current/catalog.json"
pass "F converges to P's catalog byte for byte (sequence $(cur_seq "$FSTORE")); both serve every object with the right bytes"

# Readers: nothing wrong was ever delivered whole, and they did read.
touch "$T/readers.stop"
for i in $(seq 1 600); do kill -0 "$READER_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$READER_PID" 2>/dev/null && fail "the readers did not stop within 30 s"
wait "$READER_PID" || true
[ -z "$(cat "$T/readers.bad")" ] || { cat "$T/readers.bad"; fail "a reader got bytes that do not hash to their id"; }
np=$(grep -c "^$HTTP_URL " "$T/readers.ok" || true)
nf=$(grep -c "^$(furl F) " "$T/readers.ok" || true)
[ "$np" -ge 5 ] && [ "$nf" -ge 5 ] || fail "too few whole reader downloads to mean anything (P $np, F $nf)"
pass "readers: $np whole downloads from P and $nf from F, each hashed to its id"

# The logs: every publish and every install a step up, across all restarts.
grep -oE 'crawl: published catalog sequence [0-9]+' "$SERVER_LOG" | grep -oE '[0-9]+$' >"$T/p-seqs"
grep -oE 'sync: installed catalog sequence [0-9]+' "$T/F/run.log" | grep -oE '[0-9]+$' >"$T/f-seqs"
sort -n -u -c "$T/p-seqs" 2>/dev/null || { tr '\n' ' ' <"$T/p-seqs"; fail "P published a sequence twice or out of order"; }
sort -n -u -c "$T/f-seqs" 2>/dev/null || { tr '\n' ' ' <"$T/f-seqs"; fail "F installed an older or the same sequence again"; }
[ "$(wc -l <"$T/p-seqs")" -ge 3 ] || fail "P published only $(wc -l <"$T/p-seqs") catalogs during the run"
[ "$(wc -l <"$T/f-seqs")" -ge 3 ] || fail "F installed only $(wc -l <"$T/f-seqs") catalogs during the run"
pass "P published $(wc -l <"$T/p-seqs") catalogs and F installed $(wc -l <"$T/f-seqs"), each sequence higher than the last"

# Nothing left over once both are idle; then a clean stop, and verify.
for i in $(seq 1 200); do
	left=$(find "$STORE" "$FSTORE" \( -name '.tmp-*' -o -name '.trash-*' -o -name '*.part' -o -name '*.part.new' \) | head -n 5)
	[ -z "$left" ] && break
	sleep 0.05
done
[ -z "$left" ] || fail "leftovers 10 s after the work completed: $left"
stop_server
follower_stop F
if grep -E 'Sanitizer|runtime error' "$SERVER_LOG" "$T/F/run.log"; then fail "a sanitizer report (above)"; fi
expect_exit 0 "$EMBERD" verify -c "$CONF"
check_objects F
pass "no leftovers; both stop cleanly and verify (wall time $(($(date +%s) - t_start)) s)"
