# emberd run: the index page in the reader's language, light on slow
# links. A catalog of 1,000 small files with long names: the language
# from ?lang= or Accept-Language (q-values, zh regions), limited and
# ordered by [mirror] languages; Vary and Content-Language; 50 items a
# page, ?page= out of range, a search; hostile query strings answered
# 400 or escaped, never reflected raw; the first page at most 60 KB
# gzipped; in Chromium, a page view asks for no media at all (50 audio
# players, preload="none"), and the page fits 390 px and 1280 px windows
# in zh-Hans and fa (screenshots in ${EMBERD_ARTIFACTS:-$T}).
#   EMBERD=build/emberd bash tests/integration/index_lang.sh
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
command -v chromium >/dev/null ||
	fail "chromium is not installed (apt-get install chromium)"
[ "$(fc-list : family 2>/dev/null | grep -c 'Noto Sans CJK')" -gt 0 ] ||
	fail "no CJK font (apt-get install fonts-noto-cjk)"
setup_publisher
trap 'server_cleanup' EXIT

mkdir "$T/in"
python3 - "$T/in" <<'PY'
import os, sys
for i in range(1000):
    name = "programme-%04d-interview-with-the-regional-correspondent-about-the-week.mp3" % i
    with open(os.path.join(sys.argv[1], name), "wb") as f:
        f.write(b"audio %04d\n" % i)
PY
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in"/*.mp3
pass "1000 items with 75-byte names added"

start_server
URL="$HTTPS_URL/"

# get [CURL ARGS...] PATH-AND-QUERY: the body to $T/body, headers to
# $T/hdr; prints the status.
get() {
	local path=${*: -1}
	curl_https -o "$T/body" -D "$T/hdr" -w '%{http_code}' "${@:1:$#-1}" "$URL${path#/}"
}
html_lang() { grep -o '<html lang="[^"]*" dir="[^"]*">' "$T/body" | head -n 1; }

# --- negotiation
check_lang() {	# WANT-LANG WANT-DIR CURL-ARGS... PATH
	local want=$1 dir=$2 code
	shift 2
	code=$(get "$@") || server_fail "curl $* failed"
	[ "$code" = 200 ] || fail "$*: status $code"
	[ "$(html_lang)" = "<html lang=\"$want\" dir=\"$dir\">" ] ||
		fail "$*: got '$(html_lang)', want lang $want dir $dir"
	[ "$(header Content-Language "$T/hdr")" = "$want" ] ||
		fail "$*: Content-Language '$(header Content-Language "$T/hdr")'"
}
check_lang en ltr /
check_lang zh-Hans ltr -H 'Accept-Language: zh-CN,zh;q=0.9,en;q=0.8' /
check_lang zh-Hant ltr -H 'Accept-Language: zh-TW' /
check_lang zh-Hant ltr -H 'Accept-Language: ZH-hk, en;q=0.5' /
check_lang zh-Hans ltr -H 'Accept-Language: zh-Hans-SG' /
check_lang ru ltr -H 'Accept-Language: de-DE, fa;q=0.4, ru;q=0.6' /
check_lang fa rtl -H 'Accept-Language: en;q=0, *;q=0.1, fa;q=0.2' /
check_lang zh-Hans ltr -H 'Accept-Language: en;q=0, *' /
check_lang en ltr -H 'Accept-Language: de, ja' /
check_lang fa rtl -H 'Accept-Language: zh-TW' '/?lang=fa'
check_lang zh-Hant ltr '/?lang=zh-hk'
check_lang en ltr -H 'Accept-Language: en' '/?lang=xx'
vary=$(header Vary "$T/hdr")
case ", $vary," in *", Accept-Language,"*) ;; *) fail "Vary '$vary' lacks Accept-Language" ;; esac
pass "language: ?lang= wins, else Accept-Language with q-values and zh regions, else en; Vary: $vary"
get -H 'Accept-Language: zh-CN' / >/dev/null
grep -qF '下载' "$T/body" && grep -qF '文件' "$T/body" || fail "zh-Hans page lacks 下载/文件"
get -H 'Accept-Language: zh-TW' / >/dev/null
grep -qF '下載' "$T/body" && grep -qF '檔案' "$T/body" || fail "zh-Hant page lacks 下載/檔案"
grep -qF '文件' "$T/body" && fail "zh-Hant page uses the mainland 文件"
for l in en zh-Hans zh-Hant ru fa; do
	grep -qF "href=\"?lang=$l\" hreflang=\"$l\"" "$T/body" || [ "$l" = zh-Hant ] ||
		fail "no link to ?lang=$l on the zh-Hant page"
