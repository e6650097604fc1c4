# emberd export --warc: a file fetched through a redirect, the same file
# from a second source (a revisit), a page with its video, an HLS stream
# and a file added with `emberd add`, crawled from the test origin and
# written as WARC 1.1. warcio (npm) reads every record back and each
# block and payload digest matches the bytes; wget --warc-file fetches
# the same URLs and both archives agree on target URIs, status lines and
# payload SHA-256; request records name their response; the joined HLS
# capture is a conversion record that refers to the playlist's response,
# and so is the page's mirror copy to the page's;
# each item's catalog entry and the signed catalog are metadata records.
# Folder mode writes emberd-00000.warc.gz; nothing .partial stays; a
# static export and a WARC in one run. A re-crawl of an origin without
# validators (same bytes again) publishes nothing, and its capture is a
# revisit record; rm --purge takes it with the item.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
. "$(dirname "$0")/crawl_lib.sh"
. "$(dirname "$0")/warc_lib.sh"
setup_publisher
command -v wget >/dev/null || fail "wget is not installed"

mkdir "$T/o"
for i in 0 1; do head -c $((3000 + i * 1000)) /dev/urandom >"$T/o/s$i.aac"; done
printf '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2.0,\ns0.aac\n#EXTINF:2.0,\ns1.aac\n#EXT-X-ENDLIST\n' >"$T/o/live.m3u8"
head -c 6000 /dev/urandom >"$T/o/clip.mp4"
printf '<!DOCTYPE html><html><head><title>A page</title></head><body><video src="clip.mp4"></video></body></html>\n' >"$T/o/page.html"
start_origin --root "$T/o"
FILE_URL="$ORIGIN/redirect?to=%2Ff%2Fw.bin%3Fsize%3D5000%26seed%3Dw"
head -c 7000 /dev/urandom >"$T/local.bin"

server_config "source_urls = full" \
	"[source red]" "url = $FILE_URL" "name = w.bin" \
	"[source again]" "url = $FILE_URL" "name = w-again.bin" \
	"[source page]" "url = $ORIGIN/r/page.html" \
	"[source radio]" "url = $ORIGIN/r/live.m3u8" "kind = hls"
expect_exit 0 "$EMBERD" crawl -c "$CONF"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/local.bin"

# --- the WARC, read back by warcio -----------------------------------------
expect_exit 0 "$EMBERD" export -c "$CONF" --warc "$T/out.warc.gz"
[ -s "$T/out.warc.gz" ] || fail "no out.warc.gz"
[ ! -e "$T/out.warc.gz.partial" ] || fail "out.warc.gz.partial left behind"
warc_check "$T/out.warc.gz" >"$T/e.jsonl" || { cat "$T/e.jsonl"; fail "warcio: a digest does not match"; }
pass "warcio reads $(wc -l <"$T/e.jsonl") records back, every block and payload digest matches"

python3 - "$T/e.jsonl" "$STORE/current/catalog.json" "$T/o" "$T/local.bin" "$ORIGIN" <<'PY' ||
import hashlib, json, sys, collections
recs = [json.loads(l) for l in open(sys.argv[1])]
cat_raw = open(sys.argv[2], "rb").read()
cat = json.loads(cat_raw)
o, local, origin = sys.argv[3], sys.argv[4], sys.argv[5]
sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
items = {i["name"]: i for i in cat["items"]}
assert recs[0]["type"] == "warcinfo", recs[0]
by = collections.defaultdict(list)
for r in recs:
    by[(r["type"], r["uri"])].append(r)
ids = {r["id"]: r for r in recs}
def resp(uri, n=1):
    rs = by[("response", uri)]
    assert len(rs) == n, (uri, [r["type"] for r in recs if r["uri"] == uri])
    return rs[0]
# The redirect and the file it led to; the second source's capture of the
# same bytes is a revisit of the first.
red = origin + "/redirect?to=%2Ff%2Fw.bin%3Fsize%3D5000%26seed%3Dw"
fin = origin + "/f/w.bin?size=5000&seed=w"
r0, r1 = resp(red, 2), resp(fin)
assert r0["status"].split()[1] in ("301", "302", "303", "307", "308"), r0
assert r1["status"].split()[1] == "200", r1
assert r1["sha256"] == items["w.bin"]["sha256"] == r1["payload_digest"][7:], r1
assert r1["ip"] == "127.0.0.1", r1
[rv] = by[("revisit", fin)]
assert rv["payload_digest"] == r1["payload_digest"] and rv["refers_to"] == r1["id"], rv
# Each request names its response.
for r in recs:
    if r["type"] == "request":
        assert r["concurrent"] in ids and ids[r["concurrent"]]["type"] in ("response", "revisit"), r
        assert ids[r["concurrent"]]["uri"] == r["uri"], r
        assert r["status"].startswith("GET "), r
