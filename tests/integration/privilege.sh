# Least privilege, as root (the test must run as root): `[mirror] user`
# and `allow_root`, and the systemd unit.
#
#   - As root without `user` and without `allow_root = yes`, every command
#     (keygen, ls, add, crawl, verify, gc, run) refuses: exit 2, one line
#     naming `[mirror] user` and `allow_root`, nothing created. A user that
#     does not exist, or root itself, is refused the same way, named.
#   - With `user`, the one-shot commands drop to it at once: a folder only
#     root may write, an input file, or a store lock only root may open is
#     refused; every file they make (key, store, objects, catalogs,
#     quarantine) is the user's.
#   - `emberd run` binds a privileged port as root, then runs as the user:
#     /proc/PID/status Uid and Gid (real, effective, saved, fs) are the
#     user's, Groups only the user's groups, no capabilities; the store it
#     creates, STORE/tls/ and the objects its crawl fetches are the user's.
#   - The secret key must belong to the running user and be 0600: otherwise
#     `add` and `run` (which reads it at start) refuse with exit 2 naming it.
#   - `allow_root = yes` without `user`: run stays root (Uid 0).
#   - config/emberd.service passes `systemd-analyze verify` silently (and a
#     broken copy does not), and confines the service: User=emberd from the
#     start (never root), CAP_NET_BIND_SERVICE its only capability,
#     ProtectSystem=strict, NoNewPrivileges=yes, ReadWritePaths= the
#     store's folder only, SystemCallFilter=@system-service; and
#     `systemd-analyze security --offline=true` rates its exposure at most
#     2.0 (a copy without the sandbox is rated above it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/crawl_lib.sh"
needs_root "it is about dropping root, and adds a user"
command -v systemd-analyze >/dev/null || fail "systemd-analyze is not installed"

# A user (and its group) of this run's own, never one that was there
# before: it is deleted at exit, after the chain of EXIT traps above has
# killed every process that could still run as it, so the host is left as
# it was found.
RUSER=
for i in $(seq 1 20); do
	u="emberd-t$$-$i"
	if ! id -u "$u" >/dev/null 2>&1 && ! getent group "$u" >/dev/null; then RUSER=$u; break; fi
done
[ -n "$RUSER" ] || fail "no free name for a test user"
eval "set -- $(trap -p EXIT)"
PRIV_PREV_EXIT=${3:-}
set --
PRIV_USER_MADE=0
priv_cleanup() {
	eval "$PRIV_PREV_EXIT"
	if [ "$PRIV_USER_MADE" = 1 ]; then
		userdel "$RUSER" 2>/dev/null || echo "warning: cannot delete user $RUSER" >&2
		if getent group "$RUSER" >/dev/null; then
			groupdel "$RUSER" 2>/dev/null || echo "warning: cannot delete group $RUSER" >&2
		fi
	fi
}
trap priv_cleanup EXIT
useradd --system --no-create-home --user-group --shell /usr/sbin/nologin "$RUSER" ||
	fail "cannot create user $RUSER"
PRIV_USER_MADE=1
RUID=$(id -u "$RUSER")
RGID=$(id -g "$RUSER")
RGROUPS=$(id -G "$RUSER" | tr ' ' '\n' | sort -n | tr '\n' ' ')
RGROUPS=${RGROUPS% }
[ "$RUID" != 0 ] || fail "$RUSER has uid 0"

# $T is 0700 root: the user must be able to reach its folder.
chmod 0755 "$T"
SRV="$T/srv"	# the mirror's folder: store and key
STORE="$SRV/store"
KEY="$SRV/publisher.key"
mkdir "$SRV" "$T/etc" "$T/in"
printf 'Voice of April, verse %d\n' $(seq 1 2000) >"$T/in/song.txt"
head -c 70000 /dev/urandom >"$T/in/clip.mp4"
printf 'only root may read this\n' >"$T/in/secret.txt"
chmod 0644 "$T/in/song.txt" "$T/in/clip.mp4"
chmod 0600 "$T/in/secret.txt"
start_origin
src="/f/remote.bin?size=60000&seed=priv"
origin_info "$src"
SRC_SHA=$INFO_SHA

