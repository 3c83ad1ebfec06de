/**
 * What a virtual user does. Ours: request a code, read it from the fake inbox (event-based), verify
 * it with the `verification_id` request-otp answered, as a frontend does: a complete registration of
 * a distinct shopper. The sending baseline: the same, on its paths, by address alone (it has no ids).
 * Baseline: the same two calls on the bare server, verify by the id it answers (it sends nothing).
 * Soak: registrations mixed with a wrong code, a resend inside the cooldown and `GET /me`.
 */
import { randomBytes, randomInt } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { HttpClient, Iteration } from './load.js';
import type { Mailbox } from './mailbox.js';

const RUN = randomBytes(3).toString('hex');

/** A distinct shopper per sequence number, valid for the API's schema. */
export function shopper(seq: number) {
  return {
    email: `s${RUN}-${seq}@shop.test`,
    otp_method: 'email',
    username: `u${RUN}_${seq}`,
    first_name: 'Bench',
    last_name: 'Shopper',
    password: 'a long enough password',
  };
}

const stringField = (body: unknown, field: string) => {
  const value =
    typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
  return typeof value === 'string' ? value : undefined;
};
const tokenOf = (body: unknown) => stringField(body, 'token');

/** Ours; the sending baseline takes the same bodies on its own paths. */
export interface RegistrationPaths {
  request: string;
  verify: string;
  /** request-otp answers a `verification_id`, and every later call of the flow sends it back. */
  flowIds: boolean;
}

const OUR_PATHS: RegistrationPaths = {
  request: '/api/accounts/request-otp/',
  verify: '/api/accounts/verify-otp/',
  flowIds: true,
};
export const BASELINE_PATHS: RegistrationPaths = { request: '/request', verify: '/verify', flowIds: false };

export interface OursFlowOptions {
  emailTimeoutMs: number;
  paths?: RegistrationPaths;
  /** Soak: mix in a wrong code, a resend inside the cooldown and `GET /me`. */
  mixed?: boolean;
  /**
   * The shopper's time to read the email and type the code, drawn uniformly from this range;
   * none when absent (the register scenario measures the server at saturation).
   */
  thinkTimeMs?: { min: number; max: number };
}

export function oursRegistration(client: HttpClient, mailbox: Mailbox, options: OursFlowOptions): Iteration {
  const paths = options.paths ?? OUR_PATHS;
  return async ({ seq, latencies, errors, arrivalAt }) => {
    const body = shopper(seq);
    const mail = mailbox.expect(body.email, options.emailTimeoutMs);
    // Settled below, or never when the request fails (then the wait is forgotten).
    mail.catch(() => {});
    const requested = Date.now();
    let answer: unknown;
    try {
      ({ body: answer } = await client.call(latencies, 'request-otp', 'POST', paths.request, {
        body,
        since: arrivalAt,
      }));
    } catch (error) {
      mailbox.forget(body.email);
      throw error;
    }
    // Sent on every later call of this flow, as a frontend does; absent for the sending baseline.
    const flow: { verification_id?: string } = {};
    if (paths.flowIds) {
      const id = stringField(answer, 'verification_id');
      if (!id) {
        mailbox.forget(body.email);
        errors.add('request-otp:no-verification-id');
        return false;
      }
      flow.verification_id = id;
    }
    if (options.mixed && seq % 10 === 3) {
      // Inside the 60 s cooldown: answered 429 without sending.
      await client.call(latencies, 'resend-otp', 'POST', '/api/accounts/resend-otp/', {
        body: { email: body.email, otp_method: 'email', ...flow },
        expect: [429],
      });
    }
    let code: string;
    try {
      const received = await mail;
      latencies.record('delivery', received.receivedAt - requested);
      code = received.code;
    } catch {
      errors.add('email-timeout');
      return false;
    }
    if (options.thinkTimeMs) await delay(randomInt(options.thinkTimeMs.min, options.thinkTimeMs.max + 1));
    if (options.mixed && seq % 10 === 7) {
      const wrong = code === '000000' ? '000001' : '000000';
      await client.call(latencies, 'verify-otp-wrong', 'POST', paths.verify, {
        body: { email: body.email, otp: wrong, ...flow },
        expect: [400],
      });
    }
    const verified = await client.call(latencies, 'verify-otp', 'POST', paths.verify, {
      body: { email: body.email, otp: code, ...flow },
    });
    const token = tokenOf(verified.body);
    if (!token) {
      errors.add('verify-otp:no-token');
      return false;
    }
    if (options.mixed) await client.call(latencies, 'me', 'GET', '/api/accounts/me', { token });
    return true;
  };
}

export function baselineRegistration(client: HttpClient): Iteration {
  return async ({ seq, latencies, arrivalAt }) => {
    const { email, username, first_name, last_name, password } = shopper(seq);
    const requested = await client.call(latencies, 'request-otp', 'POST', BASELINE_PATHS.request, {
      body: { email, username, first_name, last_name, password },
      since: arrivalAt,
    });
    const id =
      typeof requested.body === 'object' && requested.body !== null && 'id' in requested.body
        ? requested.body.id
        : undefined;
    const verified = await client.call(latencies, 'verify-otp', 'POST', BASELINE_PATHS.verify, {
      body: { id },
    });
    return tokenOf(verified.body) !== undefined;
  };
}
