#!/usr/bin/python3
"""chrome_layout.py URL WIDTH PNG: does the page fit a window WIDTH px wide?

Drives Debian's headless chromium over the DevTools protocol (the Chrome
and Session of chrome_play.py): a window WIDTH x 2000 (a phone's
viewport below 600 px), opens URL, waits for the load, saves a
screenshot to PNG, and measures in an isolated world (the page's CSP
allows no script of its own) the document's scrollWidth against the
window's width and the page's lang and dir. Prints them; exits 0 when
nothing is wider than the window, 1 when the page overflows, 2 when
chromium could not be driven.
"""
import asyncio
import base64
import json
import os
import signal
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chrome_play  # noqa: E402
from chrome_play import Chrome, Session, websockets  # noqa: E402

PROBE = """JSON.stringify({
  ready: document.readyState,
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: window.innerWidth,
  lang: document.documentElement.lang,
  dir: document.documentElement.dir,
  widest: (() => { let w = null, m = 0;
    for (const e of document.querySelectorAll('main *')) {
      const r = e.getBoundingClientRect();
      if (r.right > m) { m = r.right; w = e.tagName + '.' + e.className; } }
    return w + ' ' + Math.round(m); })()
})"""


async def measure(port, url, width, png):
    with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port, timeout=10) as r:
        targets = json.load(r)
    page = next(t for t in targets if t.get("type") == "page")
    async with websockets.connect(page["webSocketDebuggerUrl"], max_size=None,
                                  ping_interval=None) as ws:
        s = Session(ws)
        await s.send("Page.enable")
        await s.send("Emulation.setDeviceMetricsOverride", width=width, height=2000,
                     deviceScaleFactor=1, mobile=width < 600)
        tree = await s.send("Page.getFrameTree")
        frame = tree["frameTree"]["frame"]["id"]
        await s.send("Page.navigate", url=url)
        deadline = time.monotonic() + 30
        world, loader, state = None, None, None
        while time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            cur = (await s.send("Page.getFrameTree"))["frameTree"]["frame"]
            if cur.get("loaderId") != loader or world is None:
                loader = cur.get("loaderId")
                w = await s.send("Page.createIsolatedWorld", frameId=frame,
                                 worldName="chrome_layout", grantUniveralAccess=True)
                world = w["executionContextId"]
            try:
                r = await s.send("Runtime.evaluate", expression=PROBE, contextId=world,
                                 returnByValue=True)
            except RuntimeError:
                world = None
                continue
            val = r.get("result", {}).get("value")
            if isinstance(val, str):
                state = json.loads(val)
                if state.get("ready") == "complete" and state.get("lang"):
                    break
        if state is None or state.get("ready") != "complete":
            print("chrome_layout: %s did not load within 30 s: %s" % (url, state))
            return 1
        shot = await s.send("Page.captureScreenshot", format="png")
        with open(png, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        print("chrome_layout: %s at %d px: lang=%s dir=%s scrollWidth=%d innerWidth=%d "
              "widest=%s" % (url, width, state["lang"], state["dir"], state["scrollWidth"],
                             state["innerWidth"], state["widest"]))
        return 0 if state["scrollWidth"] <= width else 1


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: chrome_layout.py URL WIDTH PNG")
    url, width, png = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    c = Chrome()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(3))
    try:
        port = c.start()
        return asyncio.run(asyncio.wait_for(measure(port, url, width, png), 60))
    except (RuntimeError, OSError, asyncio.TimeoutError, StopIteration,
            websockets.exceptions.WebSocketException) as e:
        print("chrome_layout: cannot drive chromium: %s" % (e or type(e).__name__))
        print(c.stderr_tail())
        return 2
    finally:
        c.stop()


if __name__ == "__main__":
    chrome_play  # imported for its Chrome and Session
    sys.exit(main())
