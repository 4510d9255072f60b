import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { LineParseError } from "../../lib/errors/LineParseError.js";
import { IpLogNormalizer, type IpLogEvent } from "../../lib/umbrella/IpLogNormalizer.js";
import { normalizeLines } from "../../lib/umbrella/normalizeLines.js";

const SEED =
  '"2020-06-12 14:31:52","FR123","1.1.1.1","54128","2.2.2.2","443","","Roaming Computers"';

/** What the Sekoia.io intake makes of the seed line (MISSION.md). */
const SEED_EVENT: IpLogEvent = {
  message: SEED,
  "@timestamp": "2020-06-12T14:31:52Z",
  event: { outcome: "success" },
  action: { name: "block", outcome: "success", target: "network-traffic" },
  source: { ip: "1.1.1.1", address: "1.1.1.1", port: 54128 },
  destination: { ip: "2.2.2.2", address: "2.2.2.2", port: 443 },
  host: { hostname: "FR123", name: "FR123" },
  related: { hosts: ["FR123"], ip: ["1.1.1.1", "2.2.2.2"] },
};

const SEED_VENDOR_FIELDS = { identity: "FR123", identity_types: ["Roaming Computers"] };

const intakeShape = new IpLogNormalizer({ vendorFields: false });
const withVendorFields = new IpLogNormalizer();

function normalizeOrFail(normalizer: IpLogNormalizer, line: string): IpLogEvent {
  const event = normalizer.normalize(line);
  assert.ok(event !== undefined, "expected an event");

  return event;
}

function assertRejected(line: string, problem: string, mentions: RegExp): void {
  assert.throws(
    () => withVendorFields.normalize(line),
    (error: unknown) => {
      assert.ok(error instanceof LineParseError);
      assert.equal(error.code, "UMB_LINE_PARSE");
      assert.equal(error.problem, problem);
      assert.match(error.message, mentions);

      return true;
    },
  );
}

