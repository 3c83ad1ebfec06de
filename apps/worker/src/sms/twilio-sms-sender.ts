import type { MessageSender, OutgoingMessage, SendResult } from '../delivery/message-sender.js';
import { shippedMessages } from '../messages/load-messages.js';
import type { MessageRenderer } from '../messages/message-renderer.js';
import { createTwilioMessaging, type TwilioAccountOptions } from '../twilio/twilio-messaging.js';

/** Who sends: a number of the account, or a Messaging Service that picks one from its pool per country. */
export type TwilioSmsSenderFrom = { from: string } | { messagingServiceSid: string };

export type TwilioSmsSenderOptions = TwilioAccountOptions &
  TwilioSmsSenderFrom & {
    /** What it says (loadMessages); the shipped messages, unbranded, by default. */
    messages?: Promise<MessageRenderer>;
  };

/** SMS through Twilio's Messages API: `messages.create` to a bare E.164 number, with a text body. */
export function createTwilioSmsSender(options: TwilioSmsSenderOptions): MessageSender {
  const messaging = createTwilioMessaging(options);
  const sender: TwilioSmsSenderFrom =
    'messagingServiceSid' in options
      ? { messagingServiceSid: options.messagingServiceSid }
      : { from: options.from };
  const messages = options.messages ?? shippedMessages();

  return {
    channel: 'sms',
    provider: 'twilio',
    async send(message: OutgoingMessage): Promise<SendResult> {
      return messaging.send({ to: message.to, ...sender, body: (await messages).sms(message) });
    },
  };
}
