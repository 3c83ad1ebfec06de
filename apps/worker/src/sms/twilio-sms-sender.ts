import type { MessageSender, OutgoingMessage, SendResult } from '../delivery/message-sender.js';
import { createTwilioMessaging, type TwilioAccountOptions } from '../twilio/twilio-messaging.js';
import { renderSmsBody } from './otp-sms-message.js';

/** Who sends: a number of the account, or a Messaging Service that picks one from its pool per country. */
export type TwilioSmsSenderFrom = { from: string } | { messagingServiceSid: string };

export type TwilioSmsSenderOptions = TwilioAccountOptions & TwilioSmsSenderFrom;

/** SMS through Twilio's Messages API: `messages.create` to a bare E.164 number, with a text body. */
export function createTwilioSmsSender(options: TwilioSmsSenderOptions): MessageSender {
  const messaging = createTwilioMessaging(options);
  const sender: TwilioSmsSenderFrom =
    'messagingServiceSid' in options
      ? { messagingServiceSid: options.messagingServiceSid }
      : { from: options.from };

  return {
    channel: 'sms',
    provider: 'twilio',
    send(message: OutgoingMessage): Promise<SendResult> {
      return messaging.send({ to: message.to, ...sender, body: renderSmsBody(message) });
    },
  };
}
