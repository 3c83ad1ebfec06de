/**
 * Twilio, for WhatsApp and SMS: the credentials (fetch the account, which sends nothing), the
 * account's status, then each channel's sender (and WhatsApp's template) from the configuration.
 * The client goes to TWILIO_API_BASE_URL the way the worker's does: a RequestClient that rewrites
 * every request's URI.
 */
import type { WorkerConfig } from '@otp-relay/core';
import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import { type CheckResult, fail, pass } from './check-result.js';

export const TWILIO_SANDBOX_NUMBER = '+14155238886';
const E164 = /^\+[1-9]\d{6,14}$/;
const CONTENT_SID = /^HX[0-9a-fA-F]{32}$/;
const MESSAGING_SERVICE_SID = /^MG[0-9a-fA-F]{32}$/;

type TwilioResponse<TData> = Awaited<ReturnType<typeof twilio.RequestClient.prototype.request<TData>>>;

class BaseUrlRequestClient extends twilio.RequestClient {
  constructor(
    private readonly baseUrl: string,
    options: ConstructorParameters<typeof twilio.RequestClient>[0],
  ) {
    super(options);
  }

  override request<TData>(options: RequestClient.RequestOptions<TData>): Promise<TwilioResponse<TData>> {
    const { pathname, search } = new URL(options.uri);
    return super.request({ ...options, uri: `${this.baseUrl}${pathname}${search}` });
  }
}

const CREDENTIALS = 'Twilio credentials';
const STATUS = 'Twilio account';

/** The account, once, and the sender of each channel on Twilio. */
export async function checkTwilio(config: WorkerConfig): Promise<CheckResult[]> {
  const results = await twilioAccountChecks(config);
  if (config.WHATSAPP_PROVIDER === 'twilio') results.push(...whatsappSenderChecks(config));
  if (config.SMS_PROVIDER === 'twilio') results.push(smsSenderCheck(config));
  return results;
}

/** The credentials and the account's status, by fetching the account. */
async function twilioAccountChecks(config: WorkerConfig): Promise<CheckResult[]> {
  const accountSid = config.TWILIO_ACCOUNT_SID ?? '';
  const baseUrl = config.TWILIO_API_BASE_URL.replace(/\/+$/, '');
  const client = twilio(accountSid, config.TWILIO_AUTH_TOKEN ?? '', {
    autoRetry: false,
    httpClient: new BaseUrlRequestClient(baseUrl, { timeout: config.PROVIDER_TIMEOUT_MS }),
  });
  const results: CheckResult[] = [];
  try {
    const account = await client.api.v2010.accounts(accountSid).fetch();
    results.push(pass(CREDENTIALS, `accepted for "${account.friendlyName}" (${account.type} account)`));
    results.push(accountStatus(account.status, account.type));
  } catch (error) {
    results.push(fail(CREDENTIALS, describeTwilioFailure(error, accountSid, baseUrl)));
  }
  return results;
}

export function describeTwilioFailure(error: unknown, accountSid: string, baseUrl: string): string {
  if (error instanceof twilio.RestException) {
    if (error.code === 20003) {
      return (
        'Account SID or auth token wrong (Twilio 20003 Authenticate): compare TWILIO_ACCOUNT_SID and ' +
        'TWILIO_AUTH_TOKEN with the Twilio console (Account info); a rotated auth token replaces the old one'
      );
    }
    if (error.code === 20404) return `Twilio has no account ${accountSid} for these credentials (20404)`;
    return `Twilio ${error.code ?? 'error'} (HTTP ${error.status}): ${error.message}`;
  }
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  return `could not reach Twilio at ${baseUrl} (${code ?? 'no answer'}): ${message ?? 'unknown error'}`;
}