# A free privileged port on 127.0.0.1 (we are root: probing binds it).
PRIV_PORT=$(python3 -c 'import random, socket
for p in random.sample(range(600, 1024), 424):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break')
[ -n "$PRIV_PORT" ] || fail "no free port below 1024"
HTTPS_PORT=$PRIV_PORT
HTTPS_URL="https://127.0.0.1:$HTTPS_PORT"

# pconf FILE [LINE...]: listeners, a source, then [mirror] with store and
# key and each LINE.
pconf() {
	local f=$1 l
	shift
	{
		echo "[https]"
		echo "listen = 127.0.0.1:$HTTPS_PORT"
		echo "workers = 3"	# the drop covers the worker threads too
		echo "[http]"
		echo "listen = 127.0.0.1:$HTTP_PORT"
		echo "workers = auto"
		echo "[source remote]"
		echo "url = $ORIGIN$src"
		echo "[mirror]"
		echo "name  = Privilege test"
		echo "store = $STORE"
		echo "key   = $KEY"
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$f"
}

# not_users DIR: print what under DIR is not owned by the user and group.
not_users() { find "$1" \( ! -user "$RUID" -o ! -group "$RGID" \) -printf '%u:%g %m %p\n'; }
assert_users() {	# assert_users DIR WHAT
	local left
	left=$(not_users "$1")
	[ -z "$left" ] || fail "$2: files not owned by $RUSER:"$'\n'"$left"
}

# status_field PID NAME: the fields of a /proc/PID/status line.
status_field() { awk -v n="$2:" '$1 == n { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }

# one_cmd CMD CONF: print the exit status of `emberd CMD -c CONF` (add: of
# one readable file), bounded; its stdout/stderr in $T/out.CMD, $T/err.CMD.
ALL_CMDS="keygen ls add crawl verify gc run"
one_cmd() {
	local rc=0
	case $1 in
	add) timeout 30 "$EMBERD" add -c "$2" "$T/in/song.txt" ;;
	*) timeout 30 "$EMBERD" "$1" -c "$2" ;;
	esac </dev/null >"$T/out.$1" 2>"$T/err.$1" || rc=$?
	echo "$rc"
}

# --- 1. root without `user` and without allow_root: all refuse.
pconf "$T/etc/nouser.conf"
for c in $ALL_CMDS; do
	rc=$(one_cmd "$c" "$T/etc/nouser.conf")
	[ "$rc" = 2 ] || { cat "$T/err.$c"; fail "emberd $c as root without user: exit $rc, want 2"; }
	[ "$(wc -l <"$T/err.$c")" = 1 ] || { cat "$T/err.$c"; fail "emberd $c: not one line"; }
	assert_grep '\[mirror\] user' "$T/err.$c"
	assert_grep 'allow_root' "$T/err.$c"
	assert_grep "$T/etc/nouser.conf" "$T/err.$c"
done
[ ! -e "$KEY" ] && [ ! -e "$STORE" ] || fail "a refused command created the key or the store"
[ -z "$(find "$SRV" -mindepth 1)" ] || fail "a refused command left files in $SRV"
pass "as root without user or allow_root: $ALL_CMDS all exit 2 naming [mirror] user and allow_root; nothing made"

# --- 2. a user that does not exist, and root, are refused by name.
GHOST="emberd-ghost-$$"
! id -u "$GHOST" >/dev/null 2>&1 || fail "user $GHOST exists"
pconf "$T/etc/ghost.conf" "user = $GHOST"
for c in $ALL_CMDS; do
	rc=$(one_cmd "$c" "$T/etc/ghost.conf")
	[ "$rc" = 2 ] || { cat "$T/err.$c"; fail "emberd $c with user = $GHOST: exit $rc, want 2"; }
	assert_grep "\[mirror\] user $GHOST: no such user" "$T/err.$c"
done
pconf "$T/etc/rootuser.conf" "user = root"
for c in keygen add run; do
	rc=$(one_cmd "$c" "$T/etc/rootuser.conf")
	[ "$rc" = 2 ] || { cat "$T/err.$c"; fail "emberd $c with user = root: exit $rc, want 2"; }
	assert_grep '\[mirror\] user root is root' "$T/err.$c"
done
[ -z "$(find "$SRV" -mindepth 1)" ] || fail "a refused command left files in $SRV"
pass "user = $GHOST (no such user) and user = root (without allow_root): exit 2, named"

# --- 3. with user, commands drop at once: what only root may write or
# read is refused. The folder is still root's here.
pconf "$CONF" "user = $RUSER"
expect_exit 2 "$EMBERD" keygen -c "$CONF"
assert_grep "cannot create key '$KEY': Permission denied" "$T/err"
expect_exit 2 "$EMBERD" add -c "$CONF" "$T/in/song.txt"
assert_grep "store '$STORE': cannot create: Permission denied" "$T/err"
expect_exit 2 timeout 30 "$EMBERD" run -c "$CONF"
assert_grep "store '$STORE': cannot create: Permission denied" "$T/err"
[ -z "$(find "$SRV" -mindepth 1)" ] || fail "files made in root's folder $SRV"
pass "with user, a folder only root may write is refused (keygen, add, run): they do not act as root"

# --- 4. the folder is the user's: keygen makes the user's key.
chown "$RUSER:" "$SRV"
expect_exit 0 "$EMBERD" keygen -c "$CONF"
[ "$(stat -c '%u:%g %a' "$KEY")" = "$RUID:$RGID 600" ] ||
	fail "keygen made $(stat -c '%U:%G %a' "$KEY"), want $RUSER:$RUSER 600"
pass "keygen as root with user: the key is $RUSER's, 0600"

# --- 5. emberd run as root: binds privileged port $PRIV_PORT, then runs as
# the user; it makes the store, tls/ and (crawling at start) an object.
[ ! -e "$STORE" ] || fail "the store exists before the first run"
"$EMBERD" run -c "$CONF" </dev/null >>"$T/server.out" 2>>"$SERVER_LOG" &
SERVER_PID=$!
wait_healthy
wait_for_file_line "$SERVER_LOG" "running as user $RUSER \(uid $RUID\)" 5 ||
	server_fail "no 'running as user' line"
uid=$(status_field "$SERVER_PID" Uid)
gid=$(status_field "$SERVER_PID" Gid)
groups=$(status_field "$SERVER_PID" Groups | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ')
groups=${groups% }
[ "$uid" = "$RUID $RUID $RUID $RUID" ] ||
	server_fail "Uid: $uid, want $RUID (real, effective, saved, fs)"
[ "$gid" = "$RGID $RGID $RGID $RGID" ] ||
	server_fail "Gid: $gid, want $RGID (real, effective, saved, fs)"
[ "$groups" = "$RGROUPS" ] || server_fail "Groups: '$groups', want '$RGROUPS' ($RUSER's only)"
for cap in CapPrm CapEff CapAmb; do
	[ "$(status_field "$SERVER_PID" $cap)" = 0000000000000000 ] ||
		server_fail "$cap is $(status_field "$SERVER_PID" $cap), want none"
done
# workers = 3: every thread (the event loops, the work queue's) is the
# user's, with no capabilities; the three loops each serve a port bound
# as root.
wait_for_file_line "$SERVER_LOG" "serving on 3 event loops" 5 || server_fail "not 3 event loops"
tasks=0
for t in /proc/"$SERVER_PID"/task/*; do
	tid=${t##*/}
	[ "$(status_field "$SERVER_PID/task/$tid" Uid)" = "$RUID $RUID $RUID $RUID" ] &&
		[ "$(status_field "$SERVER_PID/task/$tid" Gid)" = "$RGID $RGID $RGID $RGID" ] &&
		[ "$(status_field "$SERVER_PID/task/$tid" CapEff)" = 0000000000000000 ] ||
		server_fail "thread $tid: Uid $(status_field "$SERVER_PID/task/$tid" Uid), CapEff $(status_field "$SERVER_PID/task/$tid" CapEff)"
	tasks=$((tasks + 1))
done
[ "$tasks" -ge 3 ] || server_fail "$tasks threads with workers = 3"
python3 - "$PRIV_PORT" "$STORE/tls/cert.pem" >"$T/spread" <<'PY' || server_fail "fresh connections to the privileged port failed"
import http.client, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.check_hostname = False
for i in range(30):
    c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=ctx, timeout=10)
    c.request("GET", "/healthz")
    assert c.getresponse().read() == b"ok\n"
    c.close()
