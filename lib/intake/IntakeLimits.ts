/** The intake refuses request bodies above this size (RUNTIME.md section 7). */
export const INTAKE_MAX_BODY_BYTES = 10 * 1024 * 1024;

/** Largest single event the intake takes; longer lines are dropped and counted. */
export const INTAKE_MAX_EVENT_BYTES = 250_000;

/** Default largest request body we build, well under the intake's limit. */
export const DEFAULT_BATCH_MAX_BYTES = 1024 * 1024;

/** Bytes the JSON envelope around the events may take besides the key. */
export const ENVELOPE_OVERHEAD_BYTES = 64;
