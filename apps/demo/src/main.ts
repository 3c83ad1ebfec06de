/**
 * The demo signup page: a shop's registration form driving the otp-relay API through
 * `@otp-relay/client`, the way a shop's frontend would. Details → code (with its delivery status
 * polled, resend and cancel) → the verified account.
 */
import {
  createOtpRelayClient,
  type OtpMethod,
  OtpRelayError,
  type RequestOtpBody,
  type User,
  type Verification,
} from '@otp-relay/client';
import { type CaptchaWidgets, mountCaptchaWidgets } from './captcha-widgets.js';
import { loadDemoSettings } from './demo-settings.js';
import { CAPTCHA_REQUIRED_MESSAGE, errorMessage } from './error-messages.js';
import {
  ALL_FIELDS,
  clearErrorsOnInput,
  clearFieldError,
  clearFieldErrors,
  emptyMessage,
  type Field,
  focusField,
  setFieldError,
  showFieldErrors,
} from './form-fields.js';
import { mountLanguagePicker } from './language-picker.js';
import { byTestId, hide, setBusy, show } from './page.js';
import { fieldErrorText, pageText } from './page-strings.js';
import { createResendCountdown } from './resend-countdown.js';
import { createVerificationPoller } from './verification-poller.js';

const client = createOtpRelayClient({ baseUrl: window.location.origin });
/** The language chosen in the picker: the page's words, its field errors, and request-otp's `locale`. */
const locale = mountLanguagePicker(byTestId<HTMLSelectElement>('language-picker'));

const el = {
  steps: document.querySelectorAll<HTMLElement>('.step'),
  panels: {
    register: byTestId('register-step'),
    code: byTestId('code-step'),
    verified: byTestId('verified-step'),
  },
  registerForm: byTestId<HTMLFormElement>('register-form'),
  registerAlert: byTestId('register-alert'),
  registerStatus: byTestId('register-status'),
  registerSubmit: byTestId<HTMLButtonElement>('register-submit'),
  haveCode: byTestId<HTMLButtonElement>('have-code'),
  passwordToggle: byTestId<HTMLButtonElement>('password-toggle'),
  password: byTestId<HTMLInputElement>('password'),
  mobileField: byTestId('mobile-field'),
  mobile: byTestId<HTMLInputElement>('mobile'),
  codeForm: byTestId<HTMLFormElement>('code-form'),
  codeChannel: byTestId('code-channel'),
  codeSentTo: byTestId('code-sent-to'),
  deliveryStatus: byTestId('delivery-status'),
  debugHint: byTestId('debug-hint'),
  codeStatus: byTestId('code-status'),
  codeAlert: byTestId('code-alert'),
  otp: byTestId<HTMLInputElement>('otp'),
  verifySubmit: byTestId<HTMLButtonElement>('verify-submit'),
  resend: byTestId<HTMLButtonElement>('resend-button'),
  changeDetails: byTestId<HTMLButtonElement>('change-details'),
  cancel: byTestId<HTMLButtonElement>('cancel-signup'),
  startOver: byTestId<HTMLButtonElement>('start-over'),
  verifiedTitle: byTestId('verified-step').querySelector<HTMLElement>('h1'),
};

type Step = keyof typeof el.panels;

// verificationId: the flow request-otp opened, sent with every verify and resend of it.
// channel: where the code is now (a fallback moves it); askedChannel: where the last request sent it.
const state = {
  email: '',
  channel: 'email' as OtpMethod,
  askedChannel: 'email' as OtpMethod,
  destination: '',
  verificationId: '',
};

let captcha: CaptchaWidgets | undefined;
const countdown = createResendCountdown(el.resend);
const poller = createVerificationPoller(client, showVerification);

const STEP_ORDER: readonly Step[] = ['register', 'code', 'verified'];
const STEP_TITLES: Readonly<Record<Step, string>> = {
  register: 'Create your account',
  code: 'Enter your code',
  verified: 'You are verified',
};