PY
busy=$(curl -s --max-time 5 "$HTTP_URL/metrics" | awk '$1 ~ /^emberd_worker_requests_total/ && $2 > 0' | wc -l)
[ "$busy" -ge 2 ] || server_fail "30 fresh connections were answered by $busy event loop(s)"
[ "$(curl_https "$HTTPS_URL/healthz")" = ok ] || server_fail "no TLS answer on privileged port $PRIV_PORT"
pass "run binds 127.0.0.1:$PRIV_PORT, then Uid $RUID x4, Gid $RGID x4, Groups '$RGROUPS', no capabilities; all $tasks threads too (workers = 3: $busy loops answered)"

# The crawl at start fetches the source, as the user.
for i in $(seq 1 200); do
	[ -e "$STORE/objects/$SRC_SHA" ] && grep -q '"remote.bin"' "$STORE/current/catalog.json" 2>/dev/null && break
	server_alive
	sleep 0.05
done
[ -e "$STORE/objects/$SRC_SHA" ] || server_fail "run's crawl did not store remote.bin within 10 s"
[ -s "$STORE/tls/cert.pem" ] && [ -s "$STORE/tls/key.pem" ] || server_fail "no STORE/tls/ certificate"
assert_users "$STORE" "after run (store, tls/, crawl)"
[ "$(stat -c %a "$STORE/tls/key.pem")" = 600 ] || fail "STORE/tls/key.pem is not 0600"
# A reader gets the crawled object over HTTPS.
curl_https -o "$T/remote.bin" "$HTTPS_URL/files/remote.bin" || server_fail "GET /files/remote.bin"
[ "$(sha256_of "$T/remote.bin")" = "$SRC_SHA" ] || server_fail "remote.bin served wrong"
pass "run made the store, tls/ (key 0600) and the crawled object as $RUSER; serves them"

