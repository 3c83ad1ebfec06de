import type { Channel } from '@otp-relay/db';
import { describe, expect, it } from 'vitest';
import { type ChannelChain, nextChannel, parseChannelOrder } from '../src/delivery/channel-chain.js';

/** Where a failed code goes next: FALLBACK_CHAIN, bounded by the senders and the flow's contacts. */

const everyChannel = new Set<Channel>(['email', 'whatsapp', 'sms']);
const chain = (overrides: Partial<ChannelChain> = {}): ChannelChain => ({
  order: parseChannelOrder('whatsapp,sms,email'),
  available: everyChannel,
  whatsappToEmail: true,
  smsCountries: new Set(),
  ...overrides,
});
const flow = { email: 'ann@example.com', mobile: '+14155552671' };

describe('nextChannel', () => {
  it('follows the chain: WhatsApp → SMS → email, then nothing', () => {
    expect(nextChannel(chain(), 'whatsapp', flow)).toEqual({ channel: 'sms', destination: '+14155552671' });
    expect(nextChannel(chain(), 'sms', flow)).toEqual({ channel: 'email', destination: 'ann@example.com' });
    expect(nextChannel(chain(), 'email', flow)).toBeUndefined();
  });

  it('skips channels the worker cannot send on, and phone channels without a number', () => {
    const noSms = chain({ available: new Set<Channel>(['email', 'whatsapp']) });
    expect(nextChannel(noSms, 'whatsapp', flow)?.channel).toBe('email');
    expect(nextChannel(chain(), 'whatsapp', { ...flow, mobile: null })?.channel).toBe('email');
  });

  it('sends SMS only to a country SMS_ALLOWED_COUNTRIES lists', () => {
    expect(nextChannel(chain({ smsCountries: new Set(['DE']) }), 'whatsapp', flow)?.channel).toBe('email');
    expect(nextChannel(chain({ smsCountries: new Set(['US']) }), 'whatsapp', flow)?.channel).toBe('sms');
  });

  it('keeps a WhatsApp code off email with WHATSAPP_FALLBACK_TO_EMAIL=false, SMS still allowed', () => {
    const noEmail = chain({ whatsappToEmail: false });
    expect(nextChannel(noEmail, 'whatsapp', flow)?.channel).toBe('sms');
    expect(nextChannel(noEmail, 'whatsapp', { ...flow, mobile: null })).toBeUndefined();
    expect(nextChannel(noEmail, 'sms', flow)?.channel).toBe('email');
  });

  it('reads the order as configured, a channel named twice counting once, and a channel off the chain has no fallback', () => {
    expect(parseChannelOrder(' sms , whatsapp,sms ,email')).toEqual(['sms', 'whatsapp', 'email']);
    const emailOnly = chain({ order: parseChannelOrder('whatsapp,email') });
    expect(nextChannel(emailOnly, 'whatsapp', flow)?.channel).toBe('email');
    expect(nextChannel(emailOnly, 'sms', flow)).toBeUndefined();
  });
});
