import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { LineSplitter } from "../../lib/s3queue/LineSplitter.js";

type SplitEvent =
  | { kind: "line"; text: string; offset: number }
  | { kind: "overlong"; offset: number; length: number };

interface Recorder {
  splitter: LineSplitter;
  events: SplitEvent[];
}

function record(maxLineBytes: number): Recorder {
  const events: SplitEvent[] = [];
  const splitter = new LineSplitter(
    maxLineBytes,
    (line, offset) => events.push({ kind: "line", text: line.toString("latin1"), offset }),
    (offset, length) => events.push({ kind: "overlong", offset, length }),
  );

  return { splitter, events };
}

/** Feeds the chunks, ends the text, and returns what the splitter reported. */
function split(chunks: readonly Buffer[], maxLineBytes: number): SplitEvent[] {
  const { splitter, events } = record(maxLineBytes);
  for (const chunk of chunks) {
    splitter.push(chunk);
  }
  splitter.end();

  return events;
}

function bytes(text: string): Buffer {
  return Buffer.from(text, "latin1");
}

function oneByteChunks(text: Buffer): Buffer[] {
  return [...text].map((byte) => Buffer.from([byte]));
}

/** The private buffered state, to check that memory stays bounded. */
function heldBytes(splitter: LineSplitter): number {
  const state = splitter as unknown as { pending: Buffer[] };

  return state.pending.reduce((total, part) => total + part.length, 0);
}

const BOM = "\xef\xbb\xbf";

