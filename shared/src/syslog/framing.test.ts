import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SyslogFramer } from "./framing.js";

const framer = (maxFrameBytes = 1024) => new SyslogFramer({ maxFrameBytes });
const text = (frames: Buffer[]) => frames.map((f) => f.toString("utf8"));

describe("SyslogFramer", () => {
  it("splits LF-framed messages and keeps a partial line for the next chunk", () => {
    const f = framer();
    assert.deepEqual(text(f.push(Buffer.from("<22>one\n<22>tw")).frames), ["<22>one"]);
    assert.deepEqual(text(f.push(Buffer.from("o\n")).frames), ["<22>two"]);
    assert.equal(f.pendingBytes, 0);
  });

  it("reads octet-counted frames whose LEN counts the trailing LF", () => {
    const msg = "<22>1 2026-11-03T14:03:01Z mx1 postfix 1 - - hi\n";
    const r = framer().push(Buffer.from(`${Buffer.byteLength(msg)} ${msg}${Buffer.byteLength(msg)} ${msg}`));
    assert.deepEqual(text(r.frames), [msg, msg]);
    assert.deepEqual(r.errors, []);
  });

  it("reassembles an octet-counted frame split inside the length and inside the body", () => {
    const f = framer();
    const msg = "<22>Nov  3 14:03:01 mx1 postfix/smtpd[1]: connect from a[192.0.2.1]";
    const wire = Buffer.from(`${msg.length} ${msg}`);
    const parts = [wire.subarray(0, 1), wire.subarray(1, 5), wire.subarray(5, 30), wire.subarray(30)];
    const frames = parts.flatMap((p) => f.push(p).frames);
    assert.deepEqual(text(frames), [msg]);
  });

  it("counts multi-byte UTF-8 by bytes, not characters", () => {
    const msg = "<22>Nov  3 14:03:01 mx1 postfix/smtpd[1]: warning: Größe ✓";
    const r = framer().push(Buffer.from(`${Buffer.byteLength(msg)} ${msg}`));
    assert.deepEqual(text(r.frames), [msg]);
  });

  it("discards an oversize octet-counted frame and resyncs on the next one", () => {
    const f = framer(16);
    const big = "x".repeat(40);
    const r = f.push(Buffer.from(`${big.length} ${big}5 hello`));
    assert.deepEqual(r.errors, ["oversize_frame"]);
    assert.deepEqual(text(r.frames), ["hello"]);
  });

  it("discards an oversize LF line without buffering it and resyncs after its LF", () => {
    const f = framer(16);
    const first = f.push(Buffer.from("<22>".padEnd(100, "y")));
    assert.deepEqual(first.errors, ["oversize_frame"]);
    assert.ok(f.pendingBytes <= 16);
    const second = f.push(Buffer.from("yyyy\n<22>ok\n"));
    assert.deepEqual(text(second.frames), ["<22>ok"]);
  });

  it("treats digits not followed by a space as a bad octet count and drops that line only", () => {
    const r = framer().push(Buffer.from("12345678901234 junk\n<22>ok\n"));
    assert.deepEqual(r.errors, ["bad_octet_count"]);
    assert.deepEqual(text(r.frames), ["<22>ok"]);
  });

  it("hands over the unterminated tail of an LF stream at end of connection", () => {
    const f = framer();
    assert.deepEqual(f.push(Buffer.from("<22>last")).frames, []);
    assert.deepEqual(text(f.end().frames), ["<22>last"]);
  });

  it("reports an octet-counted frame cut short by the end of the stream", () => {
    const f = framer();
    f.push(Buffer.from("20 <22>only part"));
    assert.deepEqual(f.end(), { frames: [], errors: ["truncated_frame"] });
  });

  describe("a lying octet count costs its own frame only", () => {
    const line = (n: number) =>
      `<22>Nov  3 14:03:01 mx1 postfix/smtpd[${n}]: connect from unknown[203.0.113.7]`;
    const frame = (n: number, lie = 0) => `${Buffer.byteLength(line(n)) + lie} ${line(n)}`;

    it("too short: drops that frame and reads on from the next", () => {
      const r = framer().push(Buffer.from(frame(1) + frame(2, -20) + frame(3) + frame(4)));
      assert.deepEqual(text(r.frames), [line(1), line(3), line(4)]);
      assert.deepEqual(r.errors, ["bad_octet_count"]);
    });

    it("too long: drops that frame and reads the frames it swallowed", () => {
      const r = framer().push(Buffer.from(frame(1, 30) + frame(2) + frame(3) + frame(4)));
      assert.deepEqual(text(r.frames), [line(2), line(3), line(4)]);
      assert.deepEqual(r.errors, ["bad_octet_count"]);
    });

    it("too long at the end of a burst: the frames held behind it are read when the stream ends", () => {
      const f = framer();
      const held = f.push(Buffer.from(frame(1, 500) + frame(2) + frame(3)));
      assert.deepEqual(held.frames, []);
      const r = f.end();
      assert.deepEqual(text(r.frames), [line(2), line(3)]);
      assert.deepEqual(r.errors, ["truncated_frame"]);
    });

    it("the same, in reads of 13 bytes", () => {
      const f = framer();
      const wire = Buffer.from(frame(1) + frame(2, -20) + frame(3) + frame(4, 30) + frame(5) + frame(6));
      const chunks = Array.from({ length: Math.ceil(wire.length / 13) }, (_, i) =>
        wire.subarray(i * 13, i * 13 + 13),
      );
      const results = chunks.map((chunk) => f.push(chunk));
      assert.deepEqual(text(results.flatMap((r) => r.frames)), [line(1), line(3), line(5), line(6)]);
      assert.deepEqual(
        results.flatMap((r) => r.errors),
        ["bad_octet_count", "bad_octet_count"],
      );
    });

    it("never splits an honest frame on text that looks like a frame start (an SMTP client's words)", () => {
      const forged = `<22>Nov  3 14:03:01 mx1 postfix/smtpd[9]: warning: 12 <22>fake 34 <22>more`;
      const r = framer().push(Buffer.from(`${frame(1)}${Buffer.byteLength(forged)} ${forged}${frame(2)}`));
      assert.deepEqual(text(r.frames), [line(1), forged, line(2)]);
      assert.deepEqual(r.errors, []);
    });

    it("in an octet-counted stream, a header without its space skips to the next frame, not to the next LF", () => {
      const r = framer().push(Buffer.from(`${frame(1)}12x${line(2)}${frame(3)}`));
      assert.deepEqual(text(r.frames), [line(1), line(3)]);
      assert.deepEqual(r.errors, ["bad_octet_count"]);
    });
  });

  it("never spins on arbitrary bytes", () => {
    const f = framer(64);
    for (let i = 0; i < 200; i++) {
      const chunk = Buffer.from(Array.from({ length: 97 }, (_, j) => (i * 31 + j * 7) % 256));
      f.push(Buffer.concat([Buffer.from(i % 3 === 0 ? "40 <" : ""), chunk]));
      assert.ok(f.pendingBytes <= 64 + 12);
    }
  });
});
