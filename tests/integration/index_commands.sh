# The commands on the index page work as pasted. Every <code class="cmd">
# of the page (curl, wget and aria2c, for the catalog and for the first
# file) is taken from the served HTML, unescaped as a browser shows it,
# and run by bash in an empty folder with nothing substituted:
#   - self-signed certificate, [mirror] url = https://...: curl pins the
#     certificate's key (--pinnedpubkey sha256//..., with -k), wget and
#     aria2c skip the check; each command exits 0, the catalog passes
#     minisign -Vm with the publisher's key, the file's SHA-256 is the
#     catalog's. The same curl command with another pin fails.
#   - [https] cert configured (a CA's, as far as the page knows): no
#     flag at all; curl runs against it with the certificate trusted.
#   - [mirror] url = http://...: plain commands, all three run.
# The first item's name holds a space and a quote: the commands quote it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
for t in curl wget aria2c minisign; do
	command -v "$t" >/dev/null || fail "$t is not installed"
done
setup_publisher
trap 'server_cleanup' EXIT

mkdir "$T/in"
NAME="a week's report.txt"	# sorts first: the page's example
printf 'the report\n' >"$T/in/$NAME"
printf 'other\n' >"$T/in/other.txt"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/$NAME" "$T/in/other.txt"
WANT=$(sha256sum "$T/in/$NAME" | cut -d' ' -f1)

# commands URL: the page's commands, one a line, into $T/cmds.
commands() {
	curl_https -o "$T/page.html" "$1" 2>/dev/null || curl_http -o "$T/page.html" "$1" ||
		server_fail "cannot fetch $1"
	python3 - "$T/page.html" >"$T/cmds" <<'PY'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.cmds, self.cur = [], None
    def handle_starttag(self, tag, attrs):
        if tag == "code" and ("class", "cmd") in attrs:
            self.cur = ""
    def handle_endtag(self, tag):
        if tag == "code" and self.cur is not None:
            self.cmds.append(self.cur)
            self.cur = None
    def handle_data(self, d):
        if self.cur is not None:
            self.cur += d
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
for c in p.cmds:
    assert "\n" not in c, c
    print(c)
PY
	[ "$(wc -l <"$T/cmds")" = 6 ] || { cat "$T/cmds"; fail "the page shows $(wc -l <"$T/cmds") commands (want 6)"; }
}

# run_all: run each command of $T/cmds in its own empty folder, check
# what it saved. Counts in RAN.
run_all() {
	local i=0 cmd d
	RAN=0
	while IFS= read -r cmd; do
		i=$((i + 1))
		d="$T/run.$i"
		rm -rf "$d"
		mkdir "$d"
		(cd "$d" && timeout 60 bash -c "$cmd") >"$T/run.out" 2>&1 ||
			{ cat "$T/run.out"; fail "command $i failed as pasted: $cmd"; }
		if [ -f "$d/catalog.json" ]; then
			[ -f "$d/catalog.json.minisig" ] || fail "command $i saved no catalog.json.minisig: $cmd"
			minisign -Vm "$d/catalog.json" -P "$PUBKEY" >"$T/run.out" 2>&1 ||
				{ cat "$T/run.out"; fail "the catalog of command $i does not verify: $cmd"; }
		elif [ -f "$d/$NAME" ]; then
			[ "$(sha256sum "$d/$NAME" | cut -d' ' -f1)" = "$WANT" ] ||
				fail "command $i saved a file whose SHA-256 is not the catalog's: $cmd"
			grep -qF "\"sha256\":\"$WANT\"" "$STORE/current/catalog.json" ||
				grep -qF "\"sha256\": \"$WANT\"" "$STORE/current/catalog.json" ||
				fail "the catalog does not list $WANT"
		else
			ls -la "$d"
			fail "command $i saved neither the catalog nor the file: $cmd"
		fi
		RAN=$((RAN + 1))
	done <"$T/cmds"
}

# --- self-signed: pinned curl, unchecked wget and aria2c
start_server "url = $HTTPS_URL/"
commands "$HTTPS_URL/"
PIN=$(openssl x509 -in "$STORE/tls/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der |
	openssl dgst -sha256 -binary | base64)
grep -qF -- "curl -fL --pinnedpubkey sha256//$PIN -k -O $HTTPS_URL/catalog.json -O $HTTPS_URL/catalog.json.minisig" "$T/cmds" ||
	{ cat "$T/cmds"; fail "no pinned curl command with the certificate's key sha256//$PIN"; }
grep -qF -- "wget --no-check-certificate " "$T/cmds" && grep -qF -- "aria2c --check-certificate=false " "$T/cmds" ||
	fail "wget or aria2c command without its flag"
grep -qF 'signature check below decides' "$T/page.html" || fail "the page does not say why skipping the check is safe"
run_all
pass "self-signed: $RAN commands run as pasted (curl pinned to sha256//$PIN, wget, aria2c): catalog verifies, file SHA-256 $WANT"
sed -n 1p "$T/cmds" | sed "s|sha256//$PIN|sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=|" >"$T/wrong"
(cd "$T" && bash "$T/wrong") >"$T/run.out" 2>&1 && fail "curl with another key's pin succeeded: the pin is not checked"
grep -qi 'pinned\|public key' "$T/run.out" || { cat "$T/run.out"; fail "curl failed, but not on the pin"; }
pass "the same curl command with another pin fails: $(grep -i 'pinned\|public key' "$T/run.out" | head -n 1)"
stop_server

# --- a configured certificate: plain commands
cp "$STORE/tls/cert.pem" "$T/ca-cert.pem"
cp "$STORE/tls/key.pem" "$T/ca-key.pem"
HTTPS_EXTRA="cert = $T/ca-cert.pem
key = $T/ca-key.pem"
start_server "url = $HTTPS_URL/"
commands "$HTTPS_URL/"
grep -qE -- '--pinnedpubkey|-k |--no-check-certificate|--check-certificate=false' "$T/cmds" &&
	{ cat "$T/cmds"; fail "a configured certificate still gets pins or unchecked commands"; }
grep -qF 'signature check below decides' "$T/page.html" && fail "the note on -k is shown without -k"
head -n 1 "$T/cmds" >"$T/cmds.curl"
cp "$T/cmds.curl" "$T/cmds"
CURL_CA_BUNDLE="$T/ca-cert.pem" run_all
pass "[https] cert configured: plain commands; curl's runs as pasted with the certificate trusted"
stop_server
HTTPS_EXTRA=

# --- plain HTTP
start_server "url = $HTTP_URL/"
commands "$HTTP_URL/"
grep -qE -- '--pinnedpubkey|-k |--no-check-certificate|--check-certificate=false' "$T/cmds" &&
	fail "an http:// mirror gets TLS flags"
run_all
pass "http://: $RAN plain commands run as pasted"
stop_server
pass "index page commands work as pasted"