assert len(by[("request", fin)]) == 2, by[("request", fin)]
# The page (its body kept inline) and its video.
pg, cl = resp(origin + "/r/page.html"), resp(origin + "/r/clip.mp4")
assert pg["sha256"] == sha(o + "/page.html"), pg
assert cl["sha256"] == sha(o + "/clip.mp4") == items["clip.mp4"]["sha256"], cl
# HLS: the playlist and both segments as on the wire, and the joined file
# a conversion record referring to the playlist's response.
pl = resp(origin + "/r/live.m3u8")
assert pl["sha256"] == sha(o + "/live.m3u8"), pl
for s in ("s0.aac", "s1.aac"):
    assert resp(origin + "/r/" + s)["sha256"] == sha(o + "/" + s), s
joined = hashlib.sha256(open(o + "/s0.aac", "rb").read() + open(o + "/s1.aac", "rb").read()).hexdigest()
[conv] = by[("conversion", origin + "/r/live.m3u8")]
assert conv["sha256"] == joined and conv["refers_to"] == pl["id"], conv
# The page's mirror copy (links rewritten) is a conversion of the page.
[pc] = by[("conversion", origin + "/r/page.html")]
assert pc["refers_to"] in ids and ids[pc["refers_to"]]["uri"] == pg["uri"], pc
assert len([r for r in recs if r["type"] == "conversion"]) == 2
# The added file: a resource record.
res = [r for r in recs if r["type"] == "resource"]
assert [r["sha256"] for r in res] == [sha(local)], res
assert res[0]["uri"] == "urn:sha256:" + sha(local), res
# Metadata: every item's catalog entry, the catalog and its signature.
meta = [r for r in recs if r["type"] == "metadata"]
assert len(meta) == len(cat["items"]) + 2, (len(meta), len(cat["items"]))
assert meta[-2]["sha256"] == hashlib.sha256(cat_raw).hexdigest(), meta[-2]
for m in meta[:-2]:
    assert m["content_type"] == "application/json" and m["refers_to"] in ids, m
print("ok: records: redirect %s then 200 (%s), a revisit of it, page + video, playlist + 2 segments + conversion, the page's copy a conversion, a resource, %d metadata" % (r0["status"].split()[1], r1["sha256"][:12], len(meta)))
PY
	fail "the WARC's records are not what was crawled"

# --- wget captures the same origin: both archives agree --------------------
(cd "$T" && wget --no-verbose --warc-file="$T/wget" --no-warc-keep-log -O /dev/null \
	"$FILE_URL" "$ORIGIN/r/page.html" "$ORIGIN/r/clip.mp4" "$ORIGIN/r/live.m3u8" \
	"$ORIGIN/r/s0.aac" "$ORIGIN/r/s1.aac" 2>"$T/wget.log") || { cat "$T/wget.log"; fail "wget failed"; }
warc_check "$T/wget.warc.gz" >"$T/w.jsonl" || { cat "$T/w.jsonl"; fail "warcio: wget's digests do not match"; }
python3 - "$T/e.jsonl" "$T/w.jsonl" <<'PY' || fail "emberd's and wget's WARCs disagree"
import json, sys
e = [json.loads(l) for l in open(sys.argv[1])]
w = [json.loads(l) for l in open(sys.argv[2])]
def resp(recs):
    return {r["uri"]: r for r in recs if r["type"] == "response"}
E, W = resp(e), resp(w)
assert len(W) == 7, sorted(W)
for uri, r in W.items():
    assert uri in E, ("emberd has no response for", uri)
    assert E[uri]["status"] == r["status"], (uri, E[uri]["status"], r["status"])
    if r["status"].split()[1] == "200":
        assert E[uri]["sha256"] == r["sha256"], (uri, E[uri]["sha256"], r["sha256"])
print("ok: wget --warc-file: the same %d responses: target URIs, status lines and payload SHA-256 agree" % len(W))
PY

