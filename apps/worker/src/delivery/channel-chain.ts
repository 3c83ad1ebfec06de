import type { Channel, RegistrationFlow } from '@otp-relay/db';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * Which channel a code moves to when its delivery on one channel fails for good: the next one
 * after it in FALLBACK_CHAIN (by default WhatsApp → SMS → email) that this worker can send on and
 * that the flow has a contact for. A plain rule, unit-tested without a database.
 */
export interface ChannelChain {
  /** FALLBACK_CHAIN, in order. */
  order: readonly Channel[];
  /** The channels this worker has a sender for. */
  available: ReadonlySet<Channel>;
  /** WHATSAPP_FALLBACK_TO_EMAIL=false keeps a WhatsApp code off email (the chain may still try SMS). */
  whatsappToEmail: boolean;
  /** SMS_ALLOWED_COUNTRIES: empty means any. A number request-otp took for WhatsApp may lie outside it. */
  smsCountries: ReadonlySet<string>;
}

export function parseChannelOrder(value: string): Channel[] {
  const channels = value.split(',').map((channel) => channel.trim()) as Channel[];
  // A channel named twice counts where it first stands.
  return channels.filter((channel, index) => channels.indexOf(channel) === index);
}

function countryOf(e164: string): string | undefined {
  return parsePhoneNumberFromString(e164)?.country;
}

/** The channel and contact a failed code on `from` moves to, if any. */
export function nextChannel(
  chain: ChannelChain,
  from: Channel,
  flow: Pick<RegistrationFlow, 'email' | 'mobile'>,
): { channel: Channel; destination: string } | undefined {
  const at = chain.order.indexOf(from);
  if (at < 0) return undefined;
  for (const channel of chain.order.slice(at + 1)) {
    if (!chain.available.has(channel)) continue;
    if (channel === 'email') {
      if (from === 'whatsapp' && !chain.whatsappToEmail) continue;
      return { channel, destination: flow.email };
    }
    if (!flow.mobile) continue;
    if (channel === 'sms') {
      const country = countryOf(flow.mobile);
      if (chain.smsCountries.size > 0 && !(country && chain.smsCountries.has(country))) continue;
    }
    return { channel, destination: flow.mobile };
  }
  return undefined;
}
