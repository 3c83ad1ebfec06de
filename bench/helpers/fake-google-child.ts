/**
 * The test kit's fake Google in a process of its own, so its work (parsing every MIME message)
 * is not charged to the load generator and shows up as a process we can measure. Over IPC it
 * streams every accepted email ({to, subject, receivedAt}) to the bench, and takes commands:
 * latency, a share of sends answered 503, close.
 */
import { startFakeGoogle } from '@otp-relay/testkit';

export type FakeGoogleCommand =
  | { type: 'latency'; ms: number }
  /** Answer every `n`-th send request 503 (0 = none). */
  | { type: 'fail-every'; n: number }
  | { type: 'close' };

export type FakeGoogleMessage =
  | { type: 'ready'; rootUrl: string; tokenUrl: string }
  | { type: 'email'; to: string[]; subject: string; receivedAt: number }
  | { type: 'stats'; sendRequests: number; failuresInjected: number };

const send = (message: FakeGoogleMessage) => process.send?.(message);
// Longer than any run; the timers are cleared when a wait resolves.
const FOREVER_MS = 2_147_483_647;

const google = await startFakeGoogle({
  clientId: process.env.FAKE_CLIENT_ID ?? 'bench-client',
  clientSecret: process.env.FAKE_CLIENT_SECRET ?? 'bench-secret',
  refreshToken: process.env.FAKE_REFRESH_TOKEN ?? 'bench-refresh',
  // Streamed, not kept: a fake that keeps every email grows by ~4 KB an email, all run long.
  onEmail: (email) =>
    send({ type: 'email', to: email.to, subject: email.subject, receivedAt: email.receivedAt.getTime() }),
});

let failEvery = 0;
let failuresInjected = 0;

process.on('message', (command: FakeGoogleCommand) => {
  if (command.type === 'latency') google.setLatency(command.ms);
  if (command.type === 'fail-every') failEvery = command.n;
  if (command.type === 'close') {
    send({ type: 'stats', sendRequests: google.sendRequests, failuresInjected });
    void google.close().finally(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));

send({ type: 'ready', rootUrl: google.rootUrl, tokenUrl: google.tokenUrl });

// Every n-th arriving send gets a 503 queued; it is answered to a send decided after the latency,
// so the failures land on about one send in n.
void (async () => {
  for (let arrived = 1; ; arrived += 1) {
    await google.waitForSendRequests(arrived, FOREVER_MS);
    if (failEvery > 0 && arrived % failEvery === 0) {
      google.failSends(1, { kind: 'status', status: 503 });
      failuresInjected += 1;
    }
  }
})();