function showStep(name: Step): void {
  for (const key of STEP_ORDER) el.panels[key].hidden = key !== name;
  const current = STEP_ORDER.indexOf(name);
  for (const step of el.steps) {
    const index = STEP_ORDER.indexOf(step.dataset.step as Step);
    step.classList.toggle('is-current', index === current);
    step.classList.toggle('is-done', index < current);
    if (index === current) step.setAttribute('aria-current', 'step');
    else step.removeAttribute('aria-current');
  }
  document.title = `${STEP_TITLES[name]} · otp-relay demo`;
}

/** The error a call failed with; anything that is not the client's error is a bug worth seeing. */
function asClientError(error: unknown): OtpRelayError {
  if (error instanceof OtpRelayError) return error;
  throw error;
}

// ---------------------------------------------------------------------------------------------
// Step 1: the registration form
// ---------------------------------------------------------------------------------------------

const REGISTER_FIELDS: readonly Field[] = [
  'email',
  'username',
  'first_name',
  'last_name',
  'password',
  'mobile',
  'otp_method',
  'captcha_token',
];

const CHANNEL_NAMES: Readonly<Record<OtpMethod, string>> = {
  email: 'email',
  whatsapp: 'WhatsApp',
  sms: 'SMS',
};

function selectedChannel(): OtpMethod {
  const checked = el.registerForm.querySelector<HTMLInputElement>('input[name="otp_method"]:checked');
  const value = checked?.value;
  return value === 'whatsapp' || value === 'sms' ? value : 'email';
}

function syncChannel(): void {
  const byPhone = selectedChannel() !== 'email';
  el.mobileField.hidden = !byPhone;
  el.mobile.required = byPhone;
  clearFieldError('otp_method');
  if (!byPhone) clearFieldError('mobile');
}

function formValue(name: string): string {
  const input = el.registerForm.elements.namedItem(name);
  return input instanceof HTMLInputElement ? input.value : '';
}

function registration(): RequestOtpBody {
  const channel = selectedChannel();
  const mobile = formValue('mobile').trim();
  // Left out when empty: a service with USERNAME_REQUIRED=false takes accounts without one.
  const username = formValue('username').trim();
  return {
    email: formValue('email').trim(),
    otp_method: channel,
    first_name: formValue('first_name').trim(),
    last_name: formValue('last_name').trim(),
    password: formValue('password'),
    locale: locale(),
    ...(username !== '' ? { username } : {}),
    ...(channel !== 'email' && mobile !== '' ? { mobile } : {}),
  };
}

/** An error about one field: in English the page's sentence, else from the field error's code. */
function placeOn(field: Field, error: OtpRelayError): Field[] {
  const fieldError = error.fieldErrors[field];
  const chosen = locale();
  setFieldError(
    field,
    chosen !== 'en' && fieldError ? fieldErrorText(chosen, fieldError) : errorMessage(error),
  );
  return [field];
}

/** Places the error next to the field it is about; answers the fields it placed. */
function placeRegisterError(error: OtpRelayError): Field[] {
  switch (error.code) {
    case 'VALIDATION_ERROR':
      return showFieldErrors(error.fieldErrors, REGISTER_FIELDS, locale());
    case 'USERNAME_TAKEN':
      return placeOn('username', error);
    case 'CHANNEL_UNAVAILABLE':
      return placeOn('otp_method', error);
    case 'CAPTCHA_REQUIRED':
    case 'CAPTCHA_INVALID':
      // The API names captcha_token; the page's error node for it is the same field.
      return placeOn('captcha_token', error);
    default:
      return [];
  }
}

