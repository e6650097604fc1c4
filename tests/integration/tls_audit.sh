# emberd run's HTTPS listener audited by testssl.sh (Debian package
# testssl.sh, command `testssl`) with the self-signed certificate emberd
# makes in STORE/tls/, and a catalog, so that `/` is the real index page.
#
# testssl runs protocols (-p), vulnerabilities (-U), server defaults and
# certificate (-S) and server preference (-P: every suite the server
# accepts, in its order); not forward secrecy (-f: a fifth of the audit's
# CPU, and the same question as -P's list: every TLS 1.2 suite there must
# be an ECDHE one, and TLS 1.3's are all forward secret); not the one-by-one
# enumeration of testssl's suites (-E: the same question again), client
# simulations or HTTP headers (other tests check those). It runs in the
# plain build only (tests/meson.build, flag `plain`). Its flat JSON (--jsonfile) is
# read, and the test fails on:
#   - any finding of severity HIGH or CRITICAL, except the three below;
#   - any WARN or FATAL (a check testssl could not carry out is no pass),
#     but a WARN of the session-resumption checks (a speed feature, not a
#     security property; their quick reconnects sometimes fail to connect
#     on a machine just out of the load tests), and the WARN
#     engine_problem ("No engine or GOST support via engine with your
#     /usr/bin/openssl"): a note on testssl's own openssl, which the
#     Debian package writes or not depending on the host's openssl.cnf,
#     not a finding about the server (what the engine would add is the
#     GOST suites, which are not AEAD: were the server to offer one,
#     that would fail the cipher rules below, not this one);
#   - SSLv2, SSLv3, TLS 1.0 or TLS 1.1 anything but "not offered";
#     TLS 1.2 and TLS 1.3 not offered;
#   - TLS compression (CRIME_TLS) anything but "not vulnerable";
#   - client-initiated renegotiation (secure_client_renego) anything but
#     "not vulnerable" (a timeout, "likely not vulnerable", fails too);
#     insecure legacy renegotiation (secure_renego) anything but "supported"
#     (that is the RFC 5746 extension, which emberd's OpenSSL sends; it is
#     the absence of it that is the vulnerability);
#   - a TLS 1.2 suite in the server's order without ECDHE (no forward
#     secrecy); a PFS finding other than "offered", when a report has one;
#   - a cipher in the server's order (any protocol, -P; or listed one
#     by one, -E, when a report has them) that is not AES-GCM or
#     ChaCha20-Poly1305, or no TLS 1.2 or no TLS 1.3 order at all;
#   - the certificate testssl saw not being STORE/tls/cert.pem.
#
# Excluded, and only with exactly the expected finding, because they are
# properties of a self-signed test certificate, not of emberd's TLS:
#   - cert_chain_of_trust CRITICAL "failed (self signed)": no CA signed it;
#     a reader pins it or uses `emberd fetch`, whose trust is the signature.
#   - cert_revocation HIGH "Neither CRL nor OCSP URI provided": with no CA
#     there is nobody to run a CRL or an OCSP responder.
#   - cert_validityPeriod HIGH "<N> days": testssl applies the CA/Browser
#     Forum limit (398 days) for publicly trusted certificates; emberd's
#     self-signed one is made for 10 years (and reused) so that a pinned
#     certificate does not change under its readers. Excluded only while
#     the chain-of-trust finding says "self signed".
# Nothing else is excluded: a configured CA-issued certificate would be
# audited in full. Findings below HIGH do not fail the test; the one that
# shows is BREACH (MEDIUM, "gzip HTTP compression detected" on `/`): the
# index is the same for every reader, holds no secret and reflects nothing
# from the request, which is what BREACH needs.
#
# Since the checker cannot be shown to fail by emberd itself (which has
# none of these faults), it is also run on altered copies of emberd's own
# JSON: each alteration is a finding as testssl 3.0.8 wrote it against a
# permissive `openssl s_server` (TLS 1.0 "offered (deprecated)", a CBC
# suite, "VULNERABLE, DoS threat", ...), and each must be reported.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"
setup_publisher
command -v testssl >/dev/null || fail "testssl is not installed (Debian package testssl.sh)"

mkdir "$T/in"
printf 'Voice of April, verse %d\n' $(seq 1 2000) >"$T/in/song.txt"
head -c 100000 /dev/urandom >"$T/in/clip.mp4"
expect_exit 0 "$EMBERD" add -c "$CONF" "$T/in/song.txt" "$T/in/clip.mp4"
start_server
[ -s "$STORE/tls/cert.pem" ] || server_fail "no STORE/tls/cert.pem"
[ "$(curl_https "$HTTPS_URL/healthz")" = ok ] || server_fail "GET /healthz over TLS"

