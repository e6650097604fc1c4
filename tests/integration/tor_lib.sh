# A private Tor network on loopback, made with Debian's tor and
# tor-gencert (TestingTorNetwork 1, after the shape of Tor's own test
# networks): three directory authorities, three relays, one tor that
# hosts two onion services, one client with a SOCKS port. Nothing leaves
# the machine: every tor knows only these authorities.
#
#   tor_network_start PORT1 PORT2   onion service 1 -> 127.0.0.1:PORT1,
#                                   2 -> 127.0.0.1:PORT2 (port 80 each);
#                                   waits, bounded, until the client has
#                                   bootstrapped; sets TOR_SOCKS (the
#                                   client's SOCKS port), ONION1, ONION2
#   tor_wait_onion URL [SECONDS]    poll URL through the client until it
#                                   answers 200 (the service's descriptor
#                                   is published and reachable)
# The tor processes are registered with server_lib's bg, so they are
# killed at exit. Sourced after lib.sh and server_lib.sh.

TOR_DIR="$T/tor"

tor_common() {	# tor_common DIR NICK: what every tor of the network says
	cat <<C
TestingTorNetwork 1
AssumeReachable 1
PathsNeededToBuildCircuits 0.25
TestingDirAuthVoteExit *
TestingDirAuthVoteGuard *
TestingDirAuthVoteHSDir *
TestingMinExitFlagThreshold 0
V3AuthNIntervalsValid 2
DataDirectory $1
RunAsDaemon 0
Nickname $2
ShutdownWaitLength 0
Log notice file $1/notice.log
SafeLogging 0
$TOR_DIRAUTH
C
}

tor_network_start() {
	local svc1=$1 svc2=$2 i d op dp v3 fp t
	command -v tor >/dev/null && command -v tor-gencert >/dev/null ||
		fail "tor is not installed (apt-get install tor)"
	mkdir -p "$TOR_DIR"
	TOR_DIRAUTH=
	for i in 1 2 3; do
		d="$TOR_DIR/auth$i"
		mkdir -p "$d/keys"
		chmod 700 "$d"
		op=$(free_port)
		dp=$(free_port)
		echo "$op $dp" >"$d/ports"
		(cd "$d/keys" && echo "" | tor-gencert --create-identity-key --passphrase-fd 0 \
			-i authority_identity_key -s authority_signing_key \
			-c authority_certificate -m 12 -a "127.0.0.1:$dp" >"$d/gencert.log" 2>&1) ||
			{ cat "$d/gencert.log"; fail "tor-gencert failed"; }
		v3=$(awk '$1 == "fingerprint" { print $2 }' "$d/keys/authority_certificate")
		tor --quiet --list-fingerprint --orport 1 \
			--dirserver "x 127.0.0.1:1 ffffffffffffffffffffffffffffffffffffffff" \
			--datadirectory "$d" >/dev/null 2>&1 || true
		fp=$(awk '{ print $2 }' "$d/fingerprint" 2>/dev/null || true)
		[ -n "$v3" ] && [ -n "$fp" ] || fail "no fingerprints for tor authority $i"
		TOR_DIRAUTH+="DirAuthority auth$i orport=$op no-v2 v3ident=$v3 127.0.0.1:$dp $fp"$'\n'
	done
	for i in 1 2 3; do
		d="$TOR_DIR/auth$i"
		read -r op dp <"$d/ports"
		{
			tor_common "$d" "auth$i"
			# Votes every 10 s (5 s for the first), as fast as tor
			# allows, so that the first consensus comes in seconds.
			printf 'SocksPort 0\nOrPort %s\nAddress 127.0.0.1\nDirPort %s\n' "$op" "$dp"
			printf 'AuthoritativeDirectory 1\nV3AuthoritativeDirectory 1\nContactInfo auth%s@test.invalid\nExitPolicy reject *:*\n' "$i"
			printf 'TestingV3AuthInitialVotingInterval 5\nV3AuthVotingInterval 10\n'
			printf 'TestingV3AuthInitialVoteDelay 2\nV3AuthVoteDelay 2\nTestingV3AuthInitialDistDelay 2\nV3AuthDistDelay 2\n'
		} >"$d/torrc"
	done
	for i in 1 2 3; do
		d="$TOR_DIR/relay$i"
		mkdir -p "$d"
		chmod 700 "$d"
		{
			tor_common "$d" "relay$i"
			printf 'SocksPort 0\nOrPort %s\nAddress 127.0.0.1\nDirPort %s\nExitPolicy reject *:*\n' \
				"$(free_port)" "$(free_port)"
		} >"$d/torrc"
	done
	d="$TOR_DIR/hs"
	mkdir -p "$d/svc1" "$d/svc2"
	chmod 700 "$d" "$d/svc1" "$d/svc2"
	{
		tor_common "$d" hs
		printf 'SocksPort 0\n'
		printf 'HiddenServiceDir %s/svc1\nHiddenServicePort 80 127.0.0.1:%s\n' "$d" "$svc1"
		printf 'HiddenServiceDir %s/svc2\nHiddenServicePort 80 127.0.0.1:%s\n' "$d" "$svc2"
	} >"$d/torrc"
	d="$TOR_DIR/client"
	mkdir -p "$d"
	chmod 700 "$d"
	TOR_SOCKS=$(free_port)
	{ tor_common "$d" client; printf 'SocksPort 127.0.0.1:%s\n' "$TOR_SOCKS"; } >"$d/torrc"
	for t in "$TOR_DIR"/*/torrc; do
		tor -f "$t" --quiet >"${t%torrc}stdout.log" 2>&1 &
		bg $!
	done
	for _ in $(seq 1 1200); do
		grep -q "Bootstrapped 100%" "$TOR_DIR/client/notice.log" 2>/dev/null &&
			[ -s "$TOR_DIR/hs/svc1/hostname" ] && [ -s "$TOR_DIR/hs/svc2/hostname" ] && break
		sleep 0.1
	done
	grep -q "Bootstrapped 100%" "$TOR_DIR/client/notice.log" 2>/dev/null || {
		tail -n 20 "$TOR_DIR"/client/notice.log "$TOR_DIR"/auth1/notice.log 2>/dev/null
		fail "the private Tor network did not bootstrap within 120 s"
	}
	ONION1=$(cat "$TOR_DIR/hs/svc1/hostname")
	ONION2=$(cat "$TOR_DIR/hs/svc2/hostname")
	export TOR_SOCKS ONION1 ONION2
}

tor_wait_onion() {
	local url=$1 secs=${2:-180} i code
	for i in $(seq 1 "$secs"); do
		code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 20 \
			--socks5-hostname "127.0.0.1:$TOR_SOCKS" "$url" 2>/dev/null || true)
		[ "$code" = 200 ] && return 0
		sleep 1
	done
	tail -n 20 "$TOR_DIR/hs/notice.log" "$TOR_DIR/client/notice.log" 2>/dev/null
	fail "$url did not answer through the private Tor network within $secs tries"
}
