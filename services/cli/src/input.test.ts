import assert from "node:assert/strict";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { test } from "node:test";
import fc from "fast-check";
import { forEachLine } from "./input.js";

/** What readline (which `postwatch replay` used before) yields for the same chunks. */
async function readlineLines(chunks: readonly Buffer[]): Promise<string[]> {
  const lines: string[] = [];
  const input = Readable.from(chunks, { objectMode: false });
  for await (const line of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) lines.push(line);
  return lines;
}

async function ourLines(chunks: readonly Buffer[]): Promise<string[]> {
  const lines: string[] = [];
  await forEachLine(Readable.from(chunks, { objectMode: false }), (line) => lines.push(line));
  return lines;
}

/** Splits `bytes` at the given offsets, so lines, CR LF pairs and UTF-8 characters straddle chunks. */
function chunked(bytes: Buffer, cuts: readonly number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const cut of [...at, bytes.length]) {
    if (cut > start) chunks.push(bytes.subarray(start, cut));
    start = Math.max(start, cut);
  }
  return chunks;
}

test("forEachLine splits as readline does: LF, CR LF, lone CR, no final newline, UTF-8 across chunks", async () => {
  const pieces = fc.constantFrom(
    "a",
    "postfix/smtpd[1]: x",
    "é",
    "€",
    "😀",
    "\n",
    "\r\n",
    "\r",
    "\n\n",
    " ",
    "",
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(pieces, { maxLength: 30 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      async (parts, cuts) => {
        const bytes = Buffer.from(parts.join(""), "utf8");
        const chunks = chunked(bytes, cuts);
        assert.deepEqual(await ourLines(chunks), await readlineLines(chunks), JSON.stringify(parts.join("")));
      },
    ),
    { numRuns: 2_000 },
  );
});