# testssl's own timeouts keep a stuck handshake from hanging the run;
# `timeout` bounds the whole only against a hang: testssl runs thousands
# of openssl processes, about 30 s on two idle cores, but it took over
# 300 s on two cores shared with the rest of the suite and other builds.
JSON="$T/testssl.json"
t0=$(date +%s)
rc=0
# Every protocol's handshake, forward secrecy, the server's order of
# suites (-P: testssl connects again and again, each time without the
# suite the server chose last, until none is left: every suite the
# server accepts, each checked for AEAD below), the certificate, and
# the vulnerability probes (-U: Heartbleed, CCS, ROBOT, renegotiation,
# compression...). Not -E, the enumeration of each of testssl's ~370
# suites one by one: it asks again what -P answered, in thousands more
# openssl processes (half the audit's time).
checks="-p -U -S -P"
# shellcheck disable=SC2086 # $checks: one flag per word
timeout 780 testssl --warnings off --quiet --color 0 --ip 127.0.0.1 --nodns none \
	--connect-timeout 10 --openssl-timeout 10 \
	$checks --jsonfile "$JSON" "127.0.0.1:$HTTPS_PORT" \
	>"$T/testssl.out" 2>&1 || rc=$?
secs=$(($(date +%s) - t0))
# testssl's status is the sum of its checks' own statuses (one that hit
# a transient socket error adds 1); what decides is the JSON, where a
# check that could not be carried out is a WARN or FATAL finding, which
# fails below. 124 is the bound; 240 and up are testssl's own errors.
if [ "$rc" = 124 ] || [ "$rc" -ge 240 ] || [ ! -s "$JSON" ]; then
	tail -n 40 "$T/testssl.out"
	server_fail "testssl exited with status $rc after $secs s (124: the 780 s bound)"
fi
server_alive
FP=$(openssl x509 -in "$STORE/tls/cert.pem" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d :)

# audit JSON FINGERPRINT: one line per violation on stdout, nothing if clean.
# summary JSON: the table for the README.
cat >"$T/audit.py" <<'PY'
import json, os, re, sys

def load(path):
    return json.load(open(path))

def by_id(findings):
    d = {}
    for f in findings:
        d.setdefault(f["id"], []).append(f)
    return d

AEAD = re.compile(r"(GCM|CHACHA20[-_]POLY1305)")

def audit(findings, fp):
    bad = []
    ids = by_id(findings)
    def one(i):
        fs = ids.get(i)
        if not fs:
            bad.append("%s: missing from the report" % i)
            return None
        return fs[0]["finding"]
    self_signed = any(re.fullmatch(r"failed \(self signed\)\.?", f["finding"])
                      for f in ids.get("cert_chain_of_trust", []))
    excluded = {
        "cert_chain_of_trust": (("CRITICAL",), r"failed \(self signed\)\.?"),
        "cert_revocation": (("HIGH",), r"Neither CRL nor OCSP URI provided"),
    }
    if self_signed:
        excluded["cert_validityPeriod"] = (("HIGH",), r"\d+ days")
    for f in findings:
        sev = f.get("severity", "")
        if sev in ("HIGH", "CRITICAL"):
            ex = excluded.get(f["id"])
            if ex and sev in ex[0] and re.fullmatch(ex[1], f["finding"]):
                continue
            bad.append("%s %s: %s" % (sev, f["id"], f["finding"]))
        elif sev in ("WARN", "FATAL"):
            # Session resumption is speed, not security: its check
            # reconnects in quick succession and, after the load tests,
            # sometimes cannot connect; that is no finding about TLS.
            if sev == "WARN" and f["id"] in ("sessionresumption_ticket", "sessionresumption_ID"):
                continue
            # About testssl's own openssl, not about the server.
            if sev == "WARN" and f["id"] == "engine_problem":
                continue
            bad.append("%s %s: %s (a check testssl could not do)" % (sev, f["id"], f["finding"]))
    for p in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        v = one(p)
        if v is not None and v != "not offered":
            bad.append("%s: %s (want not offered)" % (p, v))
    for p in ("TLS1_2", "TLS1_3"):
        v = one(p)
        if v is not None and not v.startswith("offered"):
            bad.append("%s: %s (want offered)" % (p, v))
    v = one("CRIME_TLS")
    if v is not None and v != "not vulnerable":
        bad.append("CRIME_TLS (TLS compression): %s" % v)
    v = one("secure_client_renego")
    if v is not None and v != "not vulnerable":
        bad.append("secure_client_renego (client-initiated renegotiation): %s" % v)
    v = one("secure_renego")
    if v is not None and v != "supported":
        bad.append("secure_renego (RFC 5746, insecure renegotiation): %s" % v)
    # -f is not run: a PFS finding comes only from a report that has it
    # (and from the mutation below).
    v = ids["PFS"][0]["finding"] if "PFS" in ids else None
    if v is not None and v != "offered":
        bad.append("PFS: %s (want offered)" % v)
    ciphers = [f for f in findings if f["id"].startswith("cipher-tls")]
    for f in ciphers:
        # "TLS 1.2   xc02b   ECDHE-ECDSA-AES128-GCM-SHA256   ECDH 253   AESGCM ..."
        w = f["finding"].split()
        if len(w) < 4 or not AEAD.search(w[3]):
            bad.append("non-AEAD cipher offered: %s" % " ".join(w))
    for i in ("cipherorder_TLSv1_2", "cipherorder_TLSv1_3"):
        for f in ids.get(i, []):
            for name in f["finding"].split():
                if not AEAD.search(name):
                    bad.append("non-AEAD cipher in the server's order (%s): %s" % (i, name))
    for f in ids.get("cipherorder_TLSv1_2", []):
        for name in f["finding"].split():
            if not name.startswith("ECDHE-"):
                bad.append("no forward secrecy: %s in the server's TLS 1.2 order" % name)
    # The server's order of every suite it accepts (-P), checked for
    # AEAD above, must be there for both protocols.
    for p in ("tls1_2", "tls1_3"):
        if not ids.get("cipherorder_TLSv1_%s" % p[-1]):
            bad.append("no server order of %s ciphers in the report" % p)
    v = one("cert_fingerprintSHA256")
    if v is not None and v != fp:
        bad.append("the certificate tested (%s) is not STORE/tls/cert.pem (%s)" % (v, fp))
    return bad