el.registerForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (el.registerSubmit.disabled) return;
  clearFieldErrors(REGISTER_FIELDS);
  hide(el.registerAlert);
  hide(el.registerStatus);
  el.haveCode.hidden = true;

  const body = registration();
  if (captcha) {
    const answer = captcha.answer('register');
    if (!answer) {
      setFieldError('captcha_token', CAPTCHA_REQUIRED_MESSAGE);
      show(el.registerAlert, pageText(locale(), 'fixField'));
      return;
    }
    body.captcha_token = answer;
  }
  setBusy(el.registerSubmit, true, 'Sending your code…');
  try {
    const issued = await client.requestOtp(body);
    state.email = body.email;
    state.verificationId = issued.verification_id;
    state.channel = body.otp_method;
    state.askedChannel = body.otp_method;
    state.destination = body.otp_method === 'email' ? body.email : (body.mobile ?? '');
    enterCodeStep(issued);
  } catch (caught) {
    const error = asClientError(caught);
    const placed = placeRegisterError(error);
    const [first] = placed;
    if (first) {
      show(el.registerAlert, pageText(locale(), placed.length === 1 ? 'fixField' : 'fixFields'));
      focusField(first, el.registerForm);
      return;
    }
    show(el.registerAlert, errorMessage(error));
    // A code went to this address moments ago from this page: let the shopper go back and type it.
    if (error.code === 'RESEND_TOO_SOON' && state.email.toLowerCase() === body.email.toLowerCase()) {
      el.haveCode.hidden = false;
      countdown.start(error.retryAfter);
    }
  } finally {
    setBusy(el.registerSubmit, false);
    // Spent whatever the answer was: the next try needs a fresh one.
    captcha?.reset('register');
  }
});

/** The fields of a call about the current flow: the address, and the flow's id. */
function currentFlow(): { email: string; verification_id: string } {
  return { email: state.email, verification_id: state.verificationId };
}

el.haveCode.addEventListener('click', () => {
  hide(el.registerAlert);
  el.haveCode.hidden = true;
  showStep('code');
  startPolling();
  el.otp.focus();
});

el.passwordToggle.addEventListener('click', () => {
  const showing = el.password.type === 'text';
  el.password.type = showing ? 'password' : 'text';
  el.passwordToggle.textContent = showing ? 'Show' : 'Hide';
  el.passwordToggle.setAttribute('aria-pressed', String(!showing));
  el.passwordToggle.setAttribute('aria-label', showing ? 'Show password' : 'Hide password');
});

// ---------------------------------------------------------------------------------------------
// Step 2: the code
// ---------------------------------------------------------------------------------------------

function showDebugCode(code: string | undefined): void {
  if (!code) {
    hide(el.debugHint);
    return;
  }
  el.debugHint.textContent = 'Development: your code is ';
  const value = document.createElement('span');
  value.className = 'code';
  value.textContent = code;
  el.debugHint.append(value);
  el.debugHint.hidden = false;
}

function describeDestination(expiresIn: number | undefined): void {
  const channel = CHANNEL_NAMES[state.channel];
  el.codeChannel.textContent = channel;
  el.codeSentTo.textContent = '';
  el.codeSentTo.append(state.channel === 'email' ? 'We sent a code to ' : `We sent a code by ${channel} to `);
  const strong = document.createElement('strong');
  strong.textContent = state.destination;
  el.codeSentTo.append(strong, '.');
  if (expiresIn) {
    const minutes = Math.round(expiresIn / 60);
    el.codeSentTo.append(` It expires in ${minutes >= 2 ? `${minutes} minutes` : `${expiresIn} seconds`}.`);
  }
}

function enterCodeStep(issued: { expires_in: number; resend_after: number; debug_otp?: string }): void {
  hide(el.codeAlert);
  hide(el.codeStatus);
  clearFieldError('otp');
  el.otp.value = '';
  describeDestination(issued.expires_in);
  showDebugCode(issued.debug_otp);
  countdown.start(issued.resend_after);
  showStep('code');
  startPolling();
  el.otp.focus();
}

// Where the code is: the verification's status, polled while the code step is open.

const DELIVERY_WORDS: Readonly<Record<NonNullable<Verification['delivery']>['status'], string>> = {
  queued: 'waiting to be sent',
  sending: 'being sent',
  sent: 'sent',
  delivered: 'delivered',
  read: 'read',
  failed: 'not delivered',
  undelivered: 'not delivered',
};

const ENDED_MESSAGES: Readonly<Partial<Record<Verification['status'], string>>> = {
  expired: 'This code has expired — send a new one.',
  canceled: 'This sign-up has ended. Choose “Change my details” to start again.',
  max_attempts_reached: 'Too many wrong codes. Choose “Change my details” and send yourself a new code.',
};

function showDeliveryStatus(text: string, problem: boolean): void {
  show(el.deliveryStatus, text);
  el.deliveryStatus.classList.toggle('is-problem', problem);
}

