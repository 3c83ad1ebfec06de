import { randomUUID } from 'node:crypto';
import { type NewWebhookEvent, type WebhookUser, webhookDedupeKey, webhookEvent } from '@otp-relay/core';
import type { RegistrationFlow } from '@otp-relay/db';
import type { Account } from './flow-repository.js';
import type { Proof } from './registration-rules.js';

/**
 * The webhook events registration records when a flow creates an account: `user.registered` and
 * `verification.approved`, in the statement that creates it. Nothing secret: no code, no password
 * hash, no token.
 */

/** The account as the API's user object (verify-otp, /me) and user.registered show it: one shape. */
export function userObject(account: Account): WebhookUser {
  return {
    id: account.id,
    email: account.email,
    mobile: account.phone,
    username: account.username,
    first_name: account.firstName,
    last_name: account.lastName,
    is_verified: account.isVerified,
    email_verified: account.emailVerifiedAt !== null,
    phone_verified: account.phoneVerifiedAt !== null,
    metadata: account.metadata,
  };
}

export function accountCreatedEvents(
  flow: RegistrationFlow,
  proof: Proof,
  account: Account,
  at: Date,
): NewWebhookEvent[] {
  return [
    webhookEvent(
      randomUUID(),
      'verification.approved',
      webhookDedupeKey.verificationApproved(flow.id),
      {
        verification_id: flow.verificationId,
        user_id: account.id,
        channel: flow.channel,
        proved: proof,
        contact: flow.destination,
      },
      at,
    ),
    webhookEvent(
      randomUUID(),
      'user.registered',
      webhookDedupeKey.userRegistered(account.id),
      { verification_id: flow.verificationId, user: userObject(account) },
      at,
    ),
  ];
}