void describe("LineSplitter", () => {
  void test("splits on LF, drops the CR before it and skips blank lines", () => {
    const events = split([bytes("a,1\r\n\r\n\nb,2\n  \nc,3\n")], 100);

    assert.deepEqual(events, [
      { kind: "line", text: "a,1", offset: 0 },
      { kind: "line", text: "b,2", offset: 8 },
      { kind: "line", text: "c,3", offset: 15 },
    ]);
  });

  void test("skips lines of blanks only and drops every CR before the LF", () => {
    const events = split([bytes('a\n  \t \n\t\nb\r\r\n "c" \n')], 100);

    assert.deepEqual(
      events.map((event) => (event.kind === "line" ? event.text : "overlong")),
      ["a", "b", ' "c" '],
    );
  });

  void test("keeps a CR that is not right before the LF", () => {
    const events = split([bytes("a\rb\n\rc\n")], 100);

    assert.deepEqual(events, [
      { kind: "line", text: "a\rb", offset: 0 },
      { kind: "line", text: "\rc", offset: 4 },
    ]);
  });

  void test("drops a byte-order mark at the very start and counts it in the offsets", () => {
    const { splitter, events } = record(100);
    splitter.push(bytes(`${BOM}ab\ncd\n`));
    splitter.end();

    assert.deepEqual(events, [
      { kind: "line", text: "ab", offset: 3 },
      { kind: "line", text: "cd", offset: 6 },
    ]);
    assert.equal(splitter.bytesSeen, 9);
  });

  void test("keeps a byte-order mark that is not at the start of the text", () => {
    const events = split([bytes(`ab\n${BOM}cd\n`)], 100);

    assert.deepEqual(events, [
      { kind: "line", text: "ab", offset: 0 },
      { kind: "line", text: `${BOM}cd`, offset: 3 },
    ]);
  });

  void test("drops a byte-order mark that arrives one byte at a time", () => {
    const events = split(oneByteChunks(bytes(`${BOM}ab\ncd\n`)), 100);

    assert.deepEqual(events, [
      { kind: "line", text: "ab", offset: 3 },
      { kind: "line", text: "cd", offset: 6 },
    ]);
  });

  void test("drops a byte-order mark that follows an empty first chunk", () => {
    const events = split([Buffer.alloc(0), bytes(`${BOM}ab\n`)], 100);

    assert.deepEqual(events, [{ kind: "line", text: "ab", offset: 3 }]);
  });

  void test("hands out a text shorter than a byte-order mark", () => {
    assert.deepEqual(split([bytes("\xef")], 100), [{ kind: "line", text: "\xef", offset: 0 }]);
    assert.deepEqual(split([bytes("a")], 100), [{ kind: "line", text: "a", offset: 0 }]);
  });

  void test("hands out a final line without LF when the text ends", () => {
    const events = split([bytes("first\nlast")], 100);

    assert.deepEqual(events, [
      { kind: "line", text: "first", offset: 0 },
      { kind: "line", text: "last", offset: 6 },
    ]);
  });

  void test("drops a final CR without LF", () => {
    assert.deepEqual(split([bytes("last\r")], 100), [{ kind: "line", text: "last", offset: 0 }]);
  });

  void test("emits a line of exactly maxLineBytes and drops one byte longer", () => {
    const events = split([bytes("12345\n123456\n1234\r\n12345\r\n")], 5);

    assert.deepEqual(events, [
      { kind: "line", text: "12345", offset: 0 },
      { kind: "overlong", offset: 6, length: 6 },
      { kind: "line", text: "1234", offset: 13 },
      { kind: "line", text: "12345", offset: 19 },
    ]);
  });

  void test("reports an overlong final line without LF", () => {
    const events = split([bytes("ok\n"), bytes("toolongline")], 5);

    assert.deepEqual(events, [
      { kind: "line", text: "ok", offset: 0 },
      { kind: "overlong", offset: 3, length: 11 },
    ]);
  });

  void describe("a text cut anywhere gives the same lines", () => {
    const text = bytes(
      `${BOM}alpha\r\n\r\n12345678\nbeta\n\n123456789\nxy\r\n1234567890123\r\nz\n${"w".repeat(20)}\ntail`,
    );
    const maxLineBytes = 8;
    const expected = split([text], maxLineBytes);

    void test("the reference split is right", () => {
      assert.deepEqual(expected, [
        { kind: "line", text: "alpha", offset: 3 },
        { kind: "line", text: "12345678", offset: 12 },
        { kind: "line", text: "beta", offset: 21 },
        { kind: "overlong", offset: 27, length: 9 },
        { kind: "line", text: "xy", offset: 37 },
        { kind: "overlong", offset: 41, length: 14 },
        { kind: "line", text: "z", offset: 56 },
        { kind: "overlong", offset: 58, length: 20 },
        { kind: "line", text: "tail", offset: 79 },
      ]);
    });

    void test("in two chunks, at every position", () => {
      for (let cut = 0; cut <= text.length; cut += 1) {
        const events = split([text.subarray(0, cut), text.subarray(cut)], maxLineBytes);
        assert.deepEqual(events, expected, `cut at ${cut}`);
      }
    });

    void test("in three chunks, at every pair of positions", () => {
      for (let first = 0; first <= text.length; first += 1) {
        for (let second = first; second <= text.length; second += 1) {
          const chunks = [
            text.subarray(0, first),
            text.subarray(first, second),
            text.subarray(second),
          ];
          assert.deepEqual(split(chunks, maxLineBytes), expected, `cuts at ${first}, ${second}`);
        }
      }
    });

    void test("in one-byte chunks", () => {
      assert.deepEqual(split(oneByteChunks(text), maxLineBytes), expected);
    });
  });

  void test("hands out lines as views valid during the call, copied when split", () => {
    const seen: string[] = [];
    const splitter = new LineSplitter(
      100,
      (line) => seen.push(line.toString("latin1")),
      () => assert.fail("no line is overlong"),
    );
    const first = bytes("abc\nde");
    splitter.push(first);
    splitter.push(bytes("f\n"));
    splitter.end();

    assert.deepEqual(seen, ["abc", "def"]);
  });

  void test("discardPartial forgets the partial line and says how long it was", () => {
    const { splitter, events } = record(100);
    splitter.push(bytes("whole\npart"));
    splitter.push(bytes("ial"));

    const dropped = splitter.discardPartial();
    splitter.end();

    assert.equal(dropped, 7);
    assert.deepEqual(events, [{ kind: "line", text: "whole", offset: 0 }]);
    assert.equal(splitter.bytesSeen, 13);
  });

  void test("discardPartial returns 0 when the text ended on a line break", () => {
    const { splitter, events } = record(100);
    splitter.push(bytes("whole\n"));

    assert.equal(splitter.discardPartial(), 0);
    splitter.end();
    assert.deepEqual(events, [{ kind: "line", text: "whole", offset: 0 }]);
  });

  void test("discardPartial counts the start of a text held as a possible byte-order mark", () => {
    const { splitter, events } = record(100);
    splitter.push(bytes("\xef\xbb"));

    assert.equal(splitter.discardPartial(), 2);
    splitter.end();
    assert.deepEqual(events, []);
  });

  void test("drops a huge line streamed in many chunks without buffering it", () => {
    const maxLineBytes = 1000;
    const chunkBytes = 64 * 1024;
    const hugeBytes = 10 * 1024 * 1024;
    const { splitter, events } = record(maxLineBytes);
    splitter.push(bytes("before\n"));
    let maxHeld = 0;
    const chunk = Buffer.alloc(chunkBytes, 0x78);
    for (let sent = 0; sent < hugeBytes; sent += chunkBytes) {
      splitter.push(chunk);
      maxHeld = Math.max(maxHeld, heldBytes(splitter));
    }
    splitter.push(bytes("\r\nafter\n"));
    splitter.end();

    assert.ok(maxHeld <= maxLineBytes + 1, `held ${maxHeld} bytes`);
    assert.deepEqual(events, [
      { kind: "line", text: "before", offset: 0 },
      { kind: "overlong", offset: 7, length: hugeBytes + 1 },
      { kind: "line", text: "after", offset: 7 + hugeBytes + 2 },
    ]);
  });

  void test("holds at most maxLineBytes + 1 bytes while a line grows in small chunks", () => {
    const maxLineBytes = 50;
    const { splitter, events } = record(maxLineBytes);
    let maxHeld = 0;
    for (let index = 0; index < 500; index += 1) {
      splitter.push(bytes("abc"));
      maxHeld = Math.max(maxHeld, heldBytes(splitter));
    }
    splitter.push(bytes("\nok\n"));
    splitter.end();

    assert.ok(maxHeld <= maxLineBytes + 1, `held ${maxHeld} bytes`);
    assert.deepEqual(events, [
      { kind: "overlong", offset: 0, length: 1500 },
      { kind: "line", text: "ok", offset: 1501 },
    ]);
  });
});
