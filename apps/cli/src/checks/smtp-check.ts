/**
 * An SMTP server (SMTP_URL, SMTP_BACKUP_URL): connect (TLS for smtps://) and read the server's greeting,
 * which must be a 220. Credentials are not tried: that takes a real send (`--send-to` uses the primary
 * sender).
 */
import { isIP, type Socket, connect as tcpConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { type CheckResult, fail, pass } from './check-result.js';

class NoGreeting extends Error {}

/** The server's greeting: the last line of its first reply (`220 mx.example ESMTP`). */
function readGreeting(target: { host: string; port: number; secure: boolean; timeoutMs: number }) {
  return new Promise<string>((resolve, reject) => {
    const socket: Socket = target.secure
      ? tlsConnect({
          host: target.host,
          port: target.port,
          ...(isIP(target.host) ? {} : { servername: target.host }),
        })
      : tcpConnect({ host: target.host, port: target.port });
    let received = '';
    let done = false;
    const finish = (outcome: { line: string } | { error: Error }) => {
      if (done) return;
      done = true;
      if ('line' in outcome) {
        // Polite goodbye; the answer does not matter.
        socket.setTimeout(0);
        socket.end('QUIT\r\n');
        resolve(outcome.line);
      } else {
        socket.destroy();
        reject(outcome.error);
      }
    };
    socket.setTimeout(target.timeoutMs, () =>
      finish({ error: new NoGreeting(`no greeting within ${target.timeoutMs} ms`) }),
    );
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const lines = received.split(/\r?\n/);
      lines.pop(); // not finished yet
      // A reply's last line has a space (or nothing) after the code; `220-` lines continue it.
      const last = lines.find((line) => /^\d{3}(?: |$)/.test(line));
      if (last !== undefined) finish({ line: last.trim() });
    });
    socket.on('error', (error) => finish({ error }));
    socket.on('close', () =>
      finish({ error: new NoGreeting('the server closed the connection without a greeting') }),
    );
  });
}

/** `name` heads the result (`SMTP backup`, or `SMTP` for the primary); `variable` is where the URL came from. */
export async function checkSmtp(
  smtpUrl: string,
  timeoutMs: number,
  { name = 'SMTP backup', variable = 'SMTP_URL' }: { name?: string; variable?: string } = {},
): Promise<CheckResult> {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    return fail(name, `${variable} is not a URL`);
  }
  const secure = url.protocol === 'smtps:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(url.port || (secure ? 465 : 587));
  // Never the URL itself: it carries the password.
  const where = `${host}:${port}`;
  try {
    const greeting = await readGreeting({ host, port, secure, timeoutMs });
    return greeting.startsWith('220')
      ? pass(name, `${where} greets "${greeting}" (the credentials are only tried by a real send)`)
      : fail(name, `${where} answered "${greeting}" instead of a 220 greeting: it is not accepting mail`);
  } catch (error) {
    return fail(name, describeConnectFailure(error, where, secure));
  }
}

function describeConnectFailure(error: unknown, where: string, secure: boolean): string {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  if (error instanceof NoGreeting) {
    return `${where}: ${message}${
      message?.startsWith('no greeting')
        ? ' (a firewall or the hosting provider may block outgoing SMTP; or smtp:// was used for an implicit-TLS port like 465)'
        : ''
    }`;
  }
  if (code === 'ECONNREFUSED')
    return `${where}: connection refused (nothing listens there; check host and port)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${where}: the host name does not resolve`;
  if (code === 'ETIMEDOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return `${where}: unreachable (${code}); a firewall may block it`;
  }
  if (
    secure &&
    (code?.startsWith('ERR_SSL') || code?.includes('CERT') || /SSL|TLS|certificate/i.test(message ?? ''))
  ) {
    return `${where}: TLS failed (${code ?? 'error'}: ${message}); smtps:// is for implicit TLS (port 465), use smtp:// for STARTTLS on 587`;
  }
  return `${where}: ${code ?? 'error'}: ${message ?? 'unknown error'}`;
}
