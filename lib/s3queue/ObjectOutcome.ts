/** How one announced object ended, as far as its queue message is concerned. */
export type ObjectOutcome =
  /** Every line was accepted by the sinks. */
  | { status: "delivered" }
  /** Not an object of this trigger (prefix, README, folder placeholder). */
  | { status: "skipped" }
  /** The same version was delivered within the duplicate window. */
  | { status: "duplicate" }
  /** Done for good without delivering everything: missing object, damaged gzip. */
  | { status: "unreadable"; error: unknown }
  /** Must be tried again: the message is kept. */
  | { status: "failed"; error: unknown };
