#!/usr/bin/python3
"""export_readers.py URL PUBKEY CLIENTS REFRESHES CMD...: readers of a
static export while it is refreshed.

CLIENTS threads each loop: fetch catalog.json.minisig and catalog.json
from URL, check the pair with minisign against PUBKEY (a pair taken in
the instant between the two renames of a refresh does not verify: the
reader takes the pair again, as a careful client does, and it is
counted), then fetch every item's files/NAME and check its size and
SHA-256 against the verified catalog. Meanwhile the script runs
`CMD... I` for I = 1..REFRESHES (each refreshes the export); before
each, every reader must have finished a whole round begun after the
previous refresh ended, so that no reader holds a catalog older than
the one before the current. Any HTTP error, short file or wrong hash is
a failure: exit 1 with what and where. Exit 0 prints the totals.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

url, pubkey, clients, refreshes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
cmd = sys.argv[5:]
tmp = tempfile.mkdtemp()
lock = threading.Lock()
stop = threading.Event()
errors = []
rounds = [0] * clients
files_ok = [0] * clients
retries = [0] * clients
seqs = set()


def get(path):
    with urllib.request.urlopen(url + "/" + path, timeout=60) as r:
        return r.read()


def verified_catalog(i):
    for attempt in range(50):
        sig = get("catalog.json.minisig")
        cat = get("catalog.json")
        c, s = os.path.join(tmp, f"c{i}"), os.path.join(tmp, f"c{i}.minisig")
        with open(c, "wb") as f:
            f.write(cat)
        with open(s, "wb") as f:
            f.write(sig)
        r = subprocess.run(["minisign", "-Vq", "-m", c, "-x", s, "-P", pubkey],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode == 0:
            return json.loads(cat)
        retries[i] += 1
    raise RuntimeError("no verifying catalog/signature pair in 50 tries")


def reader(i):
    while not stop.is_set():
        try:
            cat = verified_catalog(i)
            with lock:
                seqs.add(cat["sequence"])
            for it in cat["items"]:
                data = get("files/" + urllib.parse.quote(it["name"]))
                if len(data) != it["size"] or hashlib.sha256(data).hexdigest() != it["sha256"]:
                    raise RuntimeError(f"files/{it['name']}: {len(data)} bytes, not the "
                                       f"verified {it['size']} bytes of {it['sha256'][:12]}")
                files_ok[i] += 1
        except Exception as e:  # noqa: BLE001 - every failure is the finding
            with lock:
                errors.append(f"reader {i}: {e}")
            stop.set()
            return
        rounds[i] += 1


threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(clients)]
for t in threads:
    t.start()
for n in range(1, refreshes + 1):
    # Every reader finishes a round begun after the last refresh ended.
    base = [r + 1 for r in rounds]
    deadline = time.monotonic() + 120
    while any(r < b for r, b in zip(rounds, base)) and not stop.is_set():
        if time.monotonic() > deadline:
            errors.append("readers made no progress in 120 s")
            stop.set()
        time.sleep(0.02)
    if stop.is_set():
        break
    r = subprocess.run(cmd + [str(n)])
    if r.returncode != 0:
        errors.append(f"refresh {n} failed: exit {r.returncode}")
        stop.set()
        break
base = [r + 1 for r in rounds]
deadline = time.monotonic() + 120
while any(r < b for r, b in zip(rounds, base)) and not stop.is_set() and time.monotonic() < deadline:
    time.sleep(0.02)
stop.set()
for t in threads:
    t.join(90)
if errors:
    print("\n".join(errors[:10]))
    sys.exit(1)
print(f"{clients} readers, {sum(rounds)} rounds, {sum(files_ok)} files verified, "
      f"catalog sequences seen {sorted(seqs)}, {sum(retries)} catalog/signature pairs "
      f"taken again")
