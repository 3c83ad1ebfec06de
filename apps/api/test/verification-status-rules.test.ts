import { describe, expect, it } from 'vitest';
import {
  cooldownKey,
  currentDelivery,
  deliveryState,
  type StatusDelivery,
  type StatusFlow,
  type StatusInput,
  secondsUntil,
  verificationState,
  verificationStatus,
} from '../src/registration/verification-status.js';

const MAX_ATTEMPTS = 5;
const COOLDOWN = 60;
const expiresAt = new Date('2030-01-01T12:10:00.000Z');
const sentAt = new Date('2030-01-01T12:00:00.000Z');
const at = new Date('2030-01-01T12:00:20.500Z');

function aFlow(overrides: Partial<StatusFlow> = {}): StatusFlow {
  return {
    verificationId: 'vf_one',
    emailKey: 'jane@example.com',
    channel: 'email',
    destination: 'Jane@Example.com',
    codeSequence: 1,
    failedAttempts: 0,
    expiresAt,
    verifiedAt: null,
    closedAt: null,
    locale: 'es',
    ...overrides,
  };
}

let nextId = 0;
function aDelivery(overrides: Partial<StatusDelivery> = {}): StatusDelivery {
  nextId += 1;
  return {
    id: `00000000-0000-4000-8000-${String(nextId).padStart(12, '0')}`,
    channel: 'email',
    destination: 'Jane@Example.com',
    codeSequence: 1,
    fallbackOf: null,
    status: 'sent',
    providerStatus: null,
    providerErrorCode: null,
    createdAt: sentAt,
    ...overrides,
  };
}

function input(overrides: Partial<StatusInput> = {}): StatusInput {
  return {
    flow: aFlow(),
    deliveries: [aDelivery()],
    lastSentAt: new Map([['jane@example.com', sentAt]]),
    at,
    rules: { OTP_MAX_ATTEMPTS: MAX_ATTEMPTS, OTP_RESEND_COOLDOWN_SECONDS: COOLDOWN },
    ...overrides,
  };
}

describe('verificationState', () => {
  it.each([
    ['a live code', {}, 'pending'],
    [
      'a verified flow, even expired and locked',
      { verifiedAt: at, failedAttempts: 9, expiresAt: sentAt },
      'approved',
    ],
    ['a closed flow (canceled, or another flow proved the contact)', { closedAt: at }, 'canceled'],
    [
      'a locked flow, even expired',
      { failedAttempts: MAX_ATTEMPTS, expiresAt: sentAt },
      'max_attempts_reached',
    ],
    ['a flow at exactly its expiry', { expiresAt: at }, 'expired'],
    ['a flow one wrong code short of the lock', { failedAttempts: MAX_ATTEMPTS - 1 }, 'pending'],
  ] as const)('%s: %s', (_case, overrides, expected) => {
    expect(verificationState(aFlow(overrides), at, MAX_ATTEMPTS)).toBe(expected);
  });
});

describe('currentDelivery', () => {
  it("follows the current code's delivery through its fallbacks, by fallback_of and not by time", () => {
    const whatsapp = aDelivery({ channel: 'whatsapp', destination: '+14155552671', status: 'dead' });
    // The worker stamps a fallback with the database's clock, which may be behind the API's.
    const email = aDelivery({ fallbackOf: whatsapp.id, status: 'dead', createdAt: new Date(0) });
    const smtp = aDelivery({ fallbackOf: email.id, createdAt: new Date(1) });
    const found = currentDelivery(aFlow(), [smtp, whatsapp, email]);
    expect(found?.first).toBe(whatsapp);
    expect(found?.last).toBe(smtp);
  });

  it("starts from the delivery of the flow's code_sequence, whatever came later for an older code", () => {
    const old = aDelivery({ codeSequence: 1 });
    const current = aDelivery({ codeSequence: 2, createdAt: new Date(sentAt.getTime() - 1000) });
    const staleFallback = aDelivery({ codeSequence: 1, fallbackOf: old.id, createdAt: at });
    const found = currentDelivery(aFlow({ codeSequence: 2 }), [old, current, staleFallback]);
    expect(found).toEqual({ first: current, last: current });
  });

  it('takes the newest notice when the current code went out as a notice (notices carry no code_sequence)', () => {
    const code = aDelivery({ codeSequence: 1, createdAt: new Date(sentAt.getTime() - 90_000) });
    const older = aDelivery({ codeSequence: null, createdAt: new Date(sentAt.getTime() - 60_000) });
    const newest = aDelivery({ codeSequence: null });
    expect(currentDelivery(aFlow({ codeSequence: 3 }), [older, newest, code])?.last).toBe(newest);
  });

  it('is undefined for a flow without deliveries', () => {
    expect(currentDelivery(aFlow(), [])).toBeUndefined();
  });
});

describe('deliveryState', () => {
  it.each([
    ['queued', null, 'queued'],
    ['sending', null, 'sending'],
    ['failed', null, 'sending'],
    ['sent', null, 'sent'],
    ['sent', 'sent', 'sent'],
    ['sent', 'delivered', 'delivered'],
    ['sent', 'read', 'read'],
    ['sent', 'undelivered', 'undelivered'],
    ['sent', 'failed', 'failed'],
    ['dead', null, 'failed'],
    ['skipped', null, 'failed'],
  ] as const)('status %s with provider status %s reads %s', (status, providerStatus, expected) => {
    expect(deliveryState({ status, providerStatus })).toBe(expected);
  });
});

