#!/usr/bin/python3
"""chrome_play.py URL [SECONDS]: does a real browser play the page's video?

Starts Debian's headless chromium with a fresh profile, drives it over the
DevTools protocol, opens URL, takes the first <video> of the page (a page
without one: its first <audio>), calls play() while it is paused, and
exits 0 as soon as its currentTime passes 1.0 s. A media URL opened
directly becomes Chromium's own media document, whose player does not load
under the mirror's Content-Security-Policy: sandbox: a <video src=URL>
takes that player's place. After SECONDS (30) without playing, it prints
the element's state (error code and message, networkState, readyState,
currentSrc, paused, currentTime) and exits 1. Exit 2: chromium could not be driven at all.

The page's own scripts may be disabled (the mirror serves HTML with
Content-Security-Policy: sandbox): the probe runs in an isolated world of
its own, which the page's CSP does not govern.

Chromium and every helper it starts (zygote, renderer, GPU, utility) are
killed at exit: the browser, then any process still holding our profile
folder, by id. They stay in the caller's process group and the browser
gets SIGKILL when this script dies, so a test's timeout takes them too.
"""
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

try:
    import websockets
except ImportError:
    # python3-websockets is Debian's: another interpreter first in PATH
    # (a pyenv shim) does not have it.
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.exit("chrome_play: python3-websockets is not installed")

PROBE = r"""
(function () {
	if (!/html/.test(document.contentType) && document.body && !window.__chromePlayOwn) {
		var own = document.createElement('video');
		own.muted = true;
		own.src = location.href;
		document.body.textContent = '';
		document.body.appendChild(own);
		window.__chromePlayOwn = true;
	}
	var v = document.querySelector('video') || document.querySelector('audio');
	if (!v)
		return JSON.stringify({found: false, ready: document.readyState, url: location.href,
			contentType: document.contentType});
	if (v.paused && !v.ended) {
		v.muted = true;
		try {
			var p = v.play();
			if (p && p.catch)
				p.catch(function (e) { window.__playError = String(e); });
		} catch (e) { window.__playError = String(e); }
	}
	return JSON.stringify({found: true, tag: v.tagName.toLowerCase(),
		currentTime: v.currentTime, duration: v.duration, paused: v.paused,
		ended: v.ended, networkState: v.networkState, readyState: v.readyState,
		currentSrc: v.currentSrc,
		error: v.error ? {code: v.error.code, message: v.error.message} : null,
		playError: window.__playError || null});
})()
"""


def die_with_parent():
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Chrome:
    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="chrome-play-")
        self.profile = os.path.join(self.base, "profile")
        self.errpath = os.path.join(self.base, "chromium.err")
        self.proc = None

    def start(self):
        args = [
            "chromium", "--headless", "--no-sandbox", "--disable-gpu",
            "--autoplay-policy=no-user-gesture-required",
            "--ignore-certificate-errors", "--mute-audio",
            "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-quic",
            "--remote-debugging-port=0", "--remote-allow-origins=*",
            "--user-data-dir=" + self.profile, "about:blank",
        ]
        self.err = open(self.errpath, "wb")
        # Chromium stays in our process group, so whoever kills the group
        # (a test's timeout) kills it too; and it dies with us.
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.err,
                                     preexec_fn=die_with_parent)
        portfile = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("chromium exited with status %d at start" % self.proc.returncode)
            try:
                with open(portfile) as f:
                    lines = f.read().split("\n")
                if len(lines) >= 2 and lines[0].strip() and lines[1].strip():
                    return int(lines[0])
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("chromium wrote no DevToolsActivePort within 20 s")

    def stop(self):
        if self.proc is not None:
            try:
                self.proc.kill()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        # Helpers that left the group: whatever runs with our profile.
        mark = ("--user-data-dir=" + self.profile).encode()
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    if mark in f.read().split(b"\0"):
                        os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
        if getattr(self, "err", None):
            self.err.close()
        shutil.rmtree(self.base, ignore_errors=True)

    def stderr_tail(self):
        try:
            with open(self.errpath, "rb") as f:
                return b"\n".join(f.read().splitlines()[-10:]).decode("utf-8", "replace")
        except OSError:
            return ""