def summary(findings):
    ids = by_id(findings)
    get = lambda i: ids[i][0]["finding"] if i in ids else "?"
    def suites(p):
        # In the server's order of preference (-P), else as -E listed them.
        order = ids.get("cipherorder_TLSv%s" % p[3:])
        if order:
            return order[0]["finding"]
        return " ".join(f["finding"].split()[3] for f in findings
                        if f["id"].startswith("cipher-%s_" % p))
    rows = [
        ("SSLv2 / SSLv3", "%s / %s" % (get("SSLv2"), get("SSLv3"))),
        ("TLS 1.0 / 1.1", "%s / %s" % (get("TLS1"), get("TLS1_1"))),
        ("TLS 1.2 / 1.3", "%s / %s" % (get("TLS1_2"), get("TLS1_3"))),
        ("TLS 1.2 suites (server order)", suites("tls1_2")),
        ("TLS 1.3 suites (server order)", suites("tls1_3")),
        ("forward secrecy", "every TLS 1.2 suite ECDHE: %s" % all(
            n.startswith("ECDHE-") for f in ids.get("cipherorder_TLSv1_2", [])
            for n in f["finding"].split())),
        ("server cipher order", get("cipher_order")),
        ("certificate", "%s, %s" % (get("cert_keySize"), get("cert_signatureAlgorithm"))),
    ]
    vulns = ["heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_renego",
             "secure_client_renego", "CRIME_TLS", "BREACH", "POODLE_SSL",
             "fallback_SCSV", "SWEET32", "FREAK", "DROWN", "LOGJAM", "BEAST",
             "LUCKY13", "RC4"]
    rows += [(v, get(v)) for v in vulns]
    rows = [("check", "testssl %s" % VERSION)] + rows
    w = max(len(r[0]) for r in rows)
    v = max(len(r[1]) for r in rows)
    for n, (a, b) in enumerate(rows):
        print("| %-*s | %-*s |" % (w, a, v, b))
        if n == 0:
            print("|%s|%s|" % ("-" * (w + 2), "-" * (v + 2)))

if __name__ == "__main__":
    findings = load(sys.argv[2])
    VERSION = sys.argv[3] if sys.argv[1] == "summary" else ""
    if sys.argv[1] == "audit":
        for b in audit(findings, sys.argv[3]):
            print(b)
    elif sys.argv[1] == "summary":
        summary(findings)
    elif sys.argv[1] == "mutate":
        # mutate JSON OUT ID SEVERITY FINDING: set (or add) a finding.
        i, sev, text = sys.argv[4], sys.argv[5], sys.argv[6]
        hit = False
        for f in findings:
            if f["id"] == i:
                f["severity"], f["finding"], hit = sev, text, True
        if not hit:
            findings.append({"id": i, "severity": sev, "finding": text})
        json.dump(findings, open(sys.argv[3], "w"))
PY

python3 "$T/audit.py" audit "$JSON" "$FP" >"$T/violations" || fail "the audit script failed"
if [ -s "$T/violations" ]; then
	cat "$T/violations"
	server_fail "testssl found $(wc -l <"$T/violations") problem(s) (above)"
