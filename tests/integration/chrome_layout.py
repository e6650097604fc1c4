#!/usr/bin/python3
"""chrome_layout.py URL WIDTH PNG: does the page fit a window WIDTH px wide?

Drives Debian's headless chromium over the DevTools protocol (with
chrome_play.py's helpers): a window WIDTH x 2000 (a phone's
viewport below 600 px), opens URL, waits for the load, saves a
screenshot to PNG, and measures in an isolated world (the page's CSP
allows no script of its own) the document's scrollWidth against the
window's width and the page's lang and dir. Prints them; exits 0 when
nothing is wider than the window, 1 when the page overflows, 2 when
chromium could not be driven.
"""
import base64
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chrome_play import Session, drive, navigate_and_probe, page_session  # noqa: E402

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
    async with await page_session(port) as ws:
        s = Session(ws)
        await s.send("Emulation.setDeviceMetricsOverride", width=width, height=2000,
                     deviceScaleFactor=1, mobile=width < 600)
        state = await navigate_and_probe(
            s, url, PROBE, lambda st: st.get("ready") == "complete" and st.get("lang"),
            30, "chrome_layout")
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
    return drive("chrome_layout", lambda port: measure(port, url, width, png), 60)


if __name__ == "__main__":
    sys.exit(main())
