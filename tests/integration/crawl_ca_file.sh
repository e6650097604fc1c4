# [crawl] ca_file: an origin whose certificate a private CA signed is
# refused against the system's trust store (the reason logged), and
# crawled once ca_file names that CA.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/pebble_lib.sh"
setup_publisher
PORT=$(free_port)
mkdir "$T/www"
head -c 50000 /dev/urandom >"$T/www/clip.bin"
serve_https "$PORT" "$T/origin.log" "$T/www" <<'PY'
import functools, http.server, sys
H = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[4])
PY

write_config
printf '[source clip]\nurl = https://127.0.0.1:%s/clip.bin\n' "$PORT" >>"$CONF"
expect_exit 1 "$EMBERD" crawl -c "$CONF"
grep -qi 'certificate' "$T/err" || { cat "$T/err"; fail "no certificate error named"; }
[ ! -e "$STORE/current" ] || ! grep -q clip.bin "$STORE/current/catalog.json" ||
	fail "crawled through an untrusted certificate"
pass "a privately signed origin is refused: $(grep -i -m1 certificate "$T/err")"

write_config
printf '[crawl]\nca_file = %s\n[source clip]\nurl = https://127.0.0.1:%s/clip.bin\n' \
	"$PEBBLE_CA" "$PORT" >>"$CONF"
expect_exit 0 "$EMBERD" crawl -c "$CONF"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); assert [i["sha256"] for i in c["items"] if i["name"]=="clip.bin"]==[sys.argv[2]]' \
	"$STORE/current/catalog.json" "$(sha256_of "$T/www/clip.bin")" ||
	fail "clip.bin not in the catalog with its hash"
pass "with [crawl] ca_file naming its CA, the origin is crawled"
