import { parseArgs } from 'node:util';
import { startFakeGoogle } from './fake-google.js';

/**
 * The fake Google as a process, for trying the built services by hand without real credentials:
 * `pnpm fake:google`, then start the worker with the environment it prints.
 */

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '4010' },
    'client-id': { type: 'string', default: 'local-client' },
    'client-secret': { type: 'string', default: 'local-secret' },
    'refresh-token': { type: 'string', default: 'local-refresh' },
  },
});

const google = await startFakeGoogle({
  clientId: values['client-id'],
  clientSecret: values['client-secret'],
  refreshToken: values['refresh-token'],
  port: Number(values.port),
  onEmail: (email) =>
    console.log(
      `\n--- ${email.receivedAt.toISOString()} ${email.id} to ${email.to.join(', ')}\n${email.subject}\n${email.text}`,
    ),
});

console.log(`Fake Google listening. Point the worker at it with:
  EMAIL_PROVIDER=gmail
  EMAIL_CLIENT_ID=${values['client-id']}
  EMAIL_CLIENT_SECRET=${values['client-secret']}
  EMAIL_REFRESH_TOKEN=${values['refresh-token']}
  GMAIL_API_ROOT_URL=${google.rootUrl}
  GOOGLE_OAUTH_TOKEN_URL=${google.tokenUrl}
Messages it receives are printed below. Ctrl-C stops it.`);
