# An export refreshed while 50 readers download from the nginx serving
# it: every reader checks the catalog's signature and then every file it
# names (size and SHA-256); three refreshes each add an item and take one
# out. No reader may see a missing, short or wrong file.
#   EMBERD=build/emberd bash tests/integration/export_refresh.sh
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/nginx_lib.sh"
command -v minisign >/dev/null || fail "minisign is not installed"

setup_publisher
mkdir -p "$T/in" "$T/www"
for i in 0 1 2; do head -c 200000 /dev/urandom >"$T/in/item$i.bin"; done
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/item0.bin" "$T/in/item1.bin" "$T/in/item2.bin"
expect_exit 0 "$EMBERD" export -c "$CONF" "$T/www"
nginx_start "$T/www"

# refresh N: item N+2 in, item N-1 out, then the export.
cat >"$T/refresh.sh" <<SH
set -e
n=\$1
head -c 200000 /dev/urandom >"$T/in/item\$((n + 2)).bin"
"$EMBERD" add -c "$CONF" "$T/in/item\$((n + 2)).bin" 2>/dev/null
"$EMBERD" rm -c "$CONF" "item\$((n - 1)).bin" 2>/dev/null
"$EMBERD" export -c "$CONF" "$T/www" 2>>"$T/export.log"
SH
timeout 300 /usr/bin/python3 "$(dirname "$0")/export_readers.py" "$NGINX_URL" "$PUBKEY" 50 3 \
	bash "$T/refresh.sh" >"$T/out" 2>&1 || { cat "$T/out" "$T/export.log" 2>/dev/null; fail "a reader saw a broken export"; }
cat "$T/out"
grep -q "sequences seen \[.*7\]" "$T/out" || fail "the readers did not see the refreshed catalogs"
pass "50 readers during 3 refreshes: every file whole and verified ($(cat "$T/out"))"
