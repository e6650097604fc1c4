# verify re-hashes every object, quarantines the bad ones and says which.
. "$(dirname "$0")/lib.sh"
setup_publisher

printf 'Voice of April %.0s\n' $(seq 1 5000) >"$T/song.txt"
head -c 2000000 /dev/urandom >"$T/video.mp4"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/song.txt" "$T/video.mp4"
expect_exit 0 "$EMBERD" verify -c "$CONF"
assert_grep '^2 objects checked, 0 bad' "$T/out"
pass "a good store verifies"

song=$(sha256_of "$T/song.txt")
video=$(sha256_of "$T/video.mp4")
# Flip a byte in the middle of the raw video, and one inside the song's
# gzip member (near the start: the metadata trailer is at the end).
flip() {	# flip FILE OFFSET (negative: from the middle)
	chmod u+w "$1"
	python3 - "$1" "$2" <<'PY'
import sys
p, off = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, 'rb').read())
off = len(b) // 2 if off < 0 else off
b[off] ^= 0x20
open(p, 'wb').write(b)
PY
}
flip "$STORE/objects/$video" -1
flip "$STORE/objects/$song" 100
expect_exit 1 "$EMBERD" verify -c "$CONF"
assert_grep "object $video is bad" "$T/err"
assert_grep "object $song is bad" "$T/err"
assert_grep "quarantine" "$T/err"
[ -e "$STORE/quarantine/$video" ] || fail "bad object not in quarantine/"
[ ! -e "$STORE/objects/$video" ] || fail "bad object still served"
expect_exit 0 "$EMBERD" ls -c "$CONF"
assert_grep "^video.mp4 .* missing$" "$T/out"
# Still unhealthy until the object is back: items are missing.
expect_exit 1 "$EMBERD" verify -c "$CONF"
assert_grep "object $video is missing" "$T/err"
pass "corrupt objects are quarantined and named"

# Adding the good bytes again heals the store.
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/song.txt" "$T/video.mp4"
expect_exit 0 "$EMBERD" verify -c "$CONF"
pass "re-adding heals"

# A tampered catalog fails verification.
chmod u+w "$STORE/current/catalog.json"
sed -i 's/Test archive/Evil archive/' "$STORE/current/catalog.json"
expect_exit 1 "$EMBERD" verify -c "$CONF"
assert_grep "signature does not verify" "$T/err"
pass "a tampered catalog is caught"
sed -i 's/Evil archive/Test archive/' "$STORE/current/catalog.json"
expect_exit 0 "$EMBERD" verify -c "$CONF"

# A truncated object (a disk that lost its tail) is caught too.
f="$STORE/objects/$video"
chmod u+w "$f"
truncate -s 1000000 "$f"
expect_exit 1 "$EMBERD" verify -c "$CONF"
assert_grep "object $video is bad" "$T/err"
[ -e "$STORE/quarantine/$video" ] || fail "truncated object not quarantined"
pass "a truncated object is caught"
