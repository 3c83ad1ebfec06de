/**
 * @otp-relay/cli: the operator tools' logic, for tests and other tools. The commands themselves are
 * setup.ts (`pnpm run setup`) and otp-check.ts (`pnpm otp:check`).
 */
export { type CheckResult, formatCheck } from './checks/check-result.js';
export { type CheckOptions, runChecks } from './checks/run-checks.js';
export { validateEnv } from './config-check.js';
export { type GmailConsent, type GmailConsentOptions, startGmailConsent } from './gmail-oauth.js';
export { type OtpCheckIo, runOtpCheck } from './run-otp-check.js';
export { runSetup, type SetupIo } from './run-setup.js';
