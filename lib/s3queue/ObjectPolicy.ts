import type { ObjectRef } from "./ObjectRef.js";

/** Why an object is not read; `suspicious` when it looks like a configuration mistake. */
export interface SkipReason {
  reason: string;
  suspicious: boolean;
}

/** What a trigger decides about the objects and lines of its log type. */
export interface ObjectPolicy {
  /** Undefined when the object must be read; otherwise why it is skipped. */
  skipReason(ref: ObjectRef): SkipReason | undefined;
  /** True for a line that is not an event, such as an optional header row. */
  isHeaderLine(line: Buffer): boolean;
}
