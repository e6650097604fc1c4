# The published catalog verifies with Debian's minisign and the printed
# public key, and stops verifying after any one byte changes.
. "$(dirname "$0")/lib.sh"
setup_publisher
command -v minisign >/dev/null || fail "minisign is not installed"

printf 'banned article\n' >"$T/article.txt"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/article.txt"
cp "$STORE/current/catalog.json" "$STORE/current/catalog.json.minisig" "$T/"
expect_exit 0 minisign -Vm "$T/catalog.json" -P "$PUBKEY"
assert_grep 'sequence:1' "$T/out"
# The .pub file keygen prints works too.
expect_exit 0 minisign -Vm "$T/catalog.json" -p "$T/pub"
pass "minisign verifies the catalog"

len=$(stat -c %s "$T/catalog.json")
for off in 0 10 $((len / 2)) $((len - 2)); do
	cp "$STORE/current/catalog.json" "$T/catalog.json"
	python3 - "$T/catalog.json" "$off" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, 'rb').read()); b[off] ^= 0x01
open(p, 'wb').write(b)
PY
	expect_exit 1 minisign -Vm "$T/catalog.json" -P "$PUBKEY"
done
pass "one changed byte is rejected"

# The catalog names the key that signed it, as minisign shows it.
keyid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["publisher"])' "$STORE/current/catalog.json")
assert_grep "minisign public key 0*${keyid#"${keyid%%[!0]*}"}" "$T/pub"
python3 - "$STORE/current/catalog.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
# The first catalog has no "previous" (nothing came before it).
assert list(c) == ["version", "publisher", "name", "generated", "expires", "sequence", "mirrors", "items"], list(c)
assert c["version"] == 1 and c["name"] == "Test archive"
i = c["items"][0]
assert list(i) == ["name", "sha256", "size", "type", "source", "fetched"], list(i)
assert c["generated"].endswith("Z") and i["fetched"].endswith("Z") and c["expires"].endswith("Z")
PY
pass "catalog layout"
