// Read every record of the WARC files given with warcio's parser, check
// each record's block digest (and payload digest, when present) over the
// bytes warcio hands back, and print one JSON line a record: type, target
// URI, status line, the SHA-256 of its HTTP payload (or block). Exit 1 on
// a digest that does not match. wget writes sha1 base32 digests: those
// are checked as sha1, the summary's sha256 is computed for both.
import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
// WARCIO: the installed package's folder (ESM ignores NODE_PATH).
const { WARCParser } = await import(`${process.env.WARCIO}/dist/index.js`);

const b32 = (buf) => {
	const a = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
	let bits = 0, v = 0, s = '';
	for (const x of buf) { v = (v << 8) | x; bits += 8; while (bits >= 5) { s += a[(v >>> (bits - 5)) & 31]; bits -= 5; } }
	if (bits > 0) s += a[(v << (5 - bits)) & 31];
	return s;
};
const check = (want, bytes, what) => {
	if (!want) return true;
	const i = want.indexOf(':');
	const algo = want.slice(0, i).toLowerCase(), val = want.slice(i + 1);
	const h = createHash(algo === 'sha1' ? 'sha1' : 'sha256').update(bytes).digest();
	const ok = val === h.toString('hex') || val === b32(h);
	if (!ok) { console.error(`${what}: digest ${want} does not match`); }
	return ok;
};
let bad = 0;
for (const f of process.argv.slice(2)) {
	// The block whole (no HTTP parsing): its digest is over these bytes;
	// the HTTP head and payload are split here as an archivist's tool does.
	const parser = new WARCParser(createReadStream(f), { parseHttp: false });
	for await (const rec of parser) {
		const block = Buffer.from(await rec.readFully(false));
		const type = rec.warcType, uri = rec.warcTargetURI;
		const http = (rec.warcContentType || '').startsWith('application/http');
		let payload = block, status = null;
		if (http) {
			const e = block.indexOf('\r\n\r\n');
			if (e < 0) { console.error(`${f} ${type} ${uri}: no HTTP head`); bad++; continue; }
			status = block.subarray(0, block.indexOf('\r\n')).toString();
			payload = block.subarray(e + 4);
		}
		if (block.length !== rec.warcContentLength) { console.error(`${f} ${type} ${uri}: length`); bad++; }
		if (!check(rec.warcBlockDigest, block, `${f} ${type} ${uri} block`)) bad++;
		const pd = rec.warcPayloadDigest;
		if (pd && type !== 'revisit' && !check(pd, payload, `${f} ${type} ${uri} payload`)) bad++;
		console.log(JSON.stringify({ file: f, type, uri, status,
			sha256: createHash('sha256').update(payload).digest('hex'),
			payload_digest: pd || null, block_digest: rec.warcBlockDigest || null,
			length: rec.warcContentLength,
			refers_to: rec.warcHeader('WARC-Refers-To') || null,
			concurrent: rec.warcHeader('WARC-Concurrent-To') || null,
			truncated: rec.warcHeader('WARC-Truncated') || null,
			id: rec.warcHeader('WARC-Record-ID'), ip: rec.warcHeader('WARC-IP-Address') || null,
			content_type: rec.warcContentType }));
	}
}
process.exit(bad ? 1 : 0);
