#!/usr/bin/env python3
"""Make the demo content in config/demo/: a short generated melody (WAV),
a text and a small HTML page. Everything is synthesised here, so the demo
carries no third-party media. Deterministic: the same bytes every run."""
import math
import os
import struct
import wave

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "config", "demo")
os.makedirs(out, exist_ok=True)

# A few bars of a plain tune, 8-bit mono at 11025 Hz (~40 KB).
rate = 11025
notes = [(392, .4), (440, .4), (494, .4), (523, .8), (494, .4), (440, .4),
         (392, .8), (330, .4), (392, .4), (440, 1.2)]
frames = bytearray()
for freq, dur in notes:
    n = int(rate * dur)
    for i in range(n):
        env = min(1.0, i / 200, (n - i) / 400)
        s = math.sin(2 * math.pi * freq * i / rate) + .3 * math.sin(4 * math.pi * freq * i / rate)
        frames.append(int(128 + 90 * env * s / 1.3))
with wave.open(os.path.join(out, "april-song.wav"), "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(1)
    w.setframerate(rate)
    w.writeframes(bytes(frames))

text = """Statement of the April assembly

On the first day of April, ten thousand people filled the square and
stayed until morning. Nobody was hurt, nothing was broken, and everybody
sang. The recordings of that night were removed from every platform in
the country within a week.

This text, the song beside it and every other item in this archive are
kept by people who believe that what happened should be remembered as it
happened. Each copy carries its SHA-256 and the catalog is signed: check
both before you trust what you read, wherever you got it.
"""
with open(os.path.join(out, "statement.txt"), "w", encoding="utf-8") as f:
    f.write(text)

html = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>April assembly</title></head>
<body>
<h1>April assembly</h1>
<p>A page as it was published. Mirrors serve it sandboxed: any script in
mirrored HTML cannot run on the mirror's origin.</p>
<script>document.title = "this script must not run on a mirror";</script>
</body></html>
"""
with open(os.path.join(out, "assembly.html"), "w", encoding="utf-8") as f:
    f.write(html)
