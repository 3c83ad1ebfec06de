import { type ApiConfig, ConfigError, type Logger } from '@otp-relay/core';
import { problem } from './field-errors.js';
import { RegistrationError } from './registration-errors.js';

/**
 * The human check (CAPTCHA) on the endpoints that send: request-otp and resend-otp. It runs
 * before anything costly (the password hash, the send budgets), so a bot without an answer
 * costs one HTTP round trip to the provider and nothing else.
 */
export interface HumanCheck {
  /**
   * Resolves when `answer` (the body's `captcha_token`) is a fresh, valid answer for `ip`;
   * throws RegistrationError CAPTCHA_REQUIRED (no answer), CAPTCHA_INVALID (refused by the
   * provider) or SERVICE_UNAVAILABLE (the provider could not be asked).
   */
  assertHuman(answer: string | undefined, ip: string): Promise<void>;
}

/** No CAPTCHA_PROVIDER configured: every caller passes. */
export const NO_HUMAN_CHECK: HumanCheck = {
  async assertHuman() {},
};

export type CaptchaProvider = NonNullable<ApiConfig['CAPTCHA_PROVIDER']>;

export const SITEVERIFY_URLS: Readonly<Record<CaptchaProvider, string>> = {
  turnstile: 'https://challenges.cloudflare.com/turnstile/v0/siteverify',
  hcaptcha: 'https://api.hcaptcha.com/siteverify',
};

export type HumanCheckConfig = Pick<
  ApiConfig,
  'CAPTCHA_PROVIDER' | 'CAPTCHA_SECRET_KEY' | 'CAPTCHA_SITE_KEY' | 'CAPTCHA_VERIFY_URL'
>;

export interface HumanCheckOptions {
  /** How long to wait for the provider's answer, body included; default 5 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;
const RETRY_AFTER_SECONDS = 5;

// Error codes that mean this service is misconfigured, whatever the shopper sent: hCaptcha's
// sitekey-secret-mismatch is CAPTCHA_SITE_KEY and CAPTCHA_SECRET_KEY of different sites.
const OPERATOR_ERRORS = new Set(['missing-input-secret', 'invalid-input-secret', 'sitekey-secret-mismatch']);
// The provider's own trouble (Turnstile says to retry): not the shopper's fault either.
const PROVIDER_ERRORS = new Set(['internal-error']);

interface SiteverifyAnswer {
  success: boolean;
  errorCodes: string[];
}

/** The fields we act on, or undefined when the body is not a siteverify answer. */
function siteverifyAnswer(body: unknown): SiteverifyAnswer | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { success, 'error-codes': errorCodes } = body as Record<string, unknown>;
  if (typeof success !== 'boolean') return undefined;
  const codes = Array.isArray(errorCodes) ? errorCodes.filter((c): c is string => typeof c === 'string') : [];
  return { success, errorCodes: codes };
}

function unavailable(): RegistrationError {
  return new RegistrationError(
    'SERVICE_UNAVAILABLE',
    'The human check cannot be verified right now; try again shortly.',
    { retryAfterSeconds: RETRY_AFTER_SECONDS },
  );
}

/**
 * The check CAPTCHA_PROVIDER configures: the answer is sent to the provider's siteverify. It
 * fails closed: when the provider cannot be asked, or answers something we cannot read, the
 * request is refused with 503 rather than let through, since a bot would otherwise pass while
 * the provider is down. The answer itself is never logged.
 *
 * The answer's `hostname` and `action` are not checked: the provider already binds a site key to
 * the hostnames its dashboard lists, and one widget serves both endpoints.
 */
export function createHumanCheck(
  config: HumanCheckConfig,
  logger: Logger,
  options: HumanCheckOptions = {},
): HumanCheck {
  const provider = config.CAPTCHA_PROVIDER;
  if (!provider) return NO_HUMAN_CHECK;
  const secret = config.CAPTCHA_SECRET_KEY;
  if (!secret) throw new ConfigError(['CAPTCHA_SECRET_KEY: required when CAPTCHA_PROVIDER is set']);
  const verifyUrl = config.CAPTCHA_VERIFY_URL ?? SITEVERIFY_URLS[provider];
  // hCaptcha recommends naming the site key: an answer from another site's widget then fails.
  const siteKey = provider === 'hcaptcha' ? config.CAPTCHA_SITE_KEY : undefined;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const log = logger.child({ captchaProvider: provider });

  /** The provider's answer, or SERVICE_UNAVAILABLE when there is none to read. */
  const siteverify = async (answer: string, ip: string): Promise<SiteverifyAnswer> => {
    const form = new URLSearchParams({ secret, response: answer });
    if (ip) form.set('remoteip', ip);
    if (siteKey) form.set('sitekey', siteKey);
    let status: number;
    let body: unknown;
    try {
      // The signal also bounds reading the body: a provider that stalls mid-answer times out too.
      const response = await fetch(verifyUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      body = await response.json().catch(() => undefined);
    } catch (error) {
      log.warn(
        { error: error instanceof Error ? error.message : String(error), timeoutMs },
        'captcha provider unreachable; refusing the request',
      );
      throw unavailable();
    }
    const parsed = status >= 500 ? undefined : siteverifyAnswer(body);
    if (!parsed) {
      log.warn({ status }, 'captcha provider gave no siteverify answer; refusing the request');
      throw unavailable();
    }
    return parsed;
  };

  return {
    async assertHuman(answer, ip) {
      if (!answer) {
        throw new RegistrationError(
          'CAPTCHA_REQUIRED',
          'Complete the human check and send its answer as captcha_token.',
          { field: 'captcha_token', problem: problem('required') },
        );
      }
      const verdict = await siteverify(answer, ip);
      if (verdict.success) return;
      const { errorCodes } = verdict;
      if (errorCodes.some((code) => OPERATOR_ERRORS.has(code))) {
        log.error(
          { errorCodes },
          'captcha provider refused our credentials: check CAPTCHA_SECRET_KEY (and CAPTCHA_SITE_KEY) against the provider dashboard',
        );
        throw unavailable();
      }
      if (errorCodes.some((code) => PROVIDER_ERRORS.has(code))) {
        log.warn({ errorCodes }, 'captcha provider failed to check an answer; refusing the request');
        throw unavailable();
      }
      log.info({ errorCodes }, 'captcha answer refused');
      throw new RegistrationError(
        'CAPTCHA_INVALID',
        'The human check failed or expired; complete it again.',
        { field: 'captcha_token', problem: problem('rejected') },
      );
    },
  };
}