class Session:
    """One DevTools connection to a page target: send() waits for the
    answer of its own id; events are dropped, except the ones kept."""

    def __init__(self, ws):
        self.ws = ws
        self.next = 0
        self.contexts = []

    async def send(self, method, **params):
        self.next += 1
        mid = self.next
        await self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            msg = json.loads(await self.ws.recv())
            if msg.get("method") == "Runtime.executionContextCreated":
                self.contexts.append(msg["params"]["context"])
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"].get("message")))
                return msg.get("result", {})


async def page_session(port):
    """The websocket of chromium's first page target."""
    with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10) as r:
        targets = json.load(r)
    page = next(t for t in targets if t.get("type") == "page")
    return websockets.connect(page["webSocketDebuggerUrl"], max_size=None,
                              ping_interval=None)


async def navigate_and_probe(s, url, probe, done, seconds, world_name, **evaluate):
    """Open URL and evaluate PROBE (an expression giving a JSON string)
    in an isolated world every 0.25 s until DONE(state) or SECONDS pass;
    the last state, or None."""
    await s.send("Page.enable")
    tree = await s.send("Page.getFrameTree")
    frame = tree["frameTree"]["frame"]["id"]
    await s.send("Page.navigate", url=url)
    deadline = time.monotonic() + seconds
    state, world, loader = None, None, None
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        # A navigation replaces the frame's document, and with it any
        # isolated world made for the old one.
        cur = (await s.send("Page.getFrameTree"))["frameTree"]["frame"]
        if cur.get("loaderId") != loader or world is None:
            loader = cur.get("loaderId")
            w = await s.send("Page.createIsolatedWorld", frameId=frame,
                             worldName=world_name, grantUniveralAccess=True)
            world = w["executionContextId"]
        try:
            r = await s.send("Runtime.evaluate", expression=probe, contextId=world,
                             returnByValue=True, **evaluate)
        except RuntimeError:
            world = None
            continue
        val = r.get("result", {}).get("value")
        if not isinstance(val, str):
            continue
        state = json.loads(val)
        if done(state):
            break
    return state


async def play(port, url, seconds):
    async with await page_session(port) as ws:
        s = Session(ws)
        state = await navigate_and_probe(
            s, url, PROBE, lambda st: st.get("found") and (st.get("currentTime") or 0) > 1.0,
            seconds, "chrome_play", userGesture=True)
        if state and state.get("found") and (state.get("currentTime") or 0) > 1.0:
            print("chrome_play: %s plays: currentTime %.2f s of %s (%s)" % (
                state["tag"], state["currentTime"], state.get("duration"), state["currentSrc"]))
            return 0
        print("chrome_play: %s did not play within %d s; last state: %s" % (
            url, seconds, json.dumps(state)))
        return 1


def drive(name, run, seconds):
    """Start chromium, run RUN(port) (a coroutine function) bounded by
    SECONDS, stop chromium: RUN's exit status, or 2 when chromium could
    not be driven."""
    c = Chrome()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(3))
    try:
        port = c.start()
        return asyncio.run(asyncio.wait_for(run(port), seconds))
    except (RuntimeError, OSError, asyncio.TimeoutError, StopIteration,
            websockets.exceptions.WebSocketException) as e:
        print("%s: cannot drive chromium: %s" % (name, e or type(e).__name__))
        print(c.stderr_tail())
        return 2
    finally:
        c.stop()


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: chrome_play.py URL [SECONDS]")
    url = sys.argv[1]
    seconds = int(sys.argv[2]) if len(sys.argv) == 3 else 30
    return drive("chrome_play", lambda port: play(port, url, seconds), seconds + 30)


if __name__ == "__main__":
    sys.exit(main())