void describe("IpLogNormalizer", () => {
  void test("produces exactly the intake's event for the seed line without vendor fields", () => {
    assert.deepStrictEqual(intakeShape.normalize(SEED), SEED_EVENT);
  });

  void test("adds the umbrella vendor fields to the seed event by default", () => {
    assert.deepStrictEqual(withVendorFields.normalize(SEED), {
      ...SEED_EVENT,
      umbrella: SEED_VENDOR_FIELDS,
    });
  });

  void test("maps S1 (v3, empty categories) and writes no empty key", () => {
    const line =
      '"2024-05-01 10:20:30","LAPTOP-0001","192.0.2.10","54128","198.51.100.7","443","","Roaming Computers"';

    assert.deepStrictEqual(withVendorFields.normalize(line), {
      message: line,
      "@timestamp": "2024-05-01T10:20:30Z",
      event: { outcome: "success" },
      action: { name: "block", outcome: "success", target: "network-traffic" },
      source: { ip: "192.0.2.10", address: "192.0.2.10", port: 54128 },
      destination: { ip: "198.51.100.7", address: "198.51.100.7", port: 443 },
      host: { hostname: "LAPTOP-0001", name: "LAPTOP-0001" },
      related: { hosts: ["LAPTOP-0001"], ip: ["192.0.2.10", "198.51.100.7"] },
      umbrella: { identity: "LAPTOP-0001", identity_types: ["Roaming Computers"] },
    });
  });

  void test("accepts a 7-column v1/v2 row (S2) with a category list and zero ports", () => {
    const line =
      '"2019-03-02 00:00:01","LAPTOP-0002","192.0.2.11","0","203.0.113.9","0","Malware,Command and Control"';

    const event = normalizeOrFail(withVendorFields, line);

    assert.equal(event["@timestamp"], "2019-03-02T00:00:01Z");
    assert.deepStrictEqual(event.source, { ip: "192.0.2.11", address: "192.0.2.11", port: 0 });
    assert.deepStrictEqual(event.destination, {
      ip: "203.0.113.9",
      address: "203.0.113.9",
      port: 0,
    });
    assert.deepStrictEqual(event.host, { hostname: "LAPTOP-0002", name: "LAPTOP-0002" });
    assert.deepStrictEqual(event.umbrella, {
      identity: "LAPTOP-0002",
      categories: ["Malware", "Command and Control"],
    });
  });

  void test("keeps IPv6 addresses whole (S3)", () => {
    const line =
      '"2024-05-01 10:20:31","LAPTOP-0003","2001:db8:10::5","49152","2001:db8:ffff::1","8443","Unauthorized IP Tunnel Access","Anyconnect Roaming Client"';

    const event = normalizeOrFail(withVendorFields, line);

    assert.deepStrictEqual(event.source, {
      ip: "2001:db8:10::5",
      address: "2001:db8:10::5",
      port: 49152,
    });
    assert.deepStrictEqual(event.destination, {
      ip: "2001:db8:ffff::1",
      address: "2001:db8:ffff::1",
      port: 8443,
    });
    assert.deepStrictEqual(event.related, {
      hosts: ["LAPTOP-0003"],
      ip: ["2001:db8:10::5", "2001:db8:ffff::1"],
    });
    assert.deepStrictEqual(event.umbrella, {
      identity: "LAPTOP-0003",
      categories: ["Unauthorized IP Tunnel Access"],
      identity_types: ["Anyconnect Roaming Client"],
    });
  });

  void test("tolerates a blank before the first quote (S5)", () => {
    const line = ` ${SEED}`;

    assert.deepStrictEqual(intakeShape.normalize(line), { ...SEED_EVENT, message: line });
  });

  void test("tolerates blanks after delimiters", () => {
    const line =
      '"2020-06-12 14:31:52", "FR123", "1.1.1.1", "54128", "2.2.2.2", "443", "", "Roaming Computers"';

    assert.deepStrictEqual(intakeShape.normalize(line), { ...SEED_EVENT, message: line });
  });

  void test("skips a header row and maps the row after it (S6)", () => {
    const header =
      '"Timestamp","Identity","Source IP","Source Port","Destination IP","Destination Port","Categories","Identity Types"';
    const row =
      '"2024-05-01 10:20:35","LAPTOP-0006","192.0.2.16","50000","198.51.100.9","443","",""';

    assert.equal(withVendorFields.normalize(header), undefined);
    assert.equal(withVendorFields.normalize("timestamp,identity,source ip"), undefined);
    const event = normalizeOrFail(withVendorFields, row);
    assert.deepStrictEqual(event.umbrella, { identity: "LAPTOP-0006" });
    assert.deepStrictEqual(event.host, { hostname: "LAPTOP-0006", name: "LAPTOP-0006" });
  });

  void test("ignores the CR of CRLF lines (S10), a trailing LF and a leading BOM", () => {
    const line =
      '"2024-05-01 10:20:40","LAPTOP-0010","192.0.2.20","54002","198.51.100.8","443","","Roaming Computers"';

    for (const variant of [`${line}\r`, `${line}\r\n`, `${line}\n`, `\uFEFF${line}`]) {
      const event = normalizeOrFail(withVendorFields, variant);
      assert.equal(event.message, line);
      assert.deepStrictEqual(event.umbrella?.identity_types, ["Roaming Computers"]);
    }
  });

  void test("returns undefined for blank lines", () => {
    for (const blank of ["", "   ", "\r\n", "\n", "\uFEFF"]) {
      assert.equal(withVendorFields.normalize(blank), undefined);
    }
  });

  void test("files an AD user with a comma in the name as a user, intact", () => {
    const line =
      '"2024-05-01 10:20:32","Doe, Jane (jane.doe@example.com)","192.0.2.12","50001","198.51.100.7","443","","AD Users,AD Computers"';

    const event = normalizeOrFail(withVendorFields, line);

    assert.deepStrictEqual(event.user, { name: "Doe, Jane (jane.doe@example.com)" });
    assert.equal(event.host, undefined);
    assert.deepStrictEqual(event.related, {
      user: ["Doe, Jane (jane.doe@example.com)"],
      ip: ["192.0.2.12", "198.51.100.7"],
    });
    assert.deepStrictEqual(event.umbrella, {
      identity: "Doe, Jane (jane.doe@example.com)",
      identity_types: ["AD Users", "AD Computers"],
    });
  });

  void test("splits categories and identity types on commas and trims the items", () => {
    const line =
      '"2024-05-01 10:20:33","LAPTOP-0004","192.0.2.13","50002","198.51.100.7","443","Malware, Command and Control ,,Phishing","Roaming Computers, Sites"';

    const event = normalizeOrFail(withVendorFields, line);

    assert.deepStrictEqual(event.umbrella?.categories, [
      "Malware",
      "Command and Control",
      "Phishing",
    ]);
    assert.deepStrictEqual(event.umbrella?.identity_types, ["Roaming Computers", "Sites"]);
  });

  void test("keeps port 0 as the number 0", () => {
    const line = '"2024-05-01 10:20:34","LAPTOP-0005","192.0.2.14","0","198.51.100.7","0","",""';

    const event = normalizeOrFail(intakeShape, line);

    assert.equal(event.source?.port, 0);
    assert.equal(event.destination?.port, 0);
  });

  void test("lists an IP once in related.ip when source and destination are equal", () => {
    const line = '"2024-05-01 10:20:34","H","192.0.2.14","1","192.0.2.14","2","",""';

    assert.deepStrictEqual(normalizeOrFail(intakeShape, line).related?.ip, ["192.0.2.14"]);
  });

  void test("ignores extra trailing columns", () => {
    const line = `${SEED},"future column","another"`;

    assert.deepStrictEqual(intakeShape.normalize(line), { ...SEED_EVENT, message: line });
  });

  void test("writes no source, host or related key when those columns are empty", () => {
    const line = '"2024-05-01 10:20:34","","","","198.51.100.7","443","",""';

    assert.deepStrictEqual(intakeShape.normalize(line), {
      message: line,
      "@timestamp": "2024-05-01T10:20:34Z",
      event: { outcome: "success" },
      action: { name: "block", outcome: "success", target: "network-traffic" },
      destination: { ip: "198.51.100.7", address: "198.51.100.7", port: 443 },
      related: { ip: ["198.51.100.7"] },
    });
  });

  void test("rejects a row with 5 columns", () => {
    assertRejected(
      '"2024-05-01 10:20:34","H","192.0.2.14","1","192.0.2.15"',
      "column-count",
      /at least 7 columns, got 5/,
    );
  });

  void test("rejects port 70000", () => {
    assertRejected(
      '"2024-05-01 10:20:34","H","192.0.2.14","70000","192.0.2.15","443","",""',
      "port",
      /source port "70000"/,
    );
    assertRejected(
      '"2024-05-01 10:20:34","H","192.0.2.14","1","192.0.2.15","-1","",""',
      "port",
      /destination port "-1"/,
    );
  });

  void test("rejects malformed and impossible timestamps", () => {
    for (const timestamp of [
      "2024-05-01T10:20:34Z",
      "2024-02-30 10:20:34",
      "2024-05-01 24:00:00",
      "2024-05-01 10:20:60",
      "yesterday",
    ]) {
      assertRejected(
        `"${timestamp}","H","192.0.2.14","1","192.0.2.15","2","",""`,
        "timestamp",
        new RegExp(`timestamp "${timestamp}"`),
      );
    }
  });

  void test("accepts February 29th of a leap year", () => {
    const line = '"2024-02-29 23:59:59","H","192.0.2.14","1","192.0.2.15","2","",""';

    assert.equal(normalizeOrFail(intakeShape, line)["@timestamp"], "2024-02-29T23:59:59Z");
  });

  void test("rejects broken CSV and quotes at most about 200 characters of the line", () => {
    const longTail = "x".repeat(5000);
    const line = `"2024-05-01 10:20:34","H","192.0.2.14","1","192.0.2.15","2","","${longTail}`;

    assert.throws(
      () => withVendorFields.normalize(line),
      (error: unknown) => {
        assert.ok(error instanceof LineParseError);
        assert.equal(error.problem, "csv");
        assert.match(error.message, /quoted cell is not closed/);
        assert.ok(error.message.length < 320, `message has ${error.message.length} characters`);

        return true;
      },
    );
  });

  void test("rejects two records on one line", () => {
    assertRejected(`${SEED}\n${SEED}`, "csv", /expected one record, found 2/);
  });
});

void describe("normalizeLines", () => {
  void test("counts the events and skips headers, blanks and malformed lines", () => {
    const lines = ['"Timestamp","Identity"', SEED, "", '"2024-05-01","H"', SEED];

    assert.equal(normalizeLines(lines, withVendorFields), 2);
  });
});
