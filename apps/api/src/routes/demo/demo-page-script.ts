/**
 * `/demo.js`: the demo page's behaviour, plain browser JavaScript (no framework, no build step).
 * It is the text of a `String.raw` template: it must contain no backtick and no dollar-brace.
 */
export const DEMO_PAGE_SCRIPT = String.raw`'use strict';
(() => {
  const API = '/api/accounts/';

  const byTestId = (id) => document.querySelector('[data-testid="' + id + '"]');

  const el = {
    steps: document.querySelectorAll('.step'),
    panels: { register: byTestId('register-step'), code: byTestId('code-step'), verified: byTestId('verified-step') },
    titles: {
      register: document.getElementById('register-title'),
      code: document.getElementById('code-title'),
      verified: document.getElementById('verified-title'),
    },
    registerForm: byTestId('register-form'),
    registerAlert: byTestId('register-alert'),
    registerSubmit: byTestId('register-submit'),
    haveCode: byTestId('have-code'),
    passwordToggle: byTestId('password-toggle'),
    password: byTestId('password'),
    mobileField: byTestId('mobile-field'),
    mobile: byTestId('mobile'),
    codeForm: byTestId('code-form'),
    codeChannel: byTestId('code-channel'),
    codeSentTo: byTestId('code-sent-to'),
    deliveryStatus: byTestId('delivery-status'),
    debugHint: byTestId('debug-hint'),
    codeStatus: byTestId('code-status'),
    codeAlert: byTestId('code-alert'),
    otp: byTestId('otp'),
    verifySubmit: byTestId('verify-submit'),
    resend: byTestId('resend-button'),
    changeDetails: byTestId('change-details'),
    startOver: byTestId('start-over'),
  };

  // How each API field is shown: its input, and human messages for an empty or malformed value.
  const FIELDS = {
    email: {
      input: 'email',
      label: 'Email address',
      empty: 'Enter your email address.',
      rule: 'Enter a valid email address, like ann@example.com.',
    },
    username: {
      input: 'username',
      label: 'Username',
      empty: 'Choose a username.',
      rule: 'Use 3–30 letters, digits, underscores, dots or hyphens.',
    },
    first_name: {
      input: 'first-name',
      label: 'First name',
      empty: 'Enter your first name.',
      rule: 'Use letters, spaces, apostrophes, dots or hyphens (up to 100).',
    },
    last_name: {
      input: 'last-name',
      label: 'Last name',
      empty: 'Enter your last name.',
      rule: 'Use letters, spaces, apostrophes, dots or hyphens (up to 100).',
    },
    password: {
      input: 'password',
      label: 'Password',
      empty: 'Choose a password.',
      rule: (value) => (value.length > 128 ? 'Use at most 128 characters.' : 'Use at least 8 characters.'),
    },
    mobile: {
      input: 'mobile',
      label: 'Mobile number',
      empty: 'Enter your mobile number to get the code by WhatsApp.',
      rule: 'Enter your mobile number with the country code, e.g. +1 415 555 2671.',
    },
    otp_method: { error: 'otp-method-error', label: 'Channel', rule: 'Choose email or WhatsApp.' },
    otp: {
      input: 'otp',
      label: 'Code',
      empty: 'Enter the code we sent you.',
      rule: 'Enter the code as digits only.',
    },
    captcha_token: { error: 'captcha-error', label: 'Human check', rule: 'Complete the human check again.' },
  };

  // Messages written by the schema validator rather than by the service: replaced by the field's rule.
  const SCHEMA_MESSAGE = /^(must (NOT have|match|be|have)|is required$|is not an accepted field)/;

  // verificationId: the flow request-otp opened, sent with every verify and resend of it.
  // channel: where the code is now (a fallback moves it); askedChannel: where the last request sent it.
  const state = {
    email: '',
    channel: 'email',
    askedChannel: 'email',
    destination: '',
    verificationId: '',
    token: '',
    resendAt: 0,
    resendTimer: 0,
    pollTimer: 0,
    pollUntil: 0,
    pollRun: 0,
  };

  // ---------------------------------------------------------------------------------------------
  // Talking to the API
  // ---------------------------------------------------------------------------------------------

  function parseRetryAfter(header) {
    if (!header) return undefined;
    if (/^\d+$/.test(header.trim())) return Number(header.trim());
    const date = Date.parse(header);
    return Number.isNaN(date) ? undefined : Math.max(1, Math.ceil((date - Date.now()) / 1000));
  }

  /** Resolves {ok:true, data} or {ok:false, status, code, message, errors, retryAfter}; never rejects. */
  async function call(method, path, body, token) {
    const headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = 'Bearer ' + token;
    let response;
    try {
      response = await fetch(API + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        cache: 'no-store',
        credentials: 'same-origin',
      });
    } catch {
      return { ok: false, network: true };
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (response.ok && data && data.success === true) return { ok: true, data };
    return {
      ok: false,
      status: response.status,
      code: data && typeof data.code === 'string' ? data.code : 'HTTP_' + response.status,
      message: data && typeof data.message === 'string' ? data.message : '',
      errors: data && data.errors && typeof data.errors === 'object' ? data.errors : undefined,
      retryAfter: parseRetryAfter(response.headers.get('retry-after')),
    };
  }

  function inSeconds(seconds) {
    return seconds ? 'in ' + seconds + ' s' : 'in a moment';
  }

  /** A human sentence for any error the API (or the network) can give. */
  function errorMessage(result) {
    if (result.network) return 'We could not reach the server. Check your connection and try again.';
    switch (result.code) {
      case 'OTP_INVALID':
        return 'That code is not right. Check it and try again.';
      case 'OTP_EXPIRED':
        return 'That code has expired — send a new one.';
      case 'OTP_ATTEMPTS_EXCEEDED':
        return (
          'Too many wrong codes. For your safety this sign-up is locked: ' +
          'choose “Change my details” and send yourself a new code.'
        );
      case 'VERIFICATION_ID_REQUIRED':
        return (
          'We could not tell which of your sign-ups this is for. ' +
          'Choose “Change my details” and send yourself a new code.'
        );
      case 'RESEND_TOO_SOON':
      case 'RATE_LIMITED':
        return 'Too many requests — try again ' + inSeconds(result.retryAfter) + '.';
      case 'USERNAME_TAKEN':
        return 'That username is already taken — try another one.';
      case 'CHANNEL_UNAVAILABLE':
        return 'Codes by WhatsApp are not available on this service — choose email instead.';
      case 'CAPTCHA_REQUIRED':
        return 'Complete the human check first.';
      case 'CAPTCHA_INVALID':
        return 'The human check failed or expired — complete it again.';
      case 'SERVICE_UNAVAILABLE':
        return 'The service is temporarily unavailable. Please try again ' + inSeconds(result.retryAfter) + '.';
      case 'UNAUTHORIZED':
        return 'Your session is no longer valid. Start over to sign up again.';
      case 'VALIDATION_ERROR':
        return 'Some details need another look.';
      case 'PAYLOAD_TOO_LARGE':
        return 'That is more text than we can take. Shorten your entries and try again.';
      case 'INTERNAL_ERROR':
        return 'Something went wrong on our side. Please try again.';
      default:
        return result.message
          ? result.message
          : 'Unexpected answer from the server (HTTP ' + result.status + '). Please try again.';
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Showing things
  // ---------------------------------------------------------------------------------------------

  function show(node, text) {
    node.textContent = text;
    node.hidden = false;
  }

  function hide(node) {
    node.textContent = '';
    node.hidden = true;
  }

  function errorNodeFor(field) {
    const spec = FIELDS[field];
    if (!spec) return null;
    return byTestId(spec.error || spec.input + '-error');
  }

  function fieldMessage(field, message) {
    const spec = FIELDS[field];
    const input = spec.input ? byTestId(spec.input) : null;
    const value = input ? input.value.trim() : '';
    if (spec.empty && input && value === '') return spec.empty;
    if (!message || SCHEMA_MESSAGE.test(message)) {
      return typeof spec.rule === 'function' ? spec.rule(input ? input.value : '') : spec.rule;
    }
    // The service's own words ("must include the country code, e.g. …"): made a sentence about the field.
    const sentence = spec.label + ' ' + message;
    return /[.!?]$/.test(sentence) ? sentence : sentence + '.';
  }

  function setFieldError(field, text) {
    const node = errorNodeFor(field);
    if (!node) return false;
    show(node, text);
    const spec = FIELDS[field];
    if (spec.input) byTestId(spec.input).setAttribute('aria-invalid', 'true');
    return true;
  }

  function clearFieldError(field) {
    const node = errorNodeFor(field);
    if (node) hide(node);
    const spec = FIELDS[field];
    if (spec && spec.input) byTestId(spec.input).removeAttribute('aria-invalid');
  }

  function clearFieldErrors(fields) {
    for (const field of fields) clearFieldError(field);
  }

  /** Puts each errors entry next to its field; answers the fields it could place. */
  function showFieldErrors(errors, fields) {
    const placed = [];
    for (const field of Object.keys(errors || {})) {
      if (fields.indexOf(field) === -1) continue;
      if (setFieldError(field, fieldMessage(field, errors[field]))) placed.push(field);
    }
    return placed;
  }

  function focusField(field) {
    const spec = FIELDS[field];
    let target = null;
    if (spec.input) target = byTestId(spec.input);
    else if (field === 'otp_method') target = el.registerForm.querySelector('input[name="otp_method"]:checked');
    if (target) target.focus();
  }

  function setBusy(button, busy, busyText) {
    if (busy) {
      button.dataset.label = button.textContent;
      button.textContent = busyText;
      button.disabled = true;
      button.setAttribute('aria-busy', 'true');
    } else {
      if (button.dataset.label) button.textContent = button.dataset.label;
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  }

  const STEP_TITLES = {
    register: 'Create your account',
    code: 'Enter your code',
    verified: 'You are verified',
  };

  function showStep(name) {
    const order = ['register', 'code', 'verified'];
    for (const key of order) el.panels[key].hidden = key !== name;
    const current = order.indexOf(name);
    el.steps.forEach((step) => {
      const index = order.indexOf(step.dataset.step);
      step.classList.toggle('is-current', index === current);
      step.classList.toggle('is-done', index < current);
      if (index === current) step.setAttribute('aria-current', 'step');
      else step.removeAttribute('aria-current');
    });
    document.title = STEP_TITLES[name] + ' · otp-relay demo';
  }

  // ---------------------------------------------------------------------------------------------
  // The human check (CAPTCHA), when the page was served with one
  // ---------------------------------------------------------------------------------------------

  /**
   * One widget per form that sends a code (the details, and resend), rendered once the provider's
   * script has loaded; Turnstile and hCaptcha both offer render, getResponse and reset. An answer
   * is good for one request, so each widget is reset after every use. Null without a CAPTCHA.
   */
  const captcha = (() => {
    const boxes = { register: byTestId('captcha-register'), resend: byTestId('captcha-resend') };
    if (!boxes.register || !boxes.resend) return null;
    const provider = boxes.register.dataset.captchaProvider;
    const widgetApi = () => (provider === 'hcaptcha' ? window.hcaptcha : window.turnstile);
    const widgets = {};

    function failed(name) {
      const message = 'The human check could not load. Reload the page to try again.';
      if (name === 'register') setFieldError('captcha_token', message);
      else show(el.codeAlert, message);
      return true;
    }

    function render() {
      const api = widgetApi();
      if (!api || widgets.register !== undefined) return;
      for (const name of Object.keys(boxes)) {
        widgets[name] = api.render(boxes[name], {
          sitekey: boxes[name].dataset.sitekey,
          callback: () => {
            if (name === 'register') clearFieldError('captcha_token');
          },
          'error-callback': () => failed(name),
        });
      }
    }

    // The provider's script calls this once it has loaded (its onload parameter).
    window.otpRelayCaptchaReady = render;
    render();

    return {
      /** The widget's current answer; '' until it is solved. */
      answer(name) {
        const api = widgetApi();
        if (!api || widgets[name] === undefined) return '';
        return api.getResponse(widgets[name]) || '';
      },
      reset(name) {
        const api = widgetApi();
        if (api && widgets[name] !== undefined) api.reset(widgets[name]);
      },
    };
  })();

  // ---------------------------------------------------------------------------------------------
  // Step 1: the registration form
  // ---------------------------------------------------------------------------------------------

  const REGISTER_FIELDS = [
    'email',
    'username',
    'first_name',
    'last_name',
    'password',
    'mobile',
    'otp_method',
    'captcha_token',
  ];

  function selectedChannel() {
    const checked = el.registerForm.querySelector('input[name="otp_method"]:checked');
    return checked ? checked.value : 'email';
  }

  function syncChannel() {
    const whatsapp = selectedChannel() === 'whatsapp';
    el.mobileField.hidden = !whatsapp;
    el.mobile.required = whatsapp;
    clearFieldError('otp_method');
    if (!whatsapp) clearFieldError('mobile');
  }

  for (const radio of el.registerForm.querySelectorAll('input[name="otp_method"]')) {
    radio.addEventListener('change', syncChannel);
  }

  // Editing a field clears its error.
  for (const field of Object.keys(FIELDS)) {
    const spec = FIELDS[field];
    if (spec.input) byTestId(spec.input).addEventListener('input', () => clearFieldError(field));
  }

  el.passwordToggle.addEventListener('click', () => {
    const showing = el.password.type === 'text';
    el.password.type = showing ? 'password' : 'text';
    el.passwordToggle.textContent = showing ? 'Show' : 'Hide';
    el.passwordToggle.setAttribute('aria-pressed', String(!showing));
    el.passwordToggle.setAttribute('aria-label', showing ? 'Show password' : 'Hide password');
  });
  el.passwordToggle.setAttribute('aria-label', 'Show password');

  function registration() {
    const form = el.registerForm.elements;
    const channel = selectedChannel();
    const body = {
      email: form.email.value.trim(),
      otp_method: channel,
      username: form.username.value.trim(),
      first_name: form.first_name.value.trim(),
      last_name: form.last_name.value.trim(),
      password: form.password.value,
    };
    const mobile = form.mobile.value.trim();
    if (channel === 'whatsapp' && mobile !== '') body.mobile = mobile;
    return body;
  }

  el.registerForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (el.registerSubmit.disabled) return;
    clearFieldErrors(REGISTER_FIELDS);
    hide(el.registerAlert);
    el.haveCode.hidden = true;

    const body = registration();
    if (captcha) {
      body.captcha_token = captcha.answer('register');
      if (!body.captcha_token) {
        setFieldError('captcha_token', errorMessage({ code: 'CAPTCHA_REQUIRED' }));
        show(el.registerAlert, 'Please fix the highlighted field.');
        return;
      }
    }
    setBusy(el.registerSubmit, true, 'Sending your code…');
    const result = await call('POST', 'request-otp/', body);
    setBusy(el.registerSubmit, false);
    // Spent whatever the answer was: the next try needs a fresh one.
    if (captcha) captcha.reset('register');

    if (result.ok) {
      state.email = body.email;
      state.verificationId = result.data.verification_id || '';
      state.channel = body.otp_method;
      state.askedChannel = body.otp_method;
      state.destination = body.otp_method === 'whatsapp' ? body.mobile : body.email;
      enterCodeStep(result.data);
      return;
    }

    let placed = [];
    if (result.code === 'VALIDATION_ERROR') placed = showFieldErrors(result.errors, REGISTER_FIELDS);
    if (result.code === 'USERNAME_TAKEN' && setFieldError('username', errorMessage(result))) placed = ['username'];
    if (result.code === 'CHANNEL_UNAVAILABLE' && setFieldError('otp_method', errorMessage(result))) {
      placed = ['otp_method'];
    }
    if (/^CAPTCHA_/.test(result.code) && setFieldError('captcha_token', errorMessage(result))) {
      placed = ['captcha_token'];
    }

    if (placed.length > 0) {
      show(el.registerAlert, placed.length === 1 ? 'Please fix the highlighted field.' : 'Please fix the highlighted fields.');
      focusField(placed[0]);
      return;
    }
    show(el.registerAlert, errorMessage(result));
    // A code went to this address moments ago from this page: let the shopper go back and type it.
    if (result.code === 'RESEND_TOO_SOON' && state.email && state.email.toLowerCase() === body.email.toLowerCase()) {
      el.haveCode.hidden = false;
      startCountdown(result.retryAfter || 0);
    }
  });

  /** The body of a call about the current flow: the address, and the flow's id when we have it. */
  function flowCall(fields) {
    const body = Object.assign({ email: state.email }, fields);
    if (state.verificationId) body.verification_id = state.verificationId;
    return body;
  }

  el.haveCode.addEventListener('click', () => {
    hide(el.registerAlert);
    el.haveCode.hidden = true;
    showStep('code');
    startPolling();
    el.otp.focus();
  });

  // ---------------------------------------------------------------------------------------------
  // Step 2: the code
  // ---------------------------------------------------------------------------------------------

  function showDebugCode(code) {
    if (!code) {
      hide(el.debugHint);
      return;
    }
    el.debugHint.textContent = 'Development: your code is ';
    const value = document.createElement('span');
    value.className = 'code';
    value.textContent = code;
    el.debugHint.appendChild(value);
    el.debugHint.hidden = false;
  }

  const CHANNEL_NAMES = { email: 'email', whatsapp: 'WhatsApp', sms: 'SMS' };

  function channelName(channel) {
    return CHANNEL_NAMES[channel] || channel;
  }

  function describeDestination(expiresIn) {
    el.codeChannel.textContent = channelName(state.channel);
    el.codeSentTo.textContent = '';
    el.codeSentTo.append(
      state.channel === 'email' ? 'We sent a code to ' : 'We sent a code by ' + channelName(state.channel) + ' to ',
    );
    const strong = document.createElement('strong');
    strong.textContent = state.destination;
    el.codeSentTo.append(strong, '.');
    if (expiresIn) {
      const minutes = Math.round(expiresIn / 60);
      el.codeSentTo.append(
        ' It expires in ' + (minutes >= 2 ? minutes + ' minutes' : expiresIn + ' seconds') + '.',
      );
    }
  }

  function enterCodeStep(data) {
    hide(el.codeAlert);
    hide(el.codeStatus);
    clearFieldError('otp');
    el.otp.value = '';
    describeDestination(data.expires_in);
    showDebugCode(data.debug_otp);
    startCountdown(data.resend_after);
    showStep('code');
    startPolling();
    el.otp.focus();
  }

  // ---------------------------------------------------------------------------------------------
  // Where the code is: the verification's status, polled while the code step is open
  // ---------------------------------------------------------------------------------------------

  // Every 3 s for a minute at most: the status has a per-IP allowance of its own, 20 a minute by
  // default (RATE_LIMIT_IP_MAX), which this stays under.
  const POLL_EVERY_MS = 3000;
  const POLL_FOR_MS = 60000;

  const DELIVERY_WORDS = {
    queued: 'waiting to be sent',
    sending: 'being sent',
    sent: 'sent',
    delivered: 'delivered',
    read: 'read',
    failed: 'not delivered',
    undelivered: 'not delivered',
  };

  const ENDED_MESSAGES = {
    expired: 'This code has expired — send a new one.',
    canceled: 'This sign-up has ended. Choose “Change my details” to start again.',
    max_attempts_reached:
      'Too many wrong codes. Choose “Change my details” and send yourself a new code.',
  };

  function showDeliveryStatus(text, problem) {
    show(el.deliveryStatus, text);
    el.deliveryStatus.classList.toggle('is-problem', problem === true);
  }

  /** What the status says, in words; and, when the code fell back to another channel, where to look now. */
  function showVerification(verification) {
    if (verification.status !== 'pending') {
      if (ENDED_MESSAGES[verification.status]) showDeliveryStatus(ENDED_MESSAGES[verification.status], true);
      return;
    }
    const delivery = verification.delivery;
    const word = delivery ? DELIVERY_WORDS[delivery.status] || delivery.status : '';
    const failed = delivery !== null && (delivery.status === 'failed' || delivery.status === 'undelivered');
    if (verification.fell_back && verification.channel !== state.askedChannel) {
      if (state.channel !== verification.channel) {
        state.channel = verification.channel;
        if (verification.channel === 'email') state.destination = state.email;
        describeDestination(verification.expires_in);
      }
      showDeliveryStatus(
        'We could not reach you by ' + channelName(state.askedChannel) + ' — sent by ' +
          channelName(verification.channel) + ' instead.' + (word ? ' Your code: ' + word + '.' : ''),
        failed,
      );
      return;
    }
    if (failed) {
      showDeliveryStatus(
        'We could not deliver the code by ' + channelName(verification.channel) +
          '. Resend it, or choose “Change my details” to use another way.',
        true,
      );
      return;
    }
    if (word) showDeliveryStatus('Your code: ' + word + '.', false);
    else hide(el.deliveryStatus);
  }

  function stopPolling() {
    clearTimeout(state.pollTimer);
    state.pollTimer = 0;
    state.pollRun += 1;
  }

  /** Polls the flow's status until it is no longer pending, or for a minute. */
  function startPolling() {
    stopPolling();
    hide(el.deliveryStatus);
    if (!state.verificationId) return;
    const run = state.pollRun;
    state.pollUntil = Date.now() + POLL_FOR_MS;
    const poll = async () => {
      const result = await call('GET', 'verifications/' + encodeURIComponent(state.verificationId));
      // The page moved on (another code, another step) while the answer was on its way.
      if (run !== state.pollRun) return;
      let wait = POLL_EVERY_MS;
      if (result.ok) {
        showVerification(result.data.verification);
        if (result.data.verification.status !== 'pending') return;
      } else if (result.retryAfter) {
        wait = Math.max(wait, result.retryAfter * 1000);
      }
      if (Date.now() + wait <= state.pollUntil) state.pollTimer = setTimeout(poll, wait);
    };
    state.pollTimer = setTimeout(poll, POLL_EVERY_MS);
  }

  function tick() {
    const remaining = Math.ceil((state.resendAt - Date.now()) / 1000);
    if (remaining > 0) {
      el.resend.disabled = true;
      el.resend.textContent = 'Resend code in ' + remaining + ' s';
      return;
    }
    clearInterval(state.resendTimer);
    state.resendTimer = 0;
    el.resend.disabled = false;
    el.resend.textContent = 'Resend code';
  }

  /** The resend button stays disabled, counting down, until the cooldown has passed. */
  function startCountdown(seconds) {
    clearInterval(state.resendTimer);
    state.resendAt = Date.now() + Math.max(0, Number(seconds) || 0) * 1000;
    tick();
    if (state.resendAt > Date.now()) state.resendTimer = setInterval(tick, 250);
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
      setFieldError('otp', FIELDS.otp.empty);
      el.otp.focus();
      return;
    }

    setBusy(el.verifySubmit, true, 'Checking…');
    const verified = await call('POST', 'verify-otp/', flowCall({ otp }));
    if (!verified.ok) {
      setBusy(el.verifySubmit, false);
      if (verified.code === 'OTP_INVALID') {
        setFieldError('otp', errorMessage(verified));
        el.otp.select();
        el.otp.focus();
      } else if (verified.code === 'VALIDATION_ERROR' && showFieldErrors(verified.errors, ['otp']).length > 0) {
        el.otp.focus();
      } else {
        show(el.codeAlert, errorMessage(verified));
      }
      return;
    }

    state.token = verified.data.token;
    const me = await call('GET', 'me', undefined, state.token);
    setBusy(el.verifySubmit, false);
    if (!me.ok) {
      show(el.codeAlert, 'Your account is verified, but we could not load it: ' + errorMessage(me));
      return;
    }
    enterVerifiedStep(me.data.user);
  });

  el.resend.addEventListener('click', async () => {
    if (el.resend.disabled) return;
    hide(el.codeAlert);
    hide(el.codeStatus);
    const fields = { otp_method: state.channel };
    if (captcha) {
      fields.captcha_token = captcha.answer('resend');
      if (!fields.captcha_token) {
        show(el.codeAlert, errorMessage({ code: 'CAPTCHA_REQUIRED' }));
        return;
      }
    }
    el.resend.disabled = true;
    el.resend.textContent = 'Sending…';
    const result = await call('POST', 'resend-otp/', flowCall(fields));
    if (captcha) captcha.reset('resend');
    if (result.ok) {
      el.otp.value = '';
      clearFieldError('otp');
      show(el.codeStatus, 'A new code is on its way. The previous code no longer works.');
      showDebugCode(result.data.debug_otp);
      startCountdown(result.data.resend_after);
      state.askedChannel = state.channel;
      startPolling();
      el.otp.focus();
      return;
    }
    show(el.codeAlert, errorMessage(result));
    const wait = result.code === 'RESEND_TOO_SOON' || result.code === 'RATE_LIMITED' ? result.retryAfter : 0;
    startCountdown(wait || 0);
  });

  el.changeDetails.addEventListener('click', () => {
    stopPolling();
    hide(el.registerAlert);
    el.haveCode.hidden = true;
    showStep('register');
    byTestId('email').focus();
  });

  // ---------------------------------------------------------------------------------------------
  // Step 3: verified
  // ---------------------------------------------------------------------------------------------

  /** "verified" or "not verified" beside a contact; nothing for a contact the account lacks. */
  function showProof(node, proven) {
    node.textContent = proven === undefined ? '' : proven ? '✓ verified' : 'not verified';
    node.classList.toggle('is-proven', proven === true);
  }

  function enterVerifiedStep(user) {
    const name = user.first_name + ' ' + user.last_name;
    byTestId('verified-first-name').textContent = user.first_name;
    byTestId('verified-initials').textContent = (
      Array.from(user.first_name)[0] + (Array.from(user.last_name)[0] || '')
    ).toUpperCase();
    byTestId('verified-name').textContent = name;
    // A contact counts only once a code proved it: a WhatsApp sign-up proves the phone, not the email.
    byTestId('verified-email').textContent = user.email || 'none';
    showProof(byTestId('verified-email-proof'), user.email ? user.email_verified : undefined);
    byTestId('verified-mobile-row').hidden = !user.mobile;
    byTestId('verified-mobile').textContent = user.mobile || '';
    showProof(byTestId('verified-mobile-proof'), user.mobile ? user.phone_verified : undefined);
    byTestId('verified-username').textContent = user.username;
    byTestId('verified-badge').hidden = user.is_verified !== true;
    clearInterval(state.resendTimer);
    stopPolling();
    showStep('verified');
    el.titles.verified.focus();
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
      token: '',
    });
    clearFieldErrors(Object.keys(FIELDS));
    hide(el.registerAlert);
    syncChannel();
    showStep('register');
    byTestId('email').focus();
  });

  syncChannel();
  showStep('register');
})();
`;
