import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { ChunkBuilder } from "../../lib/intake/ChunkBuilder.js";
import type { IntakeChunk } from "../../lib/intake/IntakeChunk.js";
import { tracker } from "../support/TestHelpers.js";

const INTAKE_KEY = "intake-key-0123456789";

interface Body {
  intake_key: string;
  jsons: string[];
}

function parse(chunk: IntakeChunk | undefined): Body {
  assert.ok(chunk !== undefined, "a chunk was sealed");

  return JSON.parse(chunk.body.toString("utf8")) as Body;
}

/** A deterministic pseudo-random generator (mulberry32), so failures can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;

  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);

    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** A line of `length` bytes mixing ASCII, escapes, multi-byte text and invalid UTF-8. */
function randomLine(random: () => number, length: number): Buffer {
  const pieces = [
    Buffer.from("a"),
    Buffer.from('"'),
    Buffer.from("\\"),
    Buffer.from([0x01]),
    Buffer.from("é"),
    Buffer.from("€"),
    Buffer.from([0xff]),
    Buffer.from("😀"),
  ];
  const parts: Buffer[] = [];
  let size = 0;
  while (size < length) {
    const piece = pieces[Math.floor(random() * pieces.length)] ?? Buffer.from("a");
    parts.push(piece);
    size += piece.length;
  }

  return Buffer.concat(parts);
}

