/**
 * Every entry of a message catalogue (templates/<locale>.json). English has them all; another
 * locale may lack one (it falls back to English's) but may have no other.
 */
export const MESSAGE_KEYS = [
  'branded',
  'email.greeting',
  'email.code.subject',
  'email.code.intro',
  'email.code.textLine',
  'email.code.expiry',
  'email.code.enterIt',
  'email.code.ignore',
  'email.code.neverShare',
  'email.notice.subject',
  'email.notice.attempt',
  'email.notice.ifYou',
  'email.notice.ifNotYou',
  'email.footer.sentBy',
  'email.footer.supportLink',
  'email.footer.supportText',
  'whatsapp.code',
  'whatsapp.notice',
  'sms.code',
  'sms.notice',
] as const;

export type MessageKey = (typeof MESSAGE_KEYS)[number];

export function isMessageKey(value: string): value is MessageKey {
  return (MESSAGE_KEYS as readonly string[]).includes(value);
}

/**
 * What a message may be given. `code` and `minutes` change with each message; the brand's come
 * from the configuration and are filled in once, at start-up.
 */
export interface MessageValues {
  code?: string;
  minutes?: number;
  brand?: string;
  url?: string;
  text?: string;
}

/** The values that differ from one message to the next: text using them is formatted per message. */
export const PER_MESSAGE_ARGUMENTS: ReadonlySet<string> = new Set(['code', 'minutes']);
