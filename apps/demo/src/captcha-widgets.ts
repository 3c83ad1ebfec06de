import type { CaptchaSettings } from './demo-settings.js';

/** The part of Turnstile's and hCaptcha's explicit-rendering API the page uses (the same for both). */
interface WidgetApi {
  render(
    container: HTMLElement,
    options: { sitekey: string; callback: () => void; 'error-callback': () => void },
  ): string;
  getResponse(widgetId: string): string | undefined;
  reset(widgetId: string): void;
}

declare global {
  interface Window {
    turnstile?: WidgetApi;
    hcaptcha?: WidgetApi;
    /** Called by the provider's script once it has loaded (its `onload` parameter). */
    otpRelayCaptchaReady?: () => void;
  }
}

export type WidgetName = 'register' | 'resend';

export interface CaptchaWidgets {
  /** The widget's current answer; '' until it is solved. */
  answer(name: WidgetName): string;
  /** An answer is good for one request: reset after each use. */
  reset(name: WidgetName): void;
}

const ONLOAD_CALLBACK = 'otpRelayCaptchaReady';

/**
 * One widget per form that sends a code (the details, and resend), rendered once the provider's
 * script has loaded. The script is added here, from the settings, so index.html stays the same
 * with or without a CAPTCHA.
 */
export function mountCaptchaWidgets(
  settings: CaptchaSettings,
  boxes: Record<WidgetName, HTMLElement>,
  events: { solved(name: WidgetName): void; failed(name: WidgetName): void },
): CaptchaWidgets {
  const widgetApi = () => (settings.provider === 'hcaptcha' ? window.hcaptcha : window.turnstile);
  const widgets = new Map<WidgetName, string>();

  const render = () => {
    const api = widgetApi();
    if (!api || widgets.size > 0) return;
    for (const name of ['register', 'resend'] as const) {
      boxes[name].hidden = false;
      widgets.set(
        name,
        api.render(boxes[name], {
          sitekey: settings.siteKey,
          callback: () => events.solved(name),
          'error-callback': () => events.failed(name),
        }),
      );
    }
  };

  window[ONLOAD_CALLBACK] = render;
  const script = document.createElement('script');
  const src = new URL(settings.scriptUrl);
  src.searchParams.set('render', 'explicit');
  src.searchParams.set('onload', ONLOAD_CALLBACK);
  script.src = src.href;
  script.async = true;
  script.addEventListener('error', () => {
    events.failed('register');
    events.failed('resend');
  });
  document.head.append(script);

  return {
    answer(name) {
      const id = widgets.get(name);
      const api = widgetApi();
      return api && id !== undefined ? (api.getResponse(id) ?? '') : '';
    },
    reset(name) {
      const id = widgets.get(name);
      const api = widgetApi();
      if (api && id !== undefined) api.reset(id);
    },
  };
}