void describe("ChunkBuilder", () => {
  void test("builds a JSON body whose jsons are the lines, escaped and in order", () => {
    const builder = new ChunkBuilder('key"with\\quote', 64 * 1024);
    const owner = tracker("a");
    const lines = [
      Buffer.from('plain,"quoted",field'),
      Buffer.from("back\\slash and \\n not a newline"),
      Buffer.from("tab\there\r\ncontrol\u0001\u001f\u007f"),
      Buffer.from("nul\u0000inside"),
      Buffer.from("non-ASCII: café, €, 😀, 東京"),
      Buffer.from("</script>\u2028\u2029"),
    ];
    for (const line of lines) {
      assert.equal(builder.tryAdd(line, owner), true);
    }
    assert.equal(builder.eventCount, lines.length);

    const chunk = builder.seal();
    const body = parse(chunk);

    assert.equal(body.intake_key, 'key"with\\quote');
    assert.deepEqual(
      body.jsons,
      lines.map((line) => line.toString("utf8")),
    );
    assert.equal(chunk?.eventCount, lines.length);
    assert.deepEqual(Object.keys(body), ["intake_key", "jsons"]);
  });

  void test("replaces invalid UTF-8 by U+FFFD", () => {
    const builder = new ChunkBuilder(INTAKE_KEY, 4096);
    const owner = tracker("a");
    builder.tryAdd(Buffer.from([0x61, 0xff, 0x62]), owner);
    builder.tryAdd(Buffer.from([0xc3]), owner);
    builder.tryAdd(Buffer.from([0xed, 0xa0, 0x80, 0x7a]), owner);
    builder.tryAdd(Buffer.from([0x63, 0x61, 0x66, 0xc3, 0xa9]), owner);

    assert.deepEqual(parse(builder.seal()).jsons, [
      "a\ufffdb",
      "\ufffd",
      "\ufffd\ufffd\ufffdz",
      "café",
    ]);
  });

  void test("seals nothing when no event was added", () => {
    const builder = new ChunkBuilder(INTAKE_KEY, 4096);

    assert.equal(builder.seal(), undefined);
    assert.equal(builder.eventCount, 0);
  });

  void test("starts an empty body after sealing", () => {
    const builder = new ChunkBuilder(INTAKE_KEY, 4096);
    const owner = tracker("a");
    builder.tryAdd(Buffer.from("first"), owner);
    builder.seal();

    assert.equal(builder.eventCount, 0);
    assert.equal(builder.holds(owner), false);
    builder.tryAdd(Buffer.from("second"), owner);
    assert.deepEqual(parse(builder.seal()).jsons, ["second"]);
  });

  void test("never exceeds maxBytes and loses no line, whatever the line sizes", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = seededRandom(seed);
      const maxBytes = 2048 + Math.floor(random() * 4096);
      const builder = new ChunkBuilder(INTAKE_KEY, maxBytes);
      const owner = tracker("a");
      const lines: string[] = [];
      const received: string[] = [];
      const collect = (chunk: IntakeChunk | undefined): void => {
        if (chunk !== undefined) {
          assert.ok(chunk.body.length <= maxBytes, `seed ${seed}: ${chunk.body.length} bytes`);
          const body = parse(chunk);
          assert.equal(body.jsons.length, chunk.eventCount);
          received.push(...body.jsons);
          chunk.release();
        }
      };
      for (let index = 0; index < 2000; index += 1) {
        const length = Math.floor(random() ** 3 * (maxBytes / 7));
        const line = randomLine(random, length);
        lines.push(line.toString("utf8"));
        if (!builder.tryAdd(line, owner)) {
          collect(builder.seal());
          assert.equal(builder.tryAdd(line, owner), true, `seed ${seed}: fits an empty chunk`);
        }
      }
      collect(builder.seal());

      assert.deepEqual(received, lines, `seed ${seed}`);
    }
  });

  void test("fills a chunk up to exactly maxBytes", () => {
    const opening = Buffer.byteLength(`{"intake_key":"${INTAKE_KEY}","jsons":[`);
    const line = "x".repeat(10);
    const perEvent = line.length + 2;
    const maxBytes = opening + 3 * perEvent + 2 + 2;
    const builder = new ChunkBuilder(INTAKE_KEY, maxBytes);
    const owner = tracker("a");

    assert.equal(builder.tryAdd(Buffer.from(line), owner), true);
    assert.equal(builder.tryAdd(Buffer.from(line), owner), true);
    assert.equal(builder.tryAdd(Buffer.from(line), owner), true);
    assert.equal(builder.tryAdd(Buffer.from("y"), owner), false);

    const chunk = builder.seal();
    assert.equal(chunk?.body.length, maxBytes);
    assert.deepEqual(parse(chunk).jsons, [line, line, line]);
  });

  void test("tryAdd refuses a line that does not fit and leaves the chunk unchanged", () => {
    const builder = new ChunkBuilder(INTAKE_KEY, 200);
    const first = tracker("first");
    const second = tracker("second");
    builder.tryAdd(Buffer.from("a".repeat(60)), first);
    builder.tryAdd(Buffer.from("b".repeat(60)), first);

    assert.equal(builder.tryAdd(Buffer.from("c".repeat(60)), second), false);
    assert.equal(builder.eventCount, 2);
    assert.equal(builder.holds(second), false);

    const chunk = builder.seal();
    assert.deepEqual(parse(chunk).jsons, ["a".repeat(60), "b".repeat(60)]);
    assert.deepEqual(chunk?.owners, [{ owner: first, count: 2 }]);
  });

  void test("takes a line larger than maxBytes into an empty chunk", () => {
    const builder = new ChunkBuilder(INTAKE_KEY, 100);
    const owner = tracker("a");
    const line = "z".repeat(500);

    assert.equal(builder.tryAdd(Buffer.from(line), owner), true);
    assert.equal(builder.tryAdd(Buffer.from("next"), owner), false);
    assert.deepEqual(parse(builder.seal()).jsons, [line]);
  });

  void test("records the owners as runs in order across interleaved objects", () => {
    const builder = new ChunkBuilder(INTAKE_KEY, 4096);
    const a = tracker("a");
    const b = tracker("b");
    const c = tracker("c");
    const d = tracker("d");
    for (const owner of [a, a, b, a, c, c, c, b]) {
      builder.tryAdd(Buffer.from("line"), owner);
    }

    assert.equal(builder.holds(a), true);
    assert.equal(builder.holds(b), true);
    assert.equal(builder.holds(c), true);
    assert.equal(builder.holds(d), false);

    const chunk = builder.seal();
    assert.deepEqual(chunk?.owners, [
      { owner: a, count: 2 },
      { owner: b, count: 1 },
      { owner: a, count: 1 },
      { owner: c, count: 3 },
      { owner: b, count: 1 },
    ]);
    assert.equal(builder.holds(a), false);
  });

  void test("gives each sealed chunk its own owner list", () => {
    const builder = new ChunkBuilder(INTAKE_KEY, 4096);
    const a = tracker("a");
    const b = tracker("b");
    builder.tryAdd(Buffer.from("1"), a);
    const first = builder.seal();
    builder.tryAdd(Buffer.from("2"), a);
    builder.tryAdd(Buffer.from("3"), b);
    builder.seal();

    assert.deepEqual(first?.owners, [{ owner: a, count: 1 }]);
  });

  void describe("buffer reuse", () => {
    void test("reuses the buffer of a released chunk for a later one", () => {
      const builder = new ChunkBuilder(INTAKE_KEY, 64 * 1024);
      const owner = tracker("a");
      builder.tryAdd(Buffer.from("first"), owner);
      const first = builder.seal();
      assert.ok(first !== undefined);
      const firstMemory = first.body.buffer;
      first.release();

      builder.tryAdd(Buffer.from("second"), owner);
      builder.seal();
      builder.tryAdd(Buffer.from("third"), owner);
      const third = builder.seal();

      assert.equal(third?.body.buffer, firstMemory);
    });

    void test("keeps a sealed body intact while other chunks reuse released buffers", () => {
      const builder = new ChunkBuilder(INTAKE_KEY, 64 * 1024);
      const owner = tracker("a");
      builder.tryAdd(Buffer.from("kept body"), owner);
      const kept = builder.seal();
      assert.ok(kept !== undefined);
      const snapshot = Buffer.from(kept.body);

      for (let round = 0; round < 20; round += 1) {
        builder.tryAdd(Buffer.from(`round ${round} `.repeat(50)), owner);
        const other = builder.seal();
        assert.ok(other !== undefined);
        assert.notEqual(other.body.buffer, kept.body.buffer);
        other.release();
      }

      assert.deepEqual(kept.body, snapshot);
      assert.deepEqual(parse(kept).jsons, ["kept body"]);
    });

    void test("a chunk released twice does not hand its buffer to two chunks", () => {
      const builder = new ChunkBuilder(INTAKE_KEY, 64 * 1024);
      const owner = tracker("a");
      builder.tryAdd(Buffer.from("first"), owner);
      const first = builder.seal();
      first?.release();
      first?.release();

      builder.tryAdd(Buffer.from("second"), owner);
      const second = builder.seal();
      builder.tryAdd(Buffer.from("third"), owner);
      const third = builder.seal();
      builder.tryAdd(Buffer.from("fourth"), owner);
      const fourth = builder.seal();

      assert.deepEqual(parse(second).jsons, ["second"]);
      assert.deepEqual(parse(third).jsons, ["third"]);
      assert.deepEqual(parse(fourth).jsons, ["fourth"]);
    });
  });
});
