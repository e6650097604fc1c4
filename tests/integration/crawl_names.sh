# Names and types as the origin meant them: a Content-Disposition's
# filename* (RFC 8187, UTF-8) wins over its filename= and over the URL,
# filename= alone works, a hostile one ("../../etc/passwd", a control
# character) cannot escape anything, [source] name still wins over all;
# the Content-Type's charset stays in the item's type, other parameters
# go; a [source 四月之声] section crawls (and keeps its state under that
# name); a URL with a space is a config error that says what to write;
# `emberd ls` lines its columns up by display width.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/crawl_lib.sh"
setup_publisher
start_origin

# q TEXT: TEXT percent-encoded for a query value.
q() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

XINNU=新奴隶.mp3
star="/f/from-url.mp3?size=3000&seed=star&type=audio%2Fmpeg&disp=$(q "attachment; filename=\"fallback.mp3\"; filename*=UTF-8''$(q "$XINNU")")"
plain="/f/dl.bin?size=2500&seed=plain&disp=$(q 'attachment; filename="report 2026.pdf"')"
hostile="/f/hostile.bin?size=1500&seed=hostile&disp=$(q 'attachment; filename="../../etc/passwd"')"
ctl="/f/ctl.bin?size=1200&seed=ctl&disp=$(q $'attachment; filename="evil\033[2J.txt"')"
named="/f/named.bin?size=1000&seed=named&disp=$(q "attachment; filename*=UTF-8''$(q "$XINNU")")"
lyrics="/f/lyrics?size=800&seed=ly&text=1&type=$(q 'Text/Plain; format=flowed')&charset=UTF-8"
april="/f/april.bin?size=2000&seed=april"

crawl_config \
	"[source star]" "url = $ORIGIN$star" \
	"[source plain]" "url = $ORIGIN$plain" \
	"[source hostile]" "url = $ORIGIN$hostile" \
	"[source ctl]" "url = $ORIGIN$ctl" \
	"[source named]" "url = $ORIGIN$named" "name = chosen.mp3" \
	"[source lyrics]" "url = $ORIGIN$lyrics" \
	"[source 四月之声]" "url = $ORIGIN$april"

expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_summary star "fetched $XINNU \(3000 bytes"
assert_summary plain "fetched report 2026\.pdf \(2500 bytes"
assert_total 7 7 0 0
catalog_has "$XINNU" || fail "no item $XINNU"
catalog_has fallback.mp3 && fail "filename= won over filename*"
catalog_has from-url.mp3 && fail "the URL's name won over Content-Disposition"
[ "$(catalog_field "$XINNU" sha256)" = "$(origin_sha256 "$star")" ] || fail "$XINNU has the wrong content"
pass "filename* (UTF-8) wins over filename= and the URL; filename= alone is taken"

assert_summary hostile "fetched passwd \(1500 bytes"
assert_summary ctl "fetched ctl\.bin \(1200 bytes"
# The origin did send the control character (else the fallback proves nothing).
curl -sS --max-time 10 -D "$T/ctl.h" -o /dev/null "$ORIGIN$ctl" || fail "origin: no answer for $ctl"
grep -q $'filename="evil\033\\[2J.txt"' "$T/ctl.h" || { cat -A "$T/ctl.h"; fail "the origin sent no ESC in the file name"; }
catalog_has passwd || fail "no item passwd"
python3 - "$STORE/current/catalog.json" <<'PY' || fail "a catalog name holds a path, a dot start or a control character"
import json, sys
for i in json.load(open(sys.argv[1]))["items"]:
    n = i["name"]
    assert "/" not in n and "\\" not in n and not n.startswith(".") and n.isprintable(), n
PY
left=$(find "$T" -name passwd -o -name 'evil*' | head -n 3)
[ -z "$left" ] || fail "a file was made from a hostile name: $left"
pass "a hostile filename is cut to its last segment (passwd); a control character falls back to the URL"

assert_summary named "fetched chosen\.mp3 \(1000 bytes"
pass "[source] name wins over Content-Disposition"

[ "$(catalog_field lyrics type)" = "text/plain; charset=utf-8" ] ||
	fail "lyrics: type '$(catalog_field lyrics type)', want 'text/plain; charset=utf-8'"
[ "$(catalog_field "$XINNU" type)" = "audio/mpeg" ] || fail "$XINNU: type '$(catalog_field "$XINNU" type)'"
pass "the charset stays in the type, normalised; other parameters are dropped"

assert_summary 四月之声 "fetched april\.bin \(2000 bytes"
[ -s "$STORE/crawl/四月之声.json" ] || fail "no crawl state STORE/crawl/四月之声.json"
[ -z "$(find "$STORE/crawl" -mindepth 1 -type d)" ] || fail "a folder appeared under STORE/crawl"
pass "[source 四月之声] crawls, its state file named after it"

# A second pass: 304s; the names stay what the origin said.
expect_exit 0 "$EMBERD" crawl -c "$CONF"
assert_summary star "unchanged $XINNU$"
assert_summary plain "unchanged report 2026\.pdf$"
assert_total 7 0 7 0
pass "an unchanged pass names the items as the first did"

# --- ls: columns by display width --------------------------------------
expect_exit 0 "$EMBERD" ls -c "$CONF"
python3 - "$T/out" "$STORE/current/catalog.json" <<'PY' || { cat "$T/out"; fail "ls columns do not line up"; }
import json, sys, unicodedata

def width(s):
    w = 0
    for ch in s:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return w

lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
items = sorted(json.load(open(sys.argv[2]))["items"], key=lambda i: i["name"].encode())
rows = lines[1:1 + len(items)]
assert len(rows) == len(items), lines
size_end, type_col, sha_col = set(), set(), set()
head = lines[0]
size_end.add(width(head[:head.index("SIZE") + 4]))
type_col.add(width(head[:head.index("TYPE")]))
sha_col.add(width(head[:head.index("SHA256")]))
for line, item in zip(rows, items):
    assert line.startswith(item["name"] + " "), (line, item["name"])
    rest = len(item["name"])
    t = line.index(item["type"], rest + 11)
    s = line.index(item["sha256"][:12])
    size_end.add(width(line[:t].rstrip()))
    type_col.add(width(line[:t]))
    sha_col.add(width(line[:s]))
assert any(width(i["name"]) != len(i["name"].encode()) for i in items), "no wide name to test"
assert len(size_end) == 1 and len(type_col) == 1 and len(sha_col) == 1, (size_end, type_col, sha_col)
PY
pass "ls aligns SIZE, TYPE and SHA256 by display width (CJK names count two columns)"

# --- a URL with a space -------------------------------------------------
printf '[mirror]\nstore = store\nkey = publisher.key\nallow_root = yes\n\n[source song]\nurl = %s/f/my song.mp3\n' \
	"$ORIGIN" >"$T/space.conf"
expect_exit 2 "$EMBERD" crawl -c "$T/space.conf"
[ "$(wc -l <"$T/err")" = 1 ] || { cat "$T/err"; fail "not one line"; }
assert_grep "^emberd: error: $T/space\.conf:7: url contains a space; write it as %20$" "$T/err"
pass "a URL with a space: exit 2, FILE:LINE: url contains a space; write it as %20"
