import { LineParseError } from "../errors/LineParseError.js";
import { CsvLineParser } from "./CsvLineParser.js";
import type { IpLogEvent } from "./IpLogEvent.js";
import { parseUmbrellaTimestamp } from "./parseUmbrellaTimestamp.js";
import { readNetworkEndpoint } from "./readNetworkEndpoint.js";
import { splitUmbrellaList } from "./splitUmbrellaList.js";

export type { IpLogEvent, NetworkEndpoint } from "./IpLogEvent.js";

/** Whether events carry the `umbrella` vendor fields unless told otherwise. */
export const DEFAULT_VENDOR_FIELDS = true;

/** IP logs had 7 columns up to schema v2; v3 added the identity types as column 8. */
export const IP_LOG_MIN_COLUMNS = 7;

const HEADER_FIRST_CELL = "timestamp";
const LINE_TERMINATOR = /\r?\n?$/;
const BYTE_ORDER_MARK = /^\uFEFF/;
/** How much of a bad value an error message quotes, in characters. */
const SHOWN_VALUE_MAX_CHARS = 40;

export interface IpLogNormalizerOptions {
  /**
   * Adds `umbrella.identity`, `umbrella.categories` and `umbrella.identity_types`, which the
   * Sekoia.io intake does not produce. Default true (playbook events); false gives exactly
   * the intake's structure.
   */
  vendorFields?: boolean;
}

type Related = NonNullable<IpLogEvent["related"]>;
type VendorFields = NonNullable<IpLogEvent["umbrella"]>;

/**
 * Turns one Cisco Umbrella IP log line (a CSV row of 7 or 8 columns; more are ignored) into
 * the ECS event the Sekoia.io intake makes of it.
 *
 * Identity mapping: the intake always files the identity (column 2) as a host, but Umbrella
 * also writes AD users there (`Doe, Jane (jane.doe@example.com)`). Umbrella lists the type
 * of that identity first in the identity types (column 8), so when the first type contains
 * "user" in any case (`AD Users`) the identity goes to `user.name` and `related.user`;
 * otherwise (`Roaming Computers`, `Anyconnect Roaming Client`, any other type, or no type as
 * in v1/v2 rows) it goes to `host.hostname`, `host.name` and `related.hosts`, as the intake
 * does.
 */
export class IpLogNormalizer {
  private readonly csv = new CsvLineParser();
  private readonly vendorFields: boolean;

  constructor(options: IpLogNormalizerOptions = {}) {
    this.vendorFields = options.vendorFields ?? DEFAULT_VENDOR_FIELDS;
  }

  /** undefined for a header row or a blank line; throws LineParseError for a malformed row. */
  normalize(line: string): IpLogEvent | undefined {
    if (line.trim() === "") {
      return undefined;
    }
    const cells = this.readCells(line);
    if (cells[0]?.trim().toLowerCase() === HEADER_FIRST_CELL) {
      return undefined;
    }
    if (cells.length < IP_LOG_MIN_COLUMNS) {
      throw new LineParseError(
        "column-count",
        `expected at least ${IP_LOG_MIN_COLUMNS} columns, got ${cells.length}`,
        line,
      );
    }

    const cell = (index: number): string => cells[index]?.trim() ?? "";
    const identity = cell(1);
    const identityTypes = splitUmbrellaList(cell(7));
    const event: IpLogEvent = {
      message: line.replace(LINE_TERMINATOR, "").replace(BYTE_ORDER_MARK, ""),
      "@timestamp": readTimestamp(cell(0), line),
      event: { outcome: "success" },
      action: { name: "block", outcome: "success", target: "network-traffic" },
    };
    const source = readNetworkEndpoint(cell(2), cell(3), "source", line);
    if (source !== undefined) {
      event.source = source;
    }
    const destination = readNetworkEndpoint(cell(4), cell(5), "destination", line);
    if (destination !== undefined) {
      event.destination = destination;
    }

    const related = addIdentity(event, identity, identityTypes);
    addRelatedIps(related, event);
    if (Object.keys(related).length > 0) {
      event.related = related;
    }
    if (this.vendorFields) {
      addVendorFields(event, identity, splitUmbrellaList(cell(6)), identityTypes);
    }

    return event;
  }

  private readCells(line: string): string[] {
    // NUL bytes have been seen in Umbrella exports; they carry nothing and break CSV parsing.
    const text = line.includes("\0") ? line.replaceAll("\0", "") : line;
    let records: string[][];
    try {
      records = this.csv.records(text);
    } catch (error: unknown) {
      // fast-csv's message repeats the rest of the line without limit, so it is summarised
      // here rather than kept as the cause.
      throw new LineParseError("csv", describeCsvFailure(error), line);
    }
    if (records.length > 1) {
      throw new LineParseError("csv", `expected one record, found ${records.length}`, line);
    }

    return records[0] ?? [];
  }
}

function describeCsvFailure(error: unknown): string {
  const text = error instanceof Error ? error.message : "";
  if (text.includes("missing closing")) {
    return "a quoted cell is not closed";
  }
  if (text.includes("expected:")) {
    return "text follows a closing quote";
  }

  return "the CSV is malformed";
}

function readTimestamp(text: string, line: string): string {
  const timestamp = parseUmbrellaTimestamp(text);
  if (timestamp === undefined) {
    const shown = JSON.stringify(text.slice(0, SHOWN_VALUE_MAX_CHARS));
    throw new LineParseError(
      "timestamp",
      `timestamp ${shown} is not a valid UTC "YYYY-MM-DD HH:MM:SS" date`,
      line,
    );
  }

  return timestamp;
}

/** Files the identity as a user or a host (see the class comment); returns `related`. */
function addIdentity(event: IpLogEvent, identity: string, identityTypes: string[]): Related {
  if (identity === "") {
    return {};
  }

  const isUser = identityTypes[0]?.toLowerCase().includes("user") ?? false;
  if (isUser) {
    event.user = { name: identity };

    return { user: [identity] };
  }
  event.host = { hostname: identity, name: identity };

  return { hosts: [identity] };
}

/** Source then destination IP, once each. */
function addRelatedIps(related: Related, event: IpLogEvent): void {
  const sourceIp = event.source?.ip;
  const destinationIp = event.destination?.ip;
  const ips = sourceIp === undefined ? [] : [sourceIp];
  if (destinationIp !== undefined && destinationIp !== sourceIp) {
    ips.push(destinationIp);
  }

  if (ips.length > 0) {
    related.ip = ips;
  }
}

function addVendorFields(
  event: IpLogEvent,
  identity: string,
  categories: string[],
  identityTypes: string[],
): void {
  const umbrella: VendorFields = {};
  if (identity !== "") {
    umbrella.identity = identity;
  }
  if (categories.length > 0) {
    umbrella.categories = categories;
  }
  if (identityTypes.length > 0) {
    umbrella.identity_types = identityTypes;
  }

  if (Object.keys(umbrella).length > 0) {
    event.umbrella = umbrella;
  }
}
