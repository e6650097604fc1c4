# warcio (npm) for the WARC tests, installed once into the build's cache
# folder ($EMBERD_NPM_CACHE) from the npm registry; WARCIO is its folder.
# Two tests beside each other install under one lock.
command -v node >/dev/null || fail "node is not installed (apt-get install nodejs npm)"
command -v npm >/dev/null || fail "npm is not installed (apt-get install npm)"
WARCIO_VERSION=2.4.11
NPM_CACHE=${EMBERD_NPM_CACHE:-$T/npm}
mkdir -p "$NPM_CACHE"
WARCIO="$NPM_CACHE/node_modules/warcio"
(
	flock 9
	if ! grep -q "\"version\": \"$WARCIO_VERSION\"" "$WARCIO/package.json" 2>/dev/null; then
		npm install --silent --no-audit --no-fund --prefix "$NPM_CACHE" \
			"warcio@$WARCIO_VERSION" >&2 || exit 1
	fi
) 9>"$NPM_CACHE/.lock" || fail "npm install warcio@$WARCIO_VERSION failed"
export WARCIO

# warc_check FILE...: one JSON line a record; fails on a bad digest.
warc_check() {
	node "$(dirname "${BASH_SOURCE[0]}")/warc_check.mjs" "$@"
}
