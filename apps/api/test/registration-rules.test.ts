import type { RegistrationFlow } from '@otp-relay/db';
import { describe, expect, it } from 'vitest';
import type { MobileNumber } from '../src/registration/mobile-number.js';
import { RegistrationError } from '../src/registration/registration-errors.js';
import {
  type Destination,
  destinationFor,
  flowKindFor,
  judgeCode,
  pickFlow,
  proofOf,
  publicRejection,
  resendDecision,
  type Verdict,
} from '../src/registration/registration-rules.js';

const MAX_ATTEMPTS = 5;
const expiresAt = new Date('2030-01-01T12:00:00.000Z');
const live = new Date(expiresAt.getTime() - 60_000);
const earlier = new Date(expiresAt.getTime() - 120_000);

function aFlow(overrides: Partial<RegistrationFlow> = {}): RegistrationFlow {
  return {
    id: '00000000-0000-4000-8000-000000000001',
    verificationId: 'vf_one',
    kind: 'code',
    email: 'Jane@Example.com',
    emailKey: 'jane@example.com',
    channel: 'email',
    destination: 'Jane@Example.com',
    mobile: null,
    username: 'jane',
    metadata: {},
    locale: 'en',
    firstName: 'Jane',
    lastName: 'Doe',
    passwordHash: 'hash',
    codeHash: 'code-hash',
    codeSequence: 1,
    failedAttempts: 0,
    failedAttemptsWithoutId: 0,
    expiresAt,
    verifiedAt: null,
    closedAt: null,
    canceledAt: null,
    createdAt: earlier,
    ...overrides,
  };
}

const emailDestination: Destination = {
  channel: 'email',
  destination: 'Jane@Example.com',
  limitKey: 'jane@example.com',
};

