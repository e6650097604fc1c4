# add, ls, dedupe, replace by name, gc, name validation, MIME types, and
# the catalog's sequence growing by one per change and never otherwise.
. "$(dirname "$0")/lib.sh"
setup_publisher

mkdir "$T/in"
printf 'Voice of April\n%.0s' $(seq 1 2000) >"$T/in/lyrics.txt"
head -c 300000 /dev/urandom >"$T/in/clip.mp4"
cp "$T/in/lyrics.txt" "$T/in/copy-of-lyrics.txt"

expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/lyrics.txt" "$T/in/clip.mp4"
[ "$(catalog_seq)" = 1 ] || fail "first catalog is not sequence 1"
expect_exit 0 "$EMBERD" ls -c "$CONF"
assert_grep "^lyrics.txt .* text/plain; charset=utf-8 +$(sha256_of "$T/in/lyrics.txt") gzip$" "$T/out"
assert_grep "^clip.mp4 .* video/mp4 +$(sha256_of "$T/in/clip.mp4") raw$" "$T/out"
assert_grep '^2 items, catalog sequence 1' "$T/out"
pass "add two files; text stored gzip, media raw"

expect_exit 0 "$EMBERD" ls -c "$CONF" --json
python3 - "$T/out" "$(sha256_of "$T/in/clip.mp4")" <<'PY'
import json, sys
cat = json.load(open(sys.argv[1]))
items = {i["name"]: i for i in cat["items"]}
assert items["clip.mp4"]["sha256"] == sys.argv[2], items
assert items["clip.mp4"]["size"] == 300000
assert items["clip.mp4"]["stored"] == "raw"
assert items["lyrics.txt"]["stored"] == "gzip"
assert cat["sequence"] == 1 and len(cat["publisher"]) == 16
PY
pass "ls --json"

# Same content under a second name: one object, two items.
n_before=$(ls "$STORE/objects" | wc -l)
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/copy-of-lyrics.txt"
[ "$(ls "$STORE/objects" | wc -l)" = "$n_before" ] || fail "same content stored twice"
[ "$(catalog_seq)" = 2 ] || fail "sequence did not grow by one"
# Adding exactly what is there changes nothing, so no new sequence.
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/copy-of-lyrics.txt"
[ "$(catalog_seq)" = 2 ] || fail "a no-op add bumped the sequence"
pass "dedupe and sequence"

# Replace a name: the old object stays until gc.
old=$(sha256_of "$T/in/clip.mp4")
head -c 1000 /dev/urandom >"$T/in/new.bin"
expect_exit 0 "$EMBERD" add -c "$CONF" --name clip.mp4 --type video/webm "$T/in/new.bin"
[ "$(catalog_seq)" = 3 ] || fail "replace did not bump the sequence"
expect_exit 0 "$EMBERD" ls -c "$CONF"
assert_grep "^clip.mp4 .* video/webm +$(sha256_of "$T/in/new.bin") raw$" "$T/out"
[ -e "$STORE/objects/$old" ] || fail "old object removed before gc"
expect_exit 0 "$EMBERD" gc -c "$CONF"
[ -e "$STORE/objects/$old" ] || fail "gc removed an object inside the grace period"
expect_exit 0 "$EMBERD" gc -c "$CONF" --now
assert_grep '^removed 1 objects' "$T/out"
[ ! -e "$STORE/objects/$old" ] || fail "gc kept the unreferenced object"
expect_exit 0 "$EMBERD" verify -c "$CONF"
pass "replace by name; gc collects the old object"

# Names are validated before anything is read.
for bad in .hidden 'a/b' $'tab\tname' $'\xff\xfe'; do
	expect_exit 2 "$EMBERD" add -c "$CONF" --name "$bad" "$T/in/new.bin"
	assert_grep "name" "$T/err"
done
expect_exit 2 "$EMBERD" add -c "$CONF" --name "$(printf 'a%.0s' $(seq 1 256))" "$T/in/new.bin"
expect_exit 2 "$EMBERD" add -c "$CONF" --name one "$T/in/new.bin" "$T/in/clip.mp4"
cp "$T/in/new.bin" "$T/in/.dotfile"
expect_exit 2 "$EMBERD" add -c "$CONF" "$T/in/.dotfile"
[ "$(catalog_seq)" = 3 ] || fail "a refused add changed the catalog"
pass "bad names refused"

# A folder of many files in one add: one catalog change.
mkdir "$T/many"
for i in $(seq 1 150); do printf 'page %d\n' "$i" >"$T/many/page-$i.txt"; done
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/many"/*.txt
[ "$(catalog_seq)" = 4 ] || fail "150 files did not make one catalog change"
expect_exit 0 "$EMBERD" ls -c "$CONF"
assert_grep '^153 items' "$T/out"
expect_exit 0 "$EMBERD" verify -c "$CONF"
pass "150 files in one add"
