/**
 * The operator commands of `otp-relay <command>` (the image's one command), each the built entry
 * point it runs, relative to the repository (or image) root. The entry points stay where they are,
 * so `node <file>` keeps working.
 */
export const OTP_RELAY_COMMANDS = {
  migrate: {
    entry: 'packages/db/dist/migrate-cli.js',
    summary: 'apply the SQL migrations to DATABASE_URL (schema DATABASE_SCHEMA)',
  },
  check: {
    entry: 'apps/cli/dist/otp-check.js',
    summary: "check the providers' credentials and channels (--send-to <email|+phone> to send a test)",
  },
  lookup: {
    entry: 'apps/cli/dist/otp-lookup.js',
    summary: "a shopper's recent flows and deliveries, masked: lookup <email or phone>",
  },
  'dlq-replay': {
    entry: 'apps/worker/dist/dlq-replay-cli.js',
    summary: 'send dead deliveries again',
  },
  'jwt-keygen': {
    entry: 'apps/cli/dist/jwt-keygen.js',
    summary: 'a new token signing key, and JWT_SIGNING_KEYS rotated to it',
  },
  'messages-render': {
    entry: 'apps/worker/dist/messages-render-cli.js',
    summary: 'every message in every language written to files for review (--out DIR)',
  },
} as const;

export type OtpRelayCommand = keyof typeof OTP_RELAY_COMMANDS;

export function isOtpRelayCommand(name: string | undefined): name is OtpRelayCommand {
  return name !== undefined && Object.hasOwn(OTP_RELAY_COMMANDS, name);
}

export function otpRelayUsage(): string {
  const width = Math.max(...Object.keys(OTP_RELAY_COMMANDS).map((name) => name.length));
  const rows = Object.entries(OTP_RELAY_COMMANDS).map(
    ([name, { summary }]) => `  ${name.padEnd(width)}  ${summary}`,
  );
  return ['Usage: otp-relay <command> [arguments]', '', 'Commands:', ...rows].join('\n');
}
