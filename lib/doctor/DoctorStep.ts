/** The outcome of one doctor step. */
export type StepResult = "PASS" | "FAIL" | "SKIP";

/** One row of the doctor's table. */
export interface DoctorStep {
  step: string;
  result: StepResult;
  detail: string;
  /** What to do: always set on FAIL, sometimes on SKIP. */
  remedy?: string;
}

export function pass(step: string, detail: string): DoctorStep {
  return { step, result: "PASS", detail };
}

export function fail(step: string, detail: string, remedy: string): DoctorStep {
  return { step, result: "FAIL", detail, remedy };
}

export function skip(step: string, detail: string, remedy?: string): DoctorStep {
  return remedy === undefined
    ? { step, result: "SKIP", detail }
    : { step, result: "SKIP", detail, remedy };
}

const STEP_COLUMN_CHARS = 22;
const RESULT_COLUMN_CHARS = 8;

/** The table: one line per step, the remedy on its own line under the detail. */
export function renderDoctorTable(title: string, steps: readonly DoctorStep[]): string {
  const indent = " ".repeat(STEP_COLUMN_CHARS + RESULT_COLUMN_CHARS);
  const lines = [
    title,
    "",
    `${"STEP".padEnd(STEP_COLUMN_CHARS)}${"RESULT".padEnd(RESULT_COLUMN_CHARS)}DETAIL`,
  ];
  for (const step of steps) {
    lines.push(
      `${step.step.padEnd(STEP_COLUMN_CHARS)}${step.result.padEnd(RESULT_COLUMN_CHARS)}${step.detail}`,
    );
    if (step.remedy !== undefined) {
      lines.push(`${indent}remedy: ${step.remedy}`);
    }
  }
  const failed = steps.filter((step) => step.result === "FAIL").length;
  lines.push(
    "",
    failed === 0 ? "No step failed." : `${failed} step${failed === 1 ? "" : "s"} failed.`,
    "",
  );

  return lines.join("\n");
}
