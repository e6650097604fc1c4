# Shared by scripts/run and scripts/test: install missing Debian packages
# (apt-get update once, only when something is missing) and build.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# What building emberd needs: libxml2 reads pages and feeds; libavformat
# (optional feature `remux`) turns HLS captures into MP4.
PKGS_BUILD="gcc meson ninja-build pkg-config libevent-dev libcurl4-openssl-dev
 libssl-dev zlib1g-dev libjansson-dev libinih-dev openssl ca-certificates
 libxml2-dev libavformat-dev libavcodec-dev libavutil-dev libnghttp2-dev"
# What the test suite drives: real clients and tools, and clang's fuzzer.
# microsocks and tinyproxy: the crawler is tested through real SOCKS5 and HTTP proxies.
# aria2 and transmission-cli: Metalink and BitTorrent web-seed clients;
# wrk: load; testssl.sh: the TLS audit; systemd: systemd-analyze verify
# of the shipped unit; passwd: useradd for the privilege-drop test;
# ffmpeg (ffmpeg, ffprobe): the media tests make their clips and HLS
# streams and probe the captures; yt-dlp: the real resolver;
# python3-websockets: chrome_play.py drives chromium over DevTools;
# python3-feedparser: reads /feed.xml as feed readers do; tor: a private
# Tor network for the onion service test; fonts-noto-cjk: the index page
# in Chinese is screenshot-tested; nginx: the static host that serves
# an export; nodejs, npm: warcio (from npm) reads the WARC exports back.
PKGS_TEST="python3 minisign curl clang libclang-rt-14-dev time util-linux chromium
 python3-feedparser microsocks tinyproxy aria2 transmission-cli libxml2-dev wrk testssl.sh systemd passwd mandoc wget
 ffmpeg yt-dlp python3-websockets tor fonts-noto-cjk nginx nodejs npm nghttp2-client python3-h2"

# pebble (Let's Encrypt's test CA, with pebble-challtestsrv for DNS) and
# certbot: the ACME tests.
PKGS_TEST="$PKGS_TEST pebble certbot"

as_root() {
	if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

install_missing() {
	local missing=() p
	for p in "$@"; do
		# npm may come with another build of node (NodeSource's nodejs
		# bundles it and conflicts with Debian's npm): the command is
		# what the tests need.
		[ "$p" = npm ] && command -v npm >/dev/null && continue
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "emberd: installing ${missing[*]}" >&2
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >/dev/null
}

# build DIR [meson options...]: configure once, then (re)build.
build() {
	local dir=$1
	shift
	if [ ! -f "$ROOT/$dir/build.ninja" ]; then
		meson setup "$ROOT/$dir" "$ROOT" "$@" >/dev/null
	else
		meson configure "$ROOT/$dir" "$@" >/dev/null
	fi
	ninja -C "$ROOT/$dir" >/dev/null
}
