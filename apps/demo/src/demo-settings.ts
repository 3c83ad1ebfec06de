/**
 * What the API tells the page at run time (`GET /demo-settings.json`, demo-routes.ts in the API):
 * the CAPTCHA widget to show, if any. A file of its own so that index.html and demo.js stay static.
 */
export interface CaptchaSettings {
  provider: 'turnstile' | 'hcaptcha';
  siteKey: string;
  /** The provider's widget script, which the page's CSP allows. */
  scriptUrl: string;
}

export interface DemoSettings {
  captcha: CaptchaSettings | null;
}

function isCaptchaSettings(value: unknown): value is CaptchaSettings {
  if (typeof value !== 'object' || value === null) return false;
  const { provider, siteKey, scriptUrl } = value as Record<string, unknown>;
  return (
    (provider === 'turnstile' || provider === 'hcaptcha') &&
    typeof siteKey === 'string' &&
    typeof scriptUrl === 'string'
  );
}

export async function loadDemoSettings(): Promise<DemoSettings> {
  const response = await fetch('/demo-settings.json', { headers: { accept: 'application/json' } });
  if (!response.ok) throw new Error(`/demo-settings.json answered HTTP ${response.status}`);
  const body = (await response.json()) as { captcha?: unknown };
  return { captcha: isCaptchaSettings(body.captcha) ? body.captcha : null };
}
