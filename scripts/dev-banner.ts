/** What `pnpm dev` prints once the API answers: where things are, and how to try it by hand. */

export interface BannerOptions {
  baseUrl: string;
  /** The operators' listener; undefined when ADMIN_PORT=0 (the API logs the port it took). */
  adminUrl: string | undefined;
  /** The environment the apps run with. */
  env: Record<string, string | undefined>;
  /** Bull Board's credentials when dev generated them (kept in .dev/); not printed when .env set them. */
  generatedAdmin?: { user: string; password: string };
  /** The per-IP limits dev relaxed (the names it set), for the line that says so. */
  relaxedLimits: readonly string[];
}

export function readyBanner({
  baseUrl,
  adminUrl,
  env,
  generatedAdmin,
  relaxedLimits,
}: BannerOptions): string {
  const json = "-H 'content-type: application/json'";
  const register = JSON.stringify({
    email: 'ann@example.com',
    otp_method: 'email',
    username: 'ann',
    first_name: 'Ann',
    last_name: 'Lee',
    password: 'correct horse battery',
  });
  const rule = '─'.repeat(72);
  // ADMIN_PORT=0: the API picks a port and logs it ("admin": "http://...").
  const operators = adminUrl ?? '<the "admin" URL in the [api] log>';
  const board = generatedAdmin
    ? `  Queue board at ${operators}/admin/queues · user ${generatedAdmin.user} · password ${generatedAdmin.password} (generated, in .dev/secrets.json)`
    : env.ADMIN_USER && env.ADMIN_PASSWORD
      ? `  Queue board at ${operators}/admin/queues (ADMIN_USER / ADMIN_PASSWORD)`
      : '  Queue board: off; set ADMIN_USER and ADMIN_PASSWORD (12+ characters) in .env to turn it on';
  const lines = [
    rule,
    `  otp-relay is up: ${baseUrl}`,
    `  Try the signup page at ${baseUrl}/`,
    `  Operators' listener (not the shop's port): API docs at ${operators}/docs · metrics at ${operators}/metrics`,
    board,
    '',
  ];
  if (env.EMAIL_PROVIDER === 'console') {
    lines.push(
      '  Codes are not emailed: the worker prints each message ([worker] "email (console provider)").',
    );
  }
  if (env.OTP_DEBUG_RESPONSE === 'true') {
    lines.push('  request-otp also returns the code as `debug_otp` (OTP_DEBUG_RESPONSE=true).');
  }
  if (relaxedLimits.length > 0) {
    const limits = relaxedLimits.map((name) => `${name}=${env[name]}`).join(', ');
    lines.push(`  Per-IP limits relaxed for trying by hand (${limits}); production keeps the defaults.`);
  }
  if (env.NODE_ENV === 'development') {
    lines.push(
      '  Frontends on http://localhost:<any port> and http://127.0.0.1:<any port> may call the API (CORS).',
    );
  }
  lines.push(
    '',
    '  Ask for a code:',
    `    curl -s -X POST ${baseUrl}/api/accounts/request-otp/ ${json} -d '${register}'`,
    '  Verify it with the verification_id it answered (returns a token):',
    `    curl -s -X POST ${baseUrl}/api/accounts/verify-otp/ ${json} -d '{"email":"ann@example.com","otp":"<code>","verification_id":"<verification_id>"}'`,
    '  Who the token belongs to:',
    `    curl -s ${baseUrl}/api/accounts/me -H 'authorization: Bearer <token>'`,
    '',
    '  Ctrl-C stops everything.',
    rule,
  );
  return `\n${lines.join('\n')}\n`;
}