/** What the status says, in words; and, when the code fell back to another channel, where to look now. */
function showVerification(verification: Verification): void {
  if (verification.status !== 'pending') {
    const ended = ENDED_MESSAGES[verification.status];
    if (ended) showDeliveryStatus(ended, true);
    return;
  }
  const { delivery } = verification;
  const word = delivery ? DELIVERY_WORDS[delivery.status] : '';
  const failed = delivery?.status === 'failed' || delivery?.status === 'undelivered';
  if (verification.fell_back && verification.channel !== state.askedChannel) {
    if (state.channel !== verification.channel) {
      state.channel = verification.channel;
      if (verification.channel === 'email') state.destination = state.email;
      describeDestination(verification.expires_in);
    }
    showDeliveryStatus(
      `We could not reach you by ${CHANNEL_NAMES[state.askedChannel]} — sent by ${CHANNEL_NAMES[verification.channel]} instead.` +
        (word ? ` Your code: ${word}.` : ''),
      failed,
    );
    return;
  }
  if (failed) {
    showDeliveryStatus(
      `We could not deliver the code by ${CHANNEL_NAMES[verification.channel]}. Resend it, or choose “Change my details” to use another way.`,
      true,
    );
    return;
  }
  if (word) showDeliveryStatus(`Your code: ${word}.`, false);
  else hide(el.deliveryStatus);
}

function startPolling(): void {
  hide(el.deliveryStatus);
  if (state.verificationId) poller.start(state.verificationId);
  else poller.stop();
}

el.otp.addEventListener('input', () => {
  const digits = el.otp.value.replace(/\D/g, '');
  if (digits !== el.otp.value) el.otp.value = digits;
});

el.codeForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  if (el.verifySubmit.disabled) return;
  hide(el.codeAlert);
  hide(el.codeStatus);
  clearFieldError('otp');
  const otp = el.otp.value.replace(/\D/g, '');
  if (otp === '') {
    setFieldError('otp', emptyMessage('otp'));
    el.otp.focus();
    return;
  }

  setBusy(el.verifySubmit, true, 'Checking…');
  let token: string;
  try {
    ({ token } = await client.verifyOtp({ ...currentFlow(), otp }));
  } catch (caught) {
    const error = asClientError(caught);
    setBusy(el.verifySubmit, false);
    if (error.code === 'OTP_INVALID') {
      setFieldError('otp', errorMessage(error));
      el.otp.select();
      el.otp.focus();
    } else if (
      error.code === 'VALIDATION_ERROR' &&
      showFieldErrors(error.fieldErrors, ['otp'], locale()).length > 0
    ) {
      el.otp.focus();
    } else {
      show(el.codeAlert, errorMessage(error));
    }
    return;
  }
  try {
    const { user } = await client.me(token);
    enterVerifiedStep(user);
  } catch (caught) {
    show(
      el.codeAlert,
      `Your account is verified, but we could not load it: ${errorMessage(asClientError(caught))}`,
    );
  } finally {
    setBusy(el.verifySubmit, false);
  }
});

el.resend.addEventListener('click', async () => {
  if (el.resend.disabled) return;
  hide(el.codeAlert);
  hide(el.codeStatus);
  const body = { ...currentFlow(), otp_method: state.channel };
  if (captcha) {
    const answer = captcha.answer('resend');
    if (!answer) {
      show(el.codeAlert, CAPTCHA_REQUIRED_MESSAGE);
      return;
    }
    Object.assign(body, { captcha_token: answer });
  }
  el.resend.disabled = true;
  el.resend.textContent = 'Sending…';
  try {
    const issued = await client.resendOtp(body);
    el.otp.value = '';
    clearFieldError('otp');
    show(el.codeStatus, 'A new code is on its way. The previous code no longer works.');
    showDebugCode(issued.debug_otp);
    countdown.start(issued.resend_after);
    state.askedChannel = state.channel;
    startPolling();
    el.otp.focus();
  } catch (caught) {
    const error = asClientError(caught);
    show(el.codeAlert, errorMessage(error));
    const waits = error.code === 'RESEND_TOO_SOON' || error.code === 'RATE_LIMITED';
    countdown.start(waits ? error.retryAfter : 0);
  } finally {
    captcha?.reset('resend');
  }
});

