import { describe, expect, it } from 'vitest';
import { codeUnusableReason, type FlowCodeState } from '../src/code-usability.js';

const expiresAt = new Date('2030-01-01T12:00:00.000Z');
const beforeExpiry = new Date(expiresAt.getTime() - 60_000);

function flow(overrides: Partial<FlowCodeState> = {}): FlowCodeState {
  return { verifiedAt: null, closedAt: null, expiresAt, codeSequence: 3, ...overrides };
}

describe('codeUnusableReason', () => {
  it('accepts the current code of a live flow before it expires', () => {
    expect(codeUnusableReason(flow(), 3, beforeExpiry)).toBeUndefined();
  });

  it('says the registration is gone when there is no flow', () => {
    expect(codeUnusableReason(undefined, 1, beforeExpiry)).toBe('registration gone');
  });

  it('says a verified flow’s code was already used', () => {
    expect(codeUnusableReason(flow({ verifiedAt: beforeExpiry }), 3, beforeExpiry)).toBe('code already used');
  });

  it('says a closed flow’s registration ended', () => {
    expect(codeUnusableReason(flow({ closedAt: beforeExpiry }), 3, beforeExpiry)).toBe('registration ended');
  });

  it('says a code other than the current one was superseded', () => {
    expect(codeUnusableReason(flow(), 2, beforeExpiry)).toBe('code superseded by a newer one');
  });

  it('accepts the code 1 ms before expiresAt and calls it expired exactly at expiresAt', () => {
    expect(codeUnusableReason(flow(), 3, new Date(expiresAt.getTime() - 1))).toBeUndefined();
    expect(codeUnusableReason(flow(), 3, expiresAt)).toBe('code expired');
    expect(codeUnusableReason(flow(), 3, new Date(expiresAt.getTime() + 1))).toBe('code expired');
  });

  describe('precedence', () => {
    const late = new Date(expiresAt.getTime() + 1);

    it('puts verified before closed, superseded and expired', () => {
      const done = flow({ verifiedAt: beforeExpiry, closedAt: beforeExpiry });
      expect(codeUnusableReason(done, 2, late)).toBe('code already used');
    });

    it('puts closed before superseded and expired', () => {
      expect(codeUnusableReason(flow({ closedAt: beforeExpiry }), 2, late)).toBe('registration ended');
    });

    it('puts superseded before expired', () => {
      expect(codeUnusableReason(flow(), 2, late)).toBe('code superseded by a newer one');
    });
  });
});