# --- 6. add as root while running: drops at once (a root-only input is
# refused), what it makes is the user's, and the server serves it.
rc=0
"$EMBERD" add -c "$CONF" "$T/in/secret.txt" >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" != 0 ] || fail "add read a file only root may read: it did not drop to $RUSER"
assert_grep "$T/in/secret.txt: Permission denied" "$T/err"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/song.txt" "$T/in/clip.mp4"
assert_users "$STORE" "after add"
for i in $(seq 1 100); do
	[ "$(status_of "$HTTPS_URL/files/clip.mp4")" = 200 ] && break
	sleep 0.05
done
curl_https -o "$T/clip.mp4" "$HTTPS_URL/files/clip.mp4" || server_fail "GET /files/clip.mp4"
cmp -s "$T/clip.mp4" "$T/in/clip.mp4" || server_fail "clip.mp4 served wrong"
server_alive
stop_server
assert_users "$STORE" "after run stopped"
assert_users "$SRV" "the mirror folder"
pass "add as root with user: a root-only input refused, objects and catalog are $RUSER's, served at once"

# --- 7. crawl, verify, gc as root: the user's files, and a store lock only
# root may open stops each (so none of them touched the store as root).
# crawl: a changed source is fetched again.
src="/f/remote.bin?size=61000&seed=priv2"
origin_info "$src"
SRC2_SHA=$INFO_SHA
pconf "$CONF" "user = $RUSER"
expect_exit 0 "$EMBERD" crawl -c "$CONF"
[ -e "$STORE/objects/$SRC2_SHA" ] || fail "crawl did not store the new remote.bin"
assert_users "$STORE" "after crawl"
# verify: a corrupted object goes to quarantine/, as the user's.
song_sha=$(sha256_of "$T/in/song.txt")
obj="$STORE/objects/$song_sha"
[ -e "$obj" ] || fail "no object for song.txt"
printf 'X' | dd of="$obj" bs=1 seek=10 conv=notrunc status=none
expect_exit 1 "$EMBERD" verify -c "$CONF"
[ ! -e "$obj" ] || fail "verify left the corrupt object"
[ -n "$(find "$STORE/quarantine" -type f)" ] || fail "verify quarantined nothing"
assert_users "$STORE" "after verify"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/song.txt"
expect_exit 0 "$EMBERD" verify -c "$CONF"
expect_exit 0 "$EMBERD" gc -c "$CONF"
assert_users "$STORE" "after gc"
assert_users "$SRV" "the mirror folder"
# (A new source version, so that crawl has something to commit.)
src="/f/remote.bin?size=62000&seed=priv3"
pconf "$CONF" "user = $RUSER"
chown root:root "$STORE/lock"
chmod 0600 "$STORE/lock"
for c in add crawl verify gc; do
	rc=$(one_cmd "$c" "$CONF")
	[ "$rc" != 0 ] || { cat "$T/err.$c"; fail "emberd $c opened a lock only root may open"; }
	assert_grep "store '$STORE': lock" "$T/err.$c"
