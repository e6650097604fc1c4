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
# Flip a byte in the raw video and in the deflated song.
for h in "$video" "$song"; do
	f="$STORE/objects/$h"
	chmod u+w "$f"
	python3 - "$f" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read()); b[len(b) // 2] ^= 0x20
open(p, 'wb').write(b)
PY
done
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