function thrownBy(act: () => unknown): unknown {
  try {
    act();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('pickFlow', () => {
  const mine = aFlow({ verificationId: 'vf_mine' });
  const other = aFlow({ id: '00000000-0000-4000-8000-000000000002', verificationId: 'vf_other' });

  describe('with a verification id', () => {
    it('picks only the flow with that id', () => {
      const picked = pickFlow([other, mine], { mailbox: 'jane@example.com', verificationId: 'vf_mine' });
      expect(picked).toEqual({ flow: mine });
    });

    it('picks nothing when no flow has that id', () => {
      expect(pickFlow([mine], { mailbox: 'jane@example.com', verificationId: 'vf_unknown' })).toEqual({
        none: true,
      });
    });

    it('picks nothing when the flow with that id belongs to another mailbox', () => {
      const elsewhere = aFlow({ verificationId: 'vf_mine', emailKey: 'someone@example.com' });
      expect(pickFlow([elsewhere], { mailbox: 'jane@example.com', verificationId: 'vf_mine' })).toEqual({
        none: true,
      });
    });

    it('is not ambiguous when several rows were found', () => {
      const picked = pickFlow([mine, other], { mailbox: 'jane@example.com', verificationId: 'vf_other' });
      expect(picked).toEqual({ flow: other });
    });
  });

  describe('without a verification id', () => {
    it('picks the one open flow', () => {
      expect(pickFlow([mine], { mailbox: 'jane@example.com' })).toEqual({ flow: mine });
    });

    it('picks nothing when there is no open flow', () => {
      expect(pickFlow([], { mailbox: 'jane@example.com' })).toEqual({ none: true });
    });

    it('refuses to pick between two open flows', () => {
      expect(pickFlow([mine, other], { mailbox: 'jane@example.com' })).toEqual({ ambiguous: true });
    });

    it('treats an explicitly undefined id as no id', () => {
      expect(pickFlow([mine, other], { mailbox: 'jane@example.com', verificationId: undefined })).toEqual({
        ambiguous: true,
      });
    });
  });
});

describe('judgeCode', () => {
  it('verifies a matching code on a live, unlocked code flow', () => {
    expect(judgeCode(aFlow(), true, live, MAX_ATTEMPTS)).toBe('VERIFIED');
  });

  it('verifies one guess short of the lock', () => {
    expect(judgeCode(aFlow({ failedAttempts: MAX_ATTEMPTS - 1 }), true, live, MAX_ATTEMPTS)).toBe('VERIFIED');
  });

  it('calls a wrong code invalid', () => {
    expect(judgeCode(aFlow(), false, live, MAX_ATTEMPTS)).toBe('OTP_INVALID');
  });

  it('never verifies a notice flow, even with a matching code', () => {
    expect(judgeCode(aFlow({ kind: 'notice' }), true, live, MAX_ATTEMPTS)).toBe('OTP_INVALID');
    expect(judgeCode(aFlow({ kind: 'notice' }), false, live, MAX_ATTEMPTS)).toBe('OTP_INVALID');
  });

  it('locks the flow at max failed attempts, even against the right code', () => {
    expect(judgeCode(aFlow({ failedAttempts: MAX_ATTEMPTS }), true, live, MAX_ATTEMPTS)).toBe(
      'OTP_ATTEMPTS_EXCEEDED',
    );
    expect(judgeCode(aFlow({ failedAttempts: MAX_ATTEMPTS + 1 }), false, live, MAX_ATTEMPTS)).toBe(
      'OTP_ATTEMPTS_EXCEEDED',
    );
  });

  it('puts the lock before expiry', () => {
    expect(judgeCode(aFlow({ failedAttempts: MAX_ATTEMPTS }), true, expiresAt, MAX_ATTEMPTS)).toBe(
      'OTP_ATTEMPTS_EXCEEDED',
    );
  });

  it('calls the code expired exactly at expiresAt, and not 1 ms before', () => {
    const justBefore = new Date(expiresAt.getTime() - 1);
    expect(judgeCode(aFlow(), true, justBefore, MAX_ATTEMPTS)).toBe('VERIFIED');
    expect(judgeCode(aFlow(), true, expiresAt, MAX_ATTEMPTS)).toBe('OTP_EXPIRED');
    expect(judgeCode(aFlow(), false, expiresAt, MAX_ATTEMPTS)).toBe('OTP_EXPIRED');
  });

  it('says a verified flow’s code was already used, whatever the code, lock or clock', () => {
    const verified = aFlow({ verifiedAt: earlier });
    expect(judgeCode(verified, true, live, MAX_ATTEMPTS)).toBe('code already used');
    expect(judgeCode({ ...verified, failedAttempts: MAX_ATTEMPTS }, true, expiresAt, MAX_ATTEMPTS)).toBe(
      'code already used',
    );
  });

  it('says a closed flow’s registration ended, whatever the code, lock or clock', () => {
    const closed = aFlow({ closedAt: earlier });
    expect(judgeCode(closed, true, live, MAX_ATTEMPTS)).toBe('registration ended');
    expect(judgeCode({ ...closed, failedAttempts: MAX_ATTEMPTS }, true, expiresAt, MAX_ATTEMPTS)).toBe(
      'registration ended',
    );
  });
});

describe('publicRejection', () => {
  const verdicts: Exclude<Verdict, 'VERIFIED'>[] = [
    'OTP_INVALID',
    'OTP_EXPIRED',
    'OTP_ATTEMPTS_EXCEEDED',
    'code already used',
    'registration ended',
  ];

  it.each(verdicts)('tells a caller without the id only OTP_INVALID (%s)', (verdict) => {
    expect(publicRejection(verdict, false)).toBe('OTP_INVALID');
  });

  it('tells the holder of the id that the code expired or the flow is locked', () => {
    expect(publicRejection('OTP_EXPIRED', true)).toBe('OTP_EXPIRED');
    expect(publicRejection('OTP_ATTEMPTS_EXCEEDED', true)).toBe('OTP_ATTEMPTS_EXCEEDED');
  });

  it('tells the holder OTP_INVALID for a wrong code or a finished flow', () => {
    expect(publicRejection('OTP_INVALID', true)).toBe('OTP_INVALID');
    expect(publicRejection('code already used', true)).toBe('OTP_INVALID');
    expect(publicRejection('registration ended', true)).toBe('OTP_INVALID');
  });
});

describe('resendDecision', () => {
  for (const holdsId of [true, false]) {
    describe(holdsId ? 'for the holder of the id' : 'for a caller without the id', () => {
      it('sends to the destination of a live flow', () => {
        expect(resendDecision(aFlow(), emailDestination, holdsId, MAX_ATTEMPTS)).toEqual({
          send: emailDestination,
        });
      });

      it('answers as if there were no flow when the flow was verified or closed', () => {
        const verified = aFlow({ verifiedAt: earlier });
        const closed = aFlow({ closedAt: earlier });
        expect(resendDecision(verified, emailDestination, holdsId, MAX_ATTEMPTS)).toEqual({
          asIfNoFlow: true,
        });
        expect(resendDecision(closed, emailDestination, holdsId, MAX_ATTEMPTS)).toEqual({ asIfNoFlow: true });
        // Finished comes before locked and before a missing destination.
        const finishedAndLocked = aFlow({ closedAt: earlier, failedAttempts: MAX_ATTEMPTS });
        expect(resendDecision(finishedAndLocked, undefined, holdsId, MAX_ATTEMPTS)).toEqual({
          asIfNoFlow: true,
        });
      });
    });
  }

  it('refuses the holder of a locked flow with OTP_ATTEMPTS_EXCEEDED', () => {
    const locked = aFlow({ failedAttempts: MAX_ATTEMPTS });
    const error = thrownBy(() => resendDecision(locked, emailDestination, true, MAX_ATTEMPTS));
    expect(error).toBeInstanceOf(RegistrationError);
    expect(error).toMatchObject({ code: 'OTP_ATTEMPTS_EXCEEDED' });
  });

  it('answers a caller without the id as if a locked flow did not exist', () => {
    const locked = aFlow({ failedAttempts: MAX_ATTEMPTS });
    expect(resendDecision(locked, emailDestination, false, MAX_ATTEMPTS)).toEqual({ asIfNoFlow: true });
  });

  it('sends for a flow one wrong guess short of the lock', () => {
    const nearlyLocked = aFlow({ failedAttempts: MAX_ATTEMPTS - 1 });
    expect(resendDecision(nearlyLocked, emailDestination, true, MAX_ATTEMPTS)).toEqual({
      send: emailDestination,
    });
  });

  it('puts the lock before a missing destination', () => {
    const locked = aFlow({ failedAttempts: MAX_ATTEMPTS });
    expect(thrownBy(() => resendDecision(locked, undefined, true, MAX_ATTEMPTS))).toMatchObject({
      code: 'OTP_ATTEMPTS_EXCEEDED',
    });
  });

  it('tells the holder that WhatsApp needs a mobile when the flow has none', () => {
    const noMobile = aFlow();
    const to = destinationFor('whatsapp', { typed: noMobile.email, mailbox: noMobile.emailKey }, undefined);
    const error = thrownBy(() => resendDecision(noMobile, to, true, MAX_ATTEMPTS));
    expect(error).toBeInstanceOf(RegistrationError);
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', details: { field: 'mobile' } });
  });

  it('answers a caller without the id as if there were no flow when the flow has no mobile', () => {
    const noMobile = aFlow();
    const to = destinationFor('whatsapp', { typed: noMobile.email, mailbox: noMobile.emailKey }, undefined);
    expect(resendDecision(noMobile, to, false, MAX_ATTEMPTS)).toEqual({ asIfNoFlow: true });
  });
});

describe('destinationFor', () => {
  const email = { typed: 'Jane+Shop@Example.com', mailbox: 'jane@example.com' };
  const mobile: MobileNumber = { e164: '+14155552671', country: 'US', callingCode: '1' };

  it('mails the address as typed and counts limits under the mailbox key', () => {
    expect(destinationFor('email', email, undefined)).toStrictEqual({
      channel: 'email',
      destination: 'Jane+Shop@Example.com',
      limitKey: 'jane@example.com',
    });
  });

  it('ignores the mobile for email', () => {
    expect(destinationFor('email', email, mobile)).toStrictEqual({
      channel: 'email',
      destination: 'Jane+Shop@Example.com',
      limitKey: 'jane@example.com',
    });
  });

  it('sends WhatsApp to the E.164 number, keyed by it, with its calling code', () => {
    expect(destinationFor('whatsapp', email, mobile)).toStrictEqual({
      channel: 'whatsapp',
      destination: '+14155552671',
      limitKey: '+14155552671',
      whatsappCallingCode: '1',
    });
  });

  it('has no WhatsApp destination without a mobile', () => {
    expect(destinationFor('whatsapp', email, undefined)).toBeUndefined();
  });
});

describe('proofOf', () => {
  it('says an emailed code proves the email and a WhatsApp code proves the phone', () => {
    expect(proofOf('email')).toBe('email');
    expect(proofOf('whatsapp')).toBe('phone');
  });
});

describe('flowKindFor', () => {
  it('sends a code to a new contact and a notice to one that already has an account', () => {
    expect(flowKindFor(false)).toBe('code');
    expect(flowKindFor(true)).toBe('notice');
  });
});