fi
# The report is the one expected: the exclusions really were needed (and
# so are known to match), and ciphers were listed.
grep -q '"cert_chain_of_trust"' "$JSON" || fail "no cert_chain_of_trust in the report"
pass "testssl ($secs s): only TLS 1.2/1.3, AEAD suites with forward secrecy, no compression, no client renegotiation, no HIGH/CRITICAL finding but the self-signed certificate's"

# --- the checker fails on each fault, as testssl words it.
mutant() {	# mutant ID SEVERITY FINDING EXPECTED-REGEX
	python3 "$T/audit.py" mutate "$JSON" "$T/m.json" "$1" "$2" "$3"
	python3 "$T/audit.py" audit "$T/m.json" "$FP" >"$T/mv"
	grep -qE -- "$4" "$T/mv" || { cat "$T/mv"; fail "the audit missed $1 = $3"; }
}
mutant TLS1 LOW "offered (deprecated)" '^TLS1: offered'
mutant TLS1_1 LOW "offered (deprecated)" '^TLS1_1: offered'
mutant SSLv3 CRITICAL "offered" '^CRITICAL SSLv3'
mutant TLS1_3 INFO "not offered" '^TLS1_3: not offered'
mutant CRIME_TLS HIGH "VULNERABLE" '^CRIME_TLS \(TLS compression\): VULNERABLE'
mutant secure_client_renego HIGH "VULNERABLE, DoS threat" '^secure_client_renego .*VULNERABLE'
mutant secure_client_renego MEDIUM "VULNERABLE, potential DoS threat" '^secure_client_renego .*VULNERABLE'
mutant secure_client_renego OK "likely not vulnerable (timed out)" '^secure_client_renego .*timed out'
mutant secure_renego CRITICAL "VULNERABLE" '^CRITICAL secure_renego'
mutant PFS MEDIUM "not offered" '^PFS: not offered'
mutant cipherorder_TLSv1_2 INFO "ECDHE-ECDSA-AES128-GCM-SHA256 AES128-GCM-SHA256" \
	"^no forward secrecy: AES128-GCM-SHA256 in the server's TLS 1.2 order"
mutant cipher-tls1_2_xc009 INFO \
	"TLS 1.2   xc009   ECDHE-ECDSA-AES128-SHA            ECDH 253   AES         128      TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" \
	'^non-AEAD cipher offered: .*ECDHE-ECDSA-AES128-SHA '
mutant cipher-tls1_2_xc0ac INFO \
	"TLS 1.2   xc0ac   ECDHE-ECDSA-AES128-CCM            ECDH 253   AESCCM      128      TLS_ECDHE_ECDSA_WITH_AES_128_CCM" \
	'^non-AEAD cipher offered: .*ECDHE-ECDSA-AES128-CCM '
mutant cert_chain_of_trust CRITICAL "failed (expired)." '^CRITICAL cert_chain_of_trust'
mutant cert_revocation HIGH "revoked" '^HIGH cert_revocation'
mutant cipher_order HIGH "NOT a cipher order configured" '^HIGH cipher_order'
mutant cipherorder_TLSv1_2 INFO "ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES128-SHA256" \
	"^non-AEAD cipher in the server's order .*ECDHE-ECDSA-AES128-SHA256"
mutant BREACH WARN "Test failed as HTTP response was empty" '^WARN BREACH'
mutant cert_fingerprintSHA256 INFO "00" 'is not STORE/tls/cert.pem'
mutant scanProblem WARN "Could not determine the protocol, only simulating" '^WARN scanProblem'
# A note on testssl's own openssl is no finding about the server.
python3 "$T/audit.py" mutate "$JSON" "$T/m.json" engine_problem WARN \
	"No engine or GOST support via engine with your /usr/bin/openssl"
python3 "$T/audit.py" audit "$T/m.json" "$FP" >"$T/mv"
[ ! -s "$T/mv" ] || { cat "$T/mv"; fail "the audit took testssl's engine_problem for a finding"; }
# With the chain of trust not self-signed, a long validity is no longer excused.
python3 "$T/audit.py" mutate "$JSON" "$T/m0.json" cert_chain_of_trust OK "passed."
python3 "$T/audit.py" mutate "$T/m0.json" "$T/m.json" cert_validityPeriod HIGH "3653 days"
python3 "$T/audit.py" audit "$T/m.json" "$FP" | grep -q '^HIGH cert_validityPeriod' ||
	fail "a 10-year CA-issued certificate was excused"
pass "the audit reports each fault: old protocols, CBC/CCM suites, compression, renegotiation, no FS, WARN, HIGH/CRITICAL"

python3 "$T/audit.py" summary "$JSON" "$(testssl --version 2>/dev/null | sed -n 's/^ *testssl  *\([0-9][^ ]*\).*/\1/p' | head -n 1)"
stop_server
