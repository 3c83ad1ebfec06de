/**
 * Whether a flow's code may still be sent or accepted: the one home of this rule, used by the
 * API (verify, resend), the worker (before each send) and the dead-letter replay.
 */

/** What of a registration flow the rule reads. */
export interface FlowCodeState {
  verifiedAt: Date | null;
  closedAt: Date | null;
  /** When the flow's current code stops working. */
  expiresAt: Date;
  /** Which of the flow's codes is current (a resend makes a new one). */
  codeSequence: number;
}

export type CodeUnusableReason =
  | 'registration gone'
  | 'code already used'
  | 'registration ended'
  | 'code superseded by a newer one'
  | 'code expired';

/**
 * Why code number `codeSequence` of `flow` can no longer be used at `at`, or undefined when it
 * can. A code expires at exactly its `expiresAt`.
 */
export function codeUnusableReason(
  flow: FlowCodeState | undefined,
  codeSequence: number,
  at: Date,
): CodeUnusableReason | undefined {
  if (!flow) return 'registration gone';
  if (flow.verifiedAt) return 'code already used';
  if (flow.closedAt) return 'registration ended';
  if (codeSequence !== flow.codeSequence) return 'code superseded by a newer one';
  if (flow.expiresAt.getTime() <= at.getTime()) return 'code expired';
  return undefined;
}