done
chown "$RUSER:" "$STORE/lock"
chmod 0644 "$STORE/lock"
pass "crawl, verify (quarantine), gc as root: files are $RUSER's; a root-only lock stops add, crawl, verify and gc"

# --- 8. the secret key must be the running user's, and 0600.
key_refused() {	# key_refused REGEX: add and run refuse with exit 2
	expect_exit 2 "$EMBERD" add -c "$CONF" --name key-test.mp4 "$T/in/clip.mp4"
	assert_grep "$1" "$T/err"
	expect_exit 2 timeout 30 "$EMBERD" run -c "$CONF"
	assert_grep "$1" "$T/err"
}
seq_before=$(catalog_seq)
chown root:root "$KEY"
key_refused "cannot open key '$KEY': Permission denied"
chown "root:$RGID" "$KEY"
chmod 0640 "$KEY"
key_refused "key '$KEY' is owned by uid 0, not by the running user \(uid $RUID\)"
chown "$RUSER:" "$KEY"
chmod 0640 "$KEY"
key_refused "key '$KEY' is readable by others \(mode 0640\)"
chmod 0604 "$KEY"
key_refused "key '$KEY' is readable by others \(mode 0604\)"
chmod 0620 "$KEY"
key_refused "key '$KEY' is writable by others \(mode 0620\)"
chmod 0600 "$KEY"
[ "$(catalog_seq)" = "$seq_before" ] || fail "a refused key still signed a catalog"
expect_exit 0 "$EMBERD" add -c "$CONF" --name clip-again.mp4 "$T/in/clip.mp4"
[ "$(catalog_seq)" = $((seq_before + 1)) ] || fail "the restored key did not sign"
pass "a key not $RUSER's, or group/other readable or writable: add and run exit 2 naming it"

# --- 9. allow_root = yes without user: run stays root.
ROOTSTORE="$T/rootstore"
cat >"$T/etc/root.conf" <<CONF
[http]
listen = 127.0.0.1:$HTTP_PORT
[mirror]
store = $ROOTSTORE
key   = $T/root.key
allow_root = yes
CONF
expect_exit 0 "$EMBERD" keygen -c "$T/etc/root.conf"
[ "$(stat -c %u "$T/root.key")" = 0 ] || fail "keygen with allow_root: key not root's"
: >"$SERVER_LOG"
"$EMBERD" run -c "$T/etc/root.conf" </dev/null >>"$T/server.out" 2>>"$SERVER_LOG" &
SERVER_PID=$!
wait_healthy
[ "$(status_field "$SERVER_PID" Uid)" = "0 0 0 0" ] ||
	server_fail "allow_root: Uid $(status_field "$SERVER_PID" Uid), want 0"
! grep -q 'running as user' "$SERVER_LOG" || server_fail "allow_root: says it runs as a user"
stop_server
pass "allow_root = yes without user: run keeps Uid 0"

# --- 10. the systemd unit.
UNIT_SRC="${SOURCE_ROOT:-$(dirname "$0")/../..}/config/emberd.service"
[ -f "$UNIT_SRC" ] || fail "no $UNIT_SRC"
mkdir "$T/unit" "$T/unit-bad1" "$T/unit-bad2"
grep -q '^ExecStart=/usr/local/bin/emberd run ' "$UNIT_SRC" || fail "the unit's ExecStart is not /usr/local/bin/emberd run"
sed "s#^ExecStart=/usr/local/bin/emberd #ExecStart=$EMBERD #" "$UNIT_SRC" >"$T/unit/emberd.service"
grep -q "^ExecStart=$EMBERD run " "$T/unit/emberd.service" || fail "could not point ExecStart at $EMBERD"
analyze() {	# analyze UNIT: exit status, output in $T/analyze.out
	local rc=0
	timeout 60 systemd-analyze verify "$1" >"$T/analyze.out" 2>&1 || rc=$?
	echo "$rc"
}
rc=$(analyze "$T/unit/emberd.service")
[ "$rc" = 0 ] && [ ! -s "$T/analyze.out" ] ||
	{ cat "$T/analyze.out"; fail "systemd-analyze verify: exit $rc, or it complained (above)"; }
