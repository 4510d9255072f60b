import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { LineSplitter } from "../../lib/umbrella/LineSplitter.js";

void describe("LineSplitter", () => {
  void test("numbers lines from 1, keeps a CR and returns a last line without LF at the end", () => {
    const splitter = new LineSplitter();

    const first = splitter.push(Buffer.from("a\r\nb"));
    const second = splitter.push(Buffer.from("c\n\nd"));
    const last = splitter.end();

    assert.deepStrictEqual(first, [{ number: 1, text: "a\r" }]);
    assert.deepStrictEqual(second, [
      { number: 2, text: "bc" },
      { number: 3, text: "" },
    ]);
    assert.deepStrictEqual(last, [{ number: 4, text: "d" }]);
  });

  void test("reassembles a UTF-8 character split between chunks", () => {
    const splitter = new LineSplitter();
    const bytes = Buffer.from("é\n", "utf8");

    const lines = [...splitter.push(bytes.subarray(0, 1)), ...splitter.push(bytes.subarray(1))];

    assert.deepStrictEqual(lines, [{ number: 1, text: "é" }]);
  });

  void test("drops a line over the limit even when it spans chunks, and keeps counting", () => {
    const splitter = new LineSplitter(10);

    const lines = [
      ...splitter.push(Buffer.from("123456")),
      ...splitter.push(Buffer.from("789012")),
      ...splitter.push(Buffer.from("345\nok\n0123456789ab")),
      ...splitter.end(),
    ];

    assert.deepStrictEqual(lines, [
      { number: 1, text: undefined },
      { number: 2, text: "ok" },
      { number: 3, text: undefined },
    ]);
  });

  void test("returns nothing at the end of a stream that ends with LF", () => {
    const splitter = new LineSplitter();

    splitter.push(Buffer.from("x\n"));

    assert.deepStrictEqual(splitter.end(), []);
  });
});