describe('cooldownKey and secondsUntil', () => {
  it('keys an email send by its mailbox and a phone send by its number', () => {
    const flow = aFlow();
    expect(cooldownKey(flow, { channel: 'email', destination: 'Jane@Example.com' })).toBe('jane@example.com');
    expect(cooldownKey(flow, { channel: 'whatsapp', destination: '+14155552671' })).toBe('+14155552671');
    expect(cooldownKey(flow, { channel: 'sms', destination: '+14155552671' })).toBe('+14155552671');
  });

  it('rounds up, and is 0 once past', () => {
    expect(secondsUntil(new Date(at.getTime() + 1), at)).toBe(1);
    expect(secondsUntil(new Date(at.getTime() + 39_500), at)).toBe(40);
    expect(secondsUntil(at, at)).toBe(0);
    expect(secondsUntil(sentAt, at)).toBe(0);
  });
});

describe('verificationStatus', () => {
  it('of a pending email code: its delivery, seconds left, the cooldown counting down, the attempts left', () => {
    expect(verificationStatus(input({ flow: aFlow({ failedAttempts: 2 }) }))).toEqual({
      verificationId: 'vf_one',
      state: 'pending',
      channel: 'email',
      delivery: { state: 'sent', errorCode: null },
      fellBack: false,
      // 9 min 39.5 s, rounded up.
      expiresInSeconds: 580,
      // 60 s from 12:00:00, at 12:00:20.5.
      resendAfterSeconds: 40,
      attemptsLeft: MAX_ATTEMPTS - 2,
      locale: 'es',
    });
  });

  it('of a WhatsApp code that fell back to email: the email and its state; the cooldown of the number asked for', () => {
    const whatsapp = aDelivery({
      channel: 'whatsapp',
      destination: '+14155552671',
      status: 'dead',
      providerStatus: 'failed',
      providerErrorCode: '63016',
    });
    const email = aDelivery({ fallbackOf: whatsapp.id, providerStatus: 'delivered' });
    const status = verificationStatus(
      input({
        // The worker moved the flow to the email with the fallback.
        flow: aFlow({ channel: 'email' }),
        deliveries: [whatsapp, email],
        lastSentAt: new Map([['+14155552671', new Date(at.getTime() - 10_000)]]),
      }),
    );
    expect(status).toMatchObject({
      state: 'pending',
      channel: 'email',
      delivery: { state: 'delivered', errorCode: null },
      fellBack: true,
      resendAfterSeconds: 50,
    });
  });

  it("shows a failed message's provider error code", () => {
    const whatsapp = aDelivery({
      channel: 'whatsapp',
      destination: '+14155552671',
      providerStatus: 'undelivered',
      providerErrorCode: '63016',
    });
    const status = verificationStatus(
      input({ flow: aFlow({ channel: 'whatsapp' }), deliveries: [whatsapp] }),
    );
    expect(status).toMatchObject({
      channel: 'whatsapp',
      delivery: { state: 'undelivered', errorCode: '63016' },
    });
  });

  it('allows a resend at once when no cooldown runs (none kept, or it is over)', () => {
    expect(verificationStatus(input({ lastSentAt: new Map() })).resendAfterSeconds).toBe(0);
    const longAgo = new Map([['jane@example.com', new Date(at.getTime() - COOLDOWN * 1000)]]);
    expect(verificationStatus(input({ lastSentAt: longAgo })).resendAfterSeconds).toBe(0);
  });

  it.each([
    ['approved', { verifiedAt: at }, null],
    ['canceled', { closedAt: at }, null],
    ['max_attempts_reached', { failedAttempts: MAX_ATTEMPTS }, null],
    ['expired', { expiresAt: sentAt }, 40],
  ] as const)(
    'once %s: no delivery, no time left; a resend only for an expired code',
    (state, overrides, resendAfter) => {
      const status = verificationStatus(input({ flow: aFlow(overrides) }));
      expect(status).toMatchObject({
        state,
        channel: 'email',
        delivery: null,
        fellBack: false,
        expiresInSeconds: 0,
        resendAfterSeconds: resendAfter,
      });
    },
  );

  it('hides a skipped code once the flow has ended (a notice would have been sent regardless)', () => {
    const skipped = aDelivery({ status: 'skipped' });
    const notice = aDelivery({ codeSequence: null, status: 'sent', providerStatus: null });
    const canceled = aFlow({ closedAt: at });
    expect(verificationStatus(input({ flow: canceled, deliveries: [skipped] }))).toEqual(
      verificationStatus(input({ flow: canceled, deliveries: [notice] })),
    );
  });

  it('reads a notice flow as a code flow at the same stage: the kind is not even an input', () => {
    const code = aDelivery({ codeSequence: 1 });
    const notice = aDelivery({ codeSequence: null });
    expect(verificationStatus(input({ deliveries: [notice] }))).toEqual(
      verificationStatus(input({ deliveries: [code] })),
    );
  });

  it('says queued, on the flow own channel, while no delivery is found', () => {
    const status = verificationStatus(
      input({ flow: aFlow({ channel: 'whatsapp', destination: '+14155552671' }), deliveries: [] }),
    );
    expect(status).toMatchObject({
      channel: 'whatsapp',
      delivery: { state: 'queued', errorCode: null },
      fellBack: false,
    });
  });
});
