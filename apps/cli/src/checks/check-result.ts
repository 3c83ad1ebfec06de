/** One line of the `pnpm otp:check` report: what was checked, whether it passed, and what it means. */
export interface CheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

export const pass = (name: string, detail: string): CheckResult => ({ name, ok: true, detail });
export const fail = (name: string, detail: string): CheckResult => ({ name, ok: false, detail });

export function formatCheck(result: CheckResult): string {
  return `${result.ok ? '✓' : '✗'} ${result.name}: ${result.detail}`;
}