done
grep -qF '<a href="?lang=fa" hreflang="fa" lang="fa" dir="rtl">فارسی</a>' "$T/body" ||
	fail "the link to fa is not named in Persian"
pass "words: zh-Hans 下载/文件, zh-Hant 下載/檔案; links to every other language, each named in itself"

# --- paging and search
get / >/dev/null
[ "$(grep -c '<section class="item' "$T/body")" = 50 ] || fail "page 1 does not hold 50 items"
grep -qF 'Page 1 of 20' "$T/body" || fail "page 1 does not say 'Page 1 of 20'"
grep -qF 'rel="next" href="?lang=en&amp;page=2"' "$T/body" || fail "no link to page 2"
size=$(curl_https --compressed -o /dev/null -w '%{size_download}' "$URL")
[ "$size" -le 61440 ] || fail "the first page is $size bytes gzipped (want <= 60 KB)"
plain=$(curl_https -o /dev/null -w '%{size_download}' "$URL")
pass "page 1: 50 of 1000 items, 'Page 1 of 20', $size bytes on the wire gzipped ($plain plain)"
get '/?page=20' >/dev/null
grep -qF 'Page 20 of 20' "$T/body" && grep -qF 'programme-0999-' "$T/body" || fail "page 20 is not the last"
get '/?page=999999' >/dev/null
grep -qF 'Page 20 of 20' "$T/body" || fail "?page=999999 is not the last page"
get '/?page=0' >/dev/null
grep -qF 'Page 1 of 20' "$T/body" || fail "?page=0 is not the first page"
for bad in -1 abc 1e3 '' %00; do
	code=$(get "/?page=$bad")
	[ "$code" = 400 ] || fail "?page=$bad: status $code (want 400)"
done
pass "?page=999999 the last page, ?page=0 the first; ?page=-1, abc, 1e3, empty, %00: 400"
code=$(get '/?q=PROGRAMME-0042-&lang=ru')
[ "$code" = 200 ] || fail "search: status $code"
[ "$(grep -c '<section class="item' "$T/body")" = 1 ] && grep -qF 'files/programme-0042-' "$T/body" ||
	fail "?q=PROGRAMME-0042- does not find exactly programme-0042"
[ "$(html_lang)" = '<html lang="ru" dir="ltr">' ] || fail "search lost the language"
code=$(get '/?q=correspondent&page=3')
grep -qF 'Page 3 of 20' "$T/body" || fail "a search matching all is not paged"
pass "search: ?q=PROGRAMME-0042- finds exactly one item (case-insensitive); a search is paged too"

# --- hostile query strings
# 10 KB: more than a request head may hold (431, before any parsing);
# 4 KB: parsed, and a search that long is refused, a language ignored.
big=$(head -c 10240 /dev/zero | tr '\0' a)
for k in q lang; do
	code=$(get "/?$k=$big")
	[ "$code" = 431 ] || fail "?$k= of 10 KB: status $code (want 431)"
done
big=$(head -c 4096 /dev/zero | tr '\0' a)
code=$(get "/?q=$big")
[ "$code" = 400 ] || fail "?q= of 4 KB: status $code (want 400)"
code=$(get "/?lang=$big")
[ "$code" = 200 ] && [ "$(html_lang)" = '<html lang="en" dir="ltr">' ] || fail "?lang= of 4 KB: status $code, $(html_lang)"
grep -qF "$(head -c 100 /dev/zero | tr '\0' a)" "$T/body" && fail "the 4 KB ?lang= is reflected"
code=$(get '/?q=%22%3E%3Cscript%3Ealert(1)%3C/script%3E%01%07%1b&lang=%3Cscript%3E')
[ "$code" = 200 ] || fail "?q=<script>: status $code"
grep -qiF '<script' "$T/body" && fail "<script> reflected unescaped"
grep -qF 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;' "$T/body" || fail "?q=<script> not in the box, escaped"
LC_ALL=C grep -q $'[\x01\x07\x1b]' "$T/body" && fail "control characters reflected"
code=$(get '/?q=%zz')
[ "$code" = 400 ] || fail "?q=%zz: status $code (want 400)"
server_alive
pass "?q= and ?lang= of 10 KB: 431; ?q= of 4 KB and %zz: 400; ?lang= of 4 KB ignored, not reflected; <script> and control characters escaped"

# --- Chromium: no media requests, layout at 390 and 1280 px
if browser_build "chromium page views and layout"; then
ART=${EMBERD_ARTIFACTS:-$T}
mkdir -p "$ART"
before=$(grep -cE 'emberd: GET /files/' "$SERVER_LOG" || true)
get / >/dev/null
grep -qF '<audio controls preload="none"' "$T/body" || fail "the players do not say preload=\"none\""
for l in zh-Hans fa; do
	for w in 390 1280; do
		python3 "$(dirname "$0")/chrome_layout.py" "$URL?lang=$l" "$w" "$ART/index-$l-$w.png" \
			>"$T/layout" 2>&1 || { cat "$T/layout"; fail "?lang=$l overflows a $w px window (or chromium failed)"; }
		cat "$T/layout"
		grep -qF "lang=$l dir=$([ $l = fa ] && echo rtl || echo ltr)" "$T/layout" || fail "chromium saw the wrong lang/dir"
		[ "$(stat -c %s "$ART/index-$l-$w.png")" -gt 10240 ] || fail "index-$l-$w.png is too small"
	done
done
# Each page view was logged before it was answered: one line per request.
views=$(grep -cE 'emberd: GET /\?lang=(zh-Hans|fa) 200 ' "$SERVER_LOG" || true)
[ "$views" -ge 4 ] || fail "the server logged $views page views (want 4): the log cannot count requests"
after=$(grep -cE 'emberd: GET /files/' "$SERVER_LOG" || true)
[ "$after" = "$before" ] || { grep -E 'emberd: GET /files/' "$SERVER_LOG" | tail -n 5; fail "page views made $((after - before)) media requests (want 0)"; }
pass "chromium: 4 page views with 50 audio players each, 0 requests for /files/; no overflow at 390 and 1280 px in zh-Hans and fa (screenshots in $ART)"
fi
stop_server

# --- [mirror] languages: limited and ordered, the first the fallback
start_server 'languages = zh-Hans, zh-Hant, en'
URL="$HTTPS_URL/"
check_lang zh-Hans ltr /
check_lang zh-Hans ltr -H 'Accept-Language: ru, fa' /
check_lang zh-Hans ltr '/?lang=ru'
check_lang en ltr -H 'Accept-Language: ru, en;q=0.5' /
grep -qF 'hreflang="ru"' "$T/body" && fail "a link to a language the mirror does not offer"
# SIGHUP with another list: the pages are made again in the new order.
server_config "url = $HTTPS_URL/" 'languages = fa, en'
kill -HUP "$SERVER_PID"
for i in $(seq 1 100); do
	get / >/dev/null
	[ "$(html_lang)" = '<html lang="fa" dir="rtl">' ] && break
	sleep 0.1
done
[ "$(html_lang)" = '<html lang="fa" dir="rtl">' ] || fail "after SIGHUP with 'languages = fa, en', / is $(html_lang)"
grep -qF "href=\"?lang=en\"" "$T/body" && grep -qF "$HTTPS_URL/catalog.json" "$T/body" ||
	fail "after SIGHUP the page lacks the en link or the new [mirror] url"
check_lang en ltr -H 'Accept-Language: zh-CN, en;q=0.1' /
stop_server
printf '[mirror]\nname = x\nlanguages = en, de\n' >"$T/bad.conf"
expect_exit 2 "$EMBERD" run -c "$T/bad.conf"
assert_grep "bad.conf:3: bad language 'de' for 'languages' in \[mirror\]" "$T/err"
pass "[mirror] languages = zh-Hans, zh-Hant, en: zh-Hans the fallback, ru not offered; after SIGHUP with fa, en: fa; 'de' a config error naming line 3"
pass "index page languages, paging and search"