function accountStatus(status: string, type: string): CheckResult {
  if (status === 'active') {
    return pass(
      STATUS,
      type === 'Trial'
        ? 'active (trial: it can only message numbers verified in the console, or the sandbox)'
        : 'active',
    );
  }
  if (status === 'suspended') {
    return fail(
      STATUS,
      'suspended: Twilio sends nothing until it is reactivated (usually billing or a compliance review; see the Twilio console)',
    );
  }
  if (status === 'closed') return fail(STATUS, 'closed: use the SID and auth token of an active account');
  return fail(STATUS, `status "${status}", not active`);
}

/** Sender and template, from the configuration alone. */
export function whatsappSenderChecks(config: WorkerConfig): CheckResult[] {
  const from = (config.TWILIO_WHATSAPP_FROM ?? '').replace(/^whatsapp:/, '');
  const sandbox = from === TWILIO_SANDBOX_NUMBER;
  const production = config.NODE_ENV === 'production';
  const results: CheckResult[] = [];
  if (!E164.test(from)) {
    results.push(
      fail(
        'WhatsApp sender',
        `TWILIO_WHATSAPP_FROM "${from}" is not an E.164 number (+ country code and number)`,
      ),
    );
  } else if (sandbox) {
    const note =
      "Twilio's WhatsApp sandbox: each recipient must first send the sandbox's join phrase " +
      `("join <your-two-words>", see the console) to ${TWILIO_SANDBOX_NUMBER} from WhatsApp; a message to a ` +
      'number that has not joined fails with 63015 (63016 outside the 24-hour window)';
    results.push(
      production
        ? fail('WhatsApp sender', `${note}. Not for production: register your own WhatsApp sender`)
        : pass('WhatsApp sender', note),
    );
  } else {
    results.push(
      pass(
        'WhatsApp sender',
        `${from} (must be a registered WhatsApp sender: Messaging → Senders → WhatsApp senders)`,
      ),
    );
  }

  const contentSid = config.TWILIO_WHATSAPP_CONTENT_SID;
  if (contentSid !== undefined) {
    results.push(
      CONTENT_SID.test(contentSid)
        ? pass(
            'WhatsApp template',
            `${contentSid} (must be an approved Authentication template whose one variable {{1}} is the code)`,
          )
        : fail(
            'WhatsApp template',
            `TWILIO_WHATSAPP_CONTENT_SID "${contentSid}" is not HX followed by 32 hex characters`,
          ),
    );
  } else if (sandbox) {
    results.push(pass('WhatsApp template', 'none: free-form text, which the sandbox allows'));
  } else {
    results.push(
      fail(
        'WhatsApp template',
        'TWILIO_WHATSAPP_CONTENT_SID is not set: outside the sandbox WhatsApp delivers a business-initiated ' +
          'message only as an approved template, so free-form codes fail with 63016. Create an Authentication ' +
          'template in the Content Template Builder and set its HX… SID',
      ),
    );
  }
  return results;
}

/** The SMS sender, from the configuration alone: a number of the account, or a Messaging Service. */
export function smsSenderCheck(config: WorkerConfig): CheckResult {
  const name = 'SMS sender';
  const service = config.TWILIO_MESSAGING_SERVICE_SID;
  if (service !== undefined) {
    return MESSAGING_SERVICE_SID.test(service)
      ? pass(
          name,
          `Messaging Service ${service} (it picks the sender per country from its Sender Pool: Messaging → ` +
            'Services; each country you send to needs a sender there that may text it)',
        )
      : fail(name, `TWILIO_MESSAGING_SERVICE_SID "${service}" is not MG followed by 32 hex characters`);
  }
  const from = config.TWILIO_SMS_FROM ?? '';
  if (!E164.test(from)) {
    return fail(name, `TWILIO_SMS_FROM "${from}" is not an E.164 number (+ country code and number)`);
  }
  return pass(
    name,
    `${from} (must be an SMS-capable number of this account: Phone Numbers → Active numbers; a trial ` +
      'account texts only verified numbers, and some countries need a registered sender: 21408, 21612)',
  );
}