# --- a folder of files ------------------------------------------------------
mkdir "$T/dir"
expect_exit 0 "$EMBERD" export -c "$CONF" --warc "$T/dir/"
[ "$(cd "$T/dir" && echo *)" = "emberd-00000.warc.gz" ] || fail "folder: $(ls "$T/dir")"
warc_check "$T/dir/emberd-00000.warc.gz" >"$T/d.jsonl" || fail "warcio: the folder's file"
[ "$(wc -l <"$T/d.jsonl")" = "$(wc -l <"$T/e.jsonl")" ] || fail "the folder's file has other records"
pass "--warc DIR/: emberd-00000.warc.gz with the same $(wc -l <"$T/d.jsonl") records, nothing .partial"

# --- with a static export in one run; neither is bad usage ---------------
expect_exit 0 "$EMBERD" export -c "$CONF" --warc "$T/both.warc.gz" "$T/static"
[ -s "$T/both.warc.gz" ] && [ -s "$T/static/catalog.json" ] || fail "--warc with DIR: not both written"
expect_exit 2 "$EMBERD" export -c "$CONF"
pass "--warc OUT DIR writes both; export with neither is refused (2)"

# --- a second export to the same name is refused while one runs ----------
flock "$T/busy.warc.gz.partial" "$EMBERD" export -c "$CONF" --warc "$T/busy.warc.gz" \
	2>"$T/busy.err" && fail "an export to a name another export holds succeeded"
assert_grep "another export to this name is running" "$T/busy.err"
[ ! -e "$T/busy.warc.gz" ] || fail "the refused export wrote busy.warc.gz"
pass "a second export to the same OUT is refused while the first holds OUT.partial"

# --- a re-crawl that fetches the same bytes again: a revisit ---------------
# An origin without validators is fetched whole at every pass; the second
# pass publishes nothing (same catalog) but keeps its capture, which the
# export writes as a revisit of the first.
NV=$T/nv
mkdir "$NV"
cp "$T/publisher.key" "$NV/"
NV_URL="$ORIGIN/f/nv.bin?size=4000&seed=nv&etag=0"
printf '[mirror]\nname = nv\nstore = store\nkey = publisher.key\nallow_root = yes\nsource_urls = full\n[source nv]\nurl = %s\n' \
	"$NV_URL" >"$NV/e.conf"
expect_exit 0 "$EMBERD" crawl -c "$NV/e.conf"
cp "$NV/store/current/catalog.json" "$T/nv.before"
expect_exit 0 "$EMBERD" crawl -c "$NV/e.conf"
assert_grep "unchanged nv.bin" "$T/err"
cmp -s "$T/nv.before" "$NV/store/current/catalog.json" || fail "an unchanged re-crawl re-signed the catalog"
NV_HEX=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["items"][0]["sha256"])' "$T/nv.before")
[ -s "$NV/store/recaptures/$NV_HEX.full.json" ] || fail "the re-crawl's capture was not kept"
expect_exit 0 "$EMBERD" export -c "$NV/e.conf" --warc "$T/nv.warc.gz"
warc_check "$T/nv.warc.gz" >"$T/nv.jsonl" || { cat "$T/nv.jsonl"; fail "warcio: a digest of the re-crawl's WARC"; }
python3 - "$T/nv.jsonl" "$NV_URL" "$NV_HEX" <<'PY' || fail "no revisit record for the re-crawl"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
url, hexd = sys.argv[2], sys.argv[3]
resp = [r for r in recs if r["type"] == "response" and r["uri"] == url]
rev = [r for r in recs if r["type"] == "revisit" and r["uri"] == url]
assert len(resp) == 1 and resp[0]["sha256"] == hexd, resp
assert len(rev) == 1 and rev[0]["refers_to"] == resp[0]["id"], rev
assert rev[0]["payload_digest"] == resp[0]["payload_digest"] == "sha256:" + hexd, rev
print("ok: an unchanged re-crawl publishes nothing, and its capture is a revisit record of the first (identical payload)")
PY
# The source out of the config first (rm refuses what a source publishes).
printf '[mirror]\nname = nv\nstore = store\nkey = publisher.key\nallow_root = yes\nsource_urls = full\n' >"$NV/e.conf"
expect_exit 0 "$EMBERD" add -c "$NV/e.conf" "$T/local.bin"
expect_exit 0 "$EMBERD" rm -c "$NV/e.conf" --purge nv.bin
[ ! -e "$NV/store/recaptures/$NV_HEX.full.json" ] || fail "rm --purge left the re-captures of the item"
pass "rm --purge takes the item's re-captures with it"
