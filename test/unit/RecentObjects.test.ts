import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { RecentObjects } from "../../lib/s3queue/RecentObjects.js";

const MAX_REMEMBERED_OBJECTS = 100_000;

void describe("RecentObjects", () => {
  void test("knows a version within the window and forgets it when the window ends", () => {
    let now = 1_000;
    const recent = new RecentObjects(500, () => now);

    assert.equal(recent.has("v1"), false);
    recent.remember("v1");
    now = 1_499;
    assert.equal(recent.has("v1"), true);
    assert.equal(recent.has("v2"), false);
    now = 1_500;
    assert.equal(recent.has("v1"), false);
    now = 1_000;
    assert.equal(recent.has("v1"), false, "an expired entry is removed");
  });

  void test("remembering a version again extends its window", () => {
    let now = 0;
    const recent = new RecentObjects(100, () => now);
    recent.remember("v1");
    now = 90;

    recent.remember("v1");
    now = 150;

    assert.equal(recent.has("v1"), true);
  });

  void test("remembers nothing when the window is zero", () => {
    const recent = new RecentObjects(0, () => 0);

    recent.remember("v1");

    assert.equal(recent.has("v1"), false);
  });

  void test("forgets the oldest versions beyond its capacity", () => {
    const recent = new RecentObjects(60_000, () => 0);
    for (let index = 0; index <= MAX_REMEMBERED_OBJECTS; index += 1) {
      recent.remember(`v${index}`);
    }

    assert.equal(recent.has("v0"), false);
    assert.equal(recent.has("v1"), true);
    assert.equal(recent.has(`v${MAX_REMEMBERED_OBJECTS}`), true);
  });

  void test("keeps a version remembered again when the oldest are forgotten", () => {
    const recent = new RecentObjects(60_000, () => 0);
    for (let index = 0; index < MAX_REMEMBERED_OBJECTS; index += 1) {
      recent.remember(`v${index}`);
    }

    recent.remember("v0");
    recent.remember("extra");

    assert.equal(recent.has("v0"), true);
    assert.equal(recent.has("v1"), false);
    assert.equal(recent.has("extra"), true);
  });
});
