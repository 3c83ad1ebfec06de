/**
 * The mailbox an address reaches, as one key for every per-address limit and lookup: lower case,
 * `+tag` dropped, and for Gmail the dots dropped and googlemail.com read as gmail.com
 * (`A.B+shop@googlemail.com` and `ab@gmail.com` are one inbox). The address itself is stored and
 * mailed as typed; this key only decides what counts as "the same address". Migration 0001 computes
 * the same key in SQL for rows that existed before it. In core so the API and the operators' lookup
 * (`pnpm otp:lookup`) compute it alike.
 */
export function mailboxKey(email: string): string {
  const lower = email.trim().toLowerCase();
  const at = lower.lastIndexOf('@');
  let local = lower.slice(0, at);
  let domain = lower.slice(at + 1);
  // The tag starts at the first '+' after the first character (as the migration's SQL reads it).
  const plus = local.indexOf('+', 1);
  if (plus > 0) local = local.slice(0, plus);
  if (domain === 'googlemail.com') domain = 'gmail.com';
  if (domain === 'gmail.com') local = local.replaceAll('.', '');
  return `${local}@${domain}`;
}
