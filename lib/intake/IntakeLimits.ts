/** Largest single event the intake takes; longer lines are dropped and counted. */
export const INTAKE_MAX_EVENT_BYTES = 250_000;

/**
 * Default largest request body we build. The intake refuses bodies over 10 MiB (RUNTIME.md
 * section 7); the trigger schema caps the setting at 9 MiB.
 */
export const DEFAULT_BATCH_MAX_BYTES = 1024 * 1024;
