# A broken config is refused at start with one line naming file and line.
. "$(dirname "$0")/lib.sh"

check_bad() {	# check_bad LINE PATTERN <<config
	local line=$1 pat=$2
	cat >"$CONF"
	expect_exit 2 "$EMBERD" ls -c "$CONF"
	[ "$(wc -l <"$T/err")" = 1 ] || { cat "$T/err"; fail "not one line"; }
	assert_grep "$CONF:$line:" "$T/err"
	assert_grep "$pat" "$T/err"
}

check_bad 3 "frobnicate" <<'C'
[mirror]
name = x
frobnicate = 1
C
check_bad 4 "nonsense" <<'C'
[mirror]
name = x

[nonsense]
C
check_bad 2 "max_size" <<'C'
[crawl]
max_size = 4Q
C
check_bad 3 "interval" <<'C'
[crawl]
max_size = 4G
interval = soon
C
check_bad 2 "listen" <<'C'
[https]
listen = [::]8443
C
check_bad 2 "listen" <<'C'
[http]
listen = 127.0.0.1:70000
C
check_bad 3 "name" <<'C'
[mirror]
name = a
name = b
C
check_bad 3 "sha256" <<'C'
[source x]
url = https://origin.example/a.mp4
sha256 = abc
C
check_bad 3 "cert" <<'C'
[https]
listen = 127.0.0.1:8443
cert = missing-cert.pem
key = missing-key.pem
C
check_bad 2 "allow_root" <<'C'
[mirror]
allow_root = perhaps
C
# A catalog valid for no time, or less than a minute, expires in transit.
check_bad 3 "bad validity '0' for 'expires' in \[mirror\]: use 1m or more" <<'C'
[mirror]
name = x
expires = 0
C
check_bad 2 "bad validity '59s' for 'expires'" <<'C'
[mirror]
expires = 59s
C
check_bad 3 "bad value 'maybe' for 'source_urls' in \[mirror\]: use origin, full or none$" <<'C'
[mirror]
name = x
source_urls = maybe
C
check_bad 4 "bad kind 'movie' for 'kind' in \[source a\]: use auto, file, page, feed or hls$" <<'C'
[mirror]
[source a]
url = https://o.example/a
kind = movie
C
check_bad 4 "bad variant 'huge' for 'variant' in \[source a\]: use best, smallest, all or a BANDWIDTH in bits/s$" <<'C'
[mirror]
[source a]
url = https://o.example/a.m3u8
variant = huge
C
check_bad 4 "bad number '0' for 'max_items' in \[source a\]: use 1 to 10000$" <<'C'
[mirror]
[source a]
url = https://o.example/a
max_items = 0
C
printf '[mirror]\nname = x\n[source bad\377id]\nurl = https://o.example/a\n' >"$T/bad-id.conf"
# (The byte is shown as it is: grep's '.' would not match it.)
check_bad 3 ": it is not valid UTF-8$" <"$T/bad-id.conf"
assert_grep "bad source name 'bad" "$T/err"
printf '[mirror]\n[source a\033b]\nurl = https://o.example/a\n' >"$T/bad-id.conf"
check_bad 2 "bad source name 'a\?b': it has a control character$" <"$T/bad-id.conf"
pass "bad configs are refused with file and line"

# Everything of the documented example parses, with inline comments, and
# relative paths resolve against the config's folder, not the cwd.
touch "$T/cert.pem" "$T/cert.key"
cat >"$CONF" <<'C'
[mirror]
name  = April archive
store = store
key   = publisher.key          ; secret key
url   = https://mirror.example/ ; public base URL
allow_root = yes
log_addresses  = no
scrub_interval = 24h

[https]
listen = 0.0.0.0:8443
listen = [::]:8443
cert   = cert.pem
key    = cert.key

[http]
listen = 127.0.0.1:8080

[crawl]
interval    = 6h
concurrency = 8
per_host    = 2
proxy       = socks5h://127.0.0.1:9050
max_size    = 4G
timeout     = 30m
user_agent  = emberd/test

[source voice-of-april]
url    = https://origin.example/voice-of-april.mp4
url    = https://fallback.example/voice-of-april.mp4
sha256 = E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855
name   = voice-of-april.mp4
type   = video/mp4
C
cd /
expect_exit 0 "$EMBERD" ls -c "$CONF"
[ -d "$T/store" ] || true
pass "the full example config parses"