# A misspelt key, and a missing binary, are complained about.
sed 's/^ProtectSystem=strict$/ProtectSystm=strict/' "$T/unit/emberd.service" >"$T/unit-bad1/emberd.service"
rc=$(analyze "$T/unit-bad1/emberd.service")
assert_grep "Unknown key.*ProtectSystm" "$T/analyze.out"
sed "s#^ExecStart=$EMBERD #ExecStart=$T/no-such/emberd #" "$T/unit/emberd.service" >"$T/unit-bad2/emberd.service"
rc=$(analyze "$T/unit-bad2/emberd.service")
[ "$rc" != 0 ] || fail "systemd-analyze verify passed a unit whose binary does not exist"
assert_grep "no-such/emberd.*not executable" "$T/analyze.out"
# The confinement.
unit_values() { sed -n "s/^$1=//p" "$UNIT_SRC"; }
[ "$(unit_values ProtectSystem)" = strict ] || fail "ProtectSystem is '$(unit_values ProtectSystem)', want strict"
[ "$(unit_values NoNewPrivileges)" = yes ] || fail "NoNewPrivileges is '$(unit_values NoNewPrivileges)', want yes"
[ "$(unit_values ReadWritePaths)" = /var/lib/emberd ] ||
	fail "ReadWritePaths is '$(unit_values ReadWritePaths | tr '\n' ' ')', want /var/lib/emberd only"
! grep -qE '^(BindPaths|ReadWriteDirectories|StateDirectory|LogsDirectory|CacheDirectory|RuntimeDirectory|ConfigurationDirectory)=' "$UNIT_SRC" ||
	fail "the unit opens other writable paths: $(grep -E '^(BindPaths|ReadWriteDirectories|StateDirectory|LogsDirectory|CacheDirectory|RuntimeDirectory|ConfigurationDirectory)=' "$UNIT_SRC")"
[ "$(unit_values User)" = emberd ] && [ "$(unit_values Group)" = emberd ] ||
	fail "the unit does not run as User=emberd, Group=emberd"
[ "$(unit_values CapabilityBoundingSet)" = CAP_NET_BIND_SERVICE ] &&
	[ "$(unit_values AmbientCapabilities)" = CAP_NET_BIND_SERVICE ] ||
	fail "capabilities: bounding '$(unit_values CapabilityBoundingSet)', ambient '$(unit_values AmbientCapabilities)'; want CAP_NET_BIND_SERVICE only"
unit_values SystemCallFilter | grep -qx '@system-service' || fail "no SystemCallFilter=@system-service"
# The exposure score systemd computes from the sandbox, offline (no
# running systemd needed).
exposure() {	# exposure UNIT: the overall score, e.g. 1.4
	timeout 60 systemd-analyze security --offline=true "$1" >"$T/security.out" 2>&1 || true
	sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/security.out"
}
score=$(exposure "$T/unit/emberd.service")
[ -n "$score" ] || { cat "$T/security.out"; fail "systemd-analyze security --offline=true gave no score"; }
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || { grep '✗' "$T/security.out"; fail "exposure $score, want at most 2.0 (above: what is open)"; }
mkdir "$T/unit-open"
grep -vE '^(User|Group|CapabilityBoundingSet|AmbientCapabilities|SystemCallFilter|ProtectSystem|PrivateDevices|ProtectKernel[A-Za-z]*)=' \
	"$T/unit/emberd.service" >"$T/unit-open/emberd.service"
open_score=$(exposure "$T/unit-open/emberd.service")
awk -v s="$open_score" 'BEGIN { exit !(s > 2.0) }' || fail "a unit without its sandbox scored $open_score: the check cannot fail"
echo "systemd-analyze security --offline=true: exposure $score (without the sandbox: $open_score)"
pass "config/emberd.service: systemd-analyze verify silent (a misspelt key or missing binary is not); User=emberd with CAP_NET_BIND_SERVICE only, ProtectSystem=strict, NoNewPrivileges=yes, ReadWritePaths=/var/lib/emberd only, @system-service; exposure $score <= 2.0"