function backToDetails(): void {
  poller.stop();
  hide(el.registerAlert);
  el.haveCode.hidden = true;
  showStep('register');
  byTestId('email').focus();
}

el.changeDetails.addEventListener('click', () => {
  hide(el.registerStatus);
  backToDetails();
});

// Ends the flow for good: its code stops working, and nothing more is sent for it.
el.cancel.addEventListener('click', async () => {
  if (el.cancel.disabled || !state.verificationId) return;
  hide(el.codeAlert);
  setBusy(el.cancel, true, 'Cancelling…');
  try {
    const { verification } = await client.cancelVerification(state.verificationId);
    countdown.stop();
    state.verificationId = '';
    backToDetails();
    show(
      el.registerStatus,
      verification.status === 'canceled'
        ? 'Sign-up cancelled: that code no longer works. You can start again.'
        : 'This sign-up had already ended.',
    );
  } catch (caught) {
    show(el.codeAlert, errorMessage(asClientError(caught)));
  } finally {
    setBusy(el.cancel, false);
  }
});

// ---------------------------------------------------------------------------------------------
// Step 3: verified
// ---------------------------------------------------------------------------------------------

/** "verified" or "not verified" beside a contact; nothing for a contact the account lacks. */
function showProof(node: HTMLElement, proven: boolean | undefined): void {
  node.textContent = proven === undefined ? '' : proven ? '✓ verified' : 'not verified';
  node.classList.toggle('is-proven', proven === true);
}

function enterVerifiedStep(user: User): void {
  const initials = (Array.from(user.first_name)[0] ?? '') + (Array.from(user.last_name)[0] ?? '');
  byTestId('verified-first-name').textContent = user.first_name;
  byTestId('verified-initials').textContent = initials.toUpperCase();
  byTestId('verified-name').textContent = `${user.first_name} ${user.last_name}`;
  // A contact counts only once a code proved it: a WhatsApp sign-up proves the phone, not the email.
  byTestId('verified-email').textContent = user.email ?? 'none';
  showProof(byTestId('verified-email-proof'), user.email ? user.email_verified : undefined);
  byTestId('verified-mobile-row').hidden = !user.mobile;
  byTestId('verified-mobile').textContent = user.mobile ?? '';
  showProof(byTestId('verified-mobile-proof'), user.mobile ? user.phone_verified : undefined);
  byTestId('verified-username').textContent = user.username ?? 'none';
  byTestId('verified-badge').hidden = user.is_verified !== true;
  countdown.stop();
  poller.stop();
  showStep('verified');
  el.verifiedTitle?.focus();
}

el.startOver.addEventListener('click', () => {
  el.registerForm.reset();
  el.codeForm.reset();
  Object.assign(state, {
    email: '',
    channel: 'email',
    askedChannel: 'email',
    destination: '',
    verificationId: '',
  });
  clearFieldErrors(ALL_FIELDS);
  hide(el.registerAlert);
  hide(el.registerStatus);
  syncChannel();
  showStep('register');
  byTestId('email').focus();
});

// ---------------------------------------------------------------------------------------------
// Start
// ---------------------------------------------------------------------------------------------

for (const radio of el.registerForm.querySelectorAll<HTMLInputElement>('input[name="otp_method"]')) {
  radio.addEventListener('change', syncChannel);
}
clearErrorsOnInput();
el.passwordToggle.setAttribute('aria-label', 'Show password');
syncChannel();
showStep('register');

const settings = await loadDemoSettings().catch(() => ({ captcha: null }));
if (settings.captcha) {
  captcha = mountCaptchaWidgets(
    settings.captcha,
    { register: byTestId('captcha-register'), resend: byTestId('captcha-resend') },
    {
      solved: (name) => {
        if (name === 'register') clearFieldError('captcha_token');
      },
      failed: (name) => {
        const message = 'The human check could not load. Reload the page to try again.';
        if (name === 'register') setFieldError('captcha_token', message);
        else show(el.codeAlert, message);
      },
    },
  );
}
