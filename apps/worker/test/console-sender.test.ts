import { loggerOptions } from '@otp-relay/core';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createConsoleSender } from '../src/delivery/console-sender.js';
import type { OutgoingMessage } from '../src/delivery/message-sender.js';

const otp: OutgoingMessage = {
  kind: 'otp',
  to: '+14155552671',
  code: '123456',
  validForMinutes: 10,
};
const notice: OutgoingMessage = { kind: 'registration-notice', to: '+14155552671' };

/** The body the console sender logs for a message on a channel, through the worker's own log settings. */
async function loggedBody(channel: 'email' | 'whatsapp', message: OutgoingMessage): Promise<string> {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(loggerOptions('info', 'test'), {
    write: (line: string) => lines.push(JSON.parse(line)),
  });
  await createConsoleSender(channel, logger).send(message);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ channel, kind: message.kind });
  return String(lines[0]?.body);
}

describe('the console sender', () => {
  it('logs the code email’s text, code included', async () => {
    const body = await loggedBody('email', { ...otp, to: 'ann@example.com' });
    expect(body).toContain('Your verification code is: 123456');
  });

  it('logs the registration notice email’s text', async () => {
    const body = await loggedBody('email', { ...notice, to: 'ann@example.com' });
    expect(body).toMatch(/already have an account/);
  });

  it('logs the WhatsApp code text', async () => {
    expect(await loggedBody('whatsapp', otp)).toMatch(/^123456 is your verification code/);
  });

  it('logs the WhatsApp registration notice text', async () => {
    expect(await loggedBody('whatsapp', notice)).toMatch(
      /^Someone tried to create an account with this number/,
    );
  });
});
