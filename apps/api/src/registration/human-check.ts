/**
 * The human check (CAPTCHA) on the endpoints that send: request-otp and resend-otp. It runs
 * before anything costly (the password hash, the send budgets), so a bot without an answer
 * costs one HTTP round trip to the provider and nothing else.
 */
export interface HumanCheck {
  /**
   * Resolves when `answer` (the body's `captcha_token`) is a fresh, valid answer for `ip`;
   * throws RegistrationError CAPTCHA_REQUIRED (no answer), CAPTCHA_INVALID (refused by the
   * provider) or SERVICE_UNAVAILABLE (the provider could not be asked).
   */
  assertHuman(answer: string | undefined, ip: string): Promise<void>;
}

/** No CAPTCHA_PROVIDER configured: every caller passes. */
export const NO_HUMAN_CHECK: HumanCheck = {
  async assertHuman() {},
};
