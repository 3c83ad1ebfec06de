/** `/demo.css`: the demo page's look, system fonts only (a template literal: no backtick, dollar-brace or backslash). */
export const DEMO_PAGE_CSS = `:root {
  color-scheme: light;
  --bg: #f3f4f6;
  --card: #ffffff;
  --text: #111827;
  --muted: #6b7280;
  --border: #d1d5db;
  --focus: #a5b4fc;
  --accent: #4f46e5;
  --accent-hover: #4338ca;
  --accent-soft: #eef2ff;
  --danger: #b91c1c;
  --danger-bg: #fef2f2;
  --danger-border: #fecaca;
  --success: #047857;
  --success-bg: #ecfdf5;
  --success-border: #a7f3d0;
  --info: #1e40af;
  --info-bg: #eff6ff;
  --info-border: #bfdbfe;
  --radius: 10px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Liberation Sans", Arial, sans-serif;
  font-size: 16px;
  line-height: 1.5;
}

*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }

body {
  margin: 0;
  min-height: 100vh;
  background: var(--bg);
  color: var(--text);
}

.shell {
  max-width: 480px;
  margin: 0 auto;
  padding: 32px 16px 48px;
}

.brand {
  display: flex;
  align-items: center;
  gap: 10px;
  margin-bottom: 20px;
  font-weight: 650;
  font-size: 18px;
}
.brand-mark {
  display: inline-grid;
  place-items: center;
  width: 32px;
  height: 32px;
  border-radius: 8px;
  background: var(--accent);
  color: #fff;
  font-size: 18px;
}
.brand-tag {
  padding: 2px 8px;
  border-radius: 999px;
  background: var(--accent-soft);
  color: var(--accent);
  font-size: 12px;
  font-weight: 600;
  text-transform: uppercase;
  letter-spacing: 0.04em;
}

.card {
  background: var(--card);
  border: 1px solid #e5e7eb;
  border-radius: 16px;
  box-shadow: 0 1px 2px rgb(0 0 0 / 0.04), 0 8px 24px rgb(17 24 39 / 0.06);
  padding: 28px;
}

.steps {
  display: flex;
  gap: 8px;
  margin: 0 0 24px;
  padding: 0;
  list-style: none;
  counter-reset: step;
  font-size: 13px;
  color: var(--muted);
}
.step {
  flex: 1;
  counter-increment: step;
  padding-top: 8px;
  border-top: 3px solid #e5e7eb;
}
.step::before { content: counter(step) ". "; }
.step.is-done { border-top-color: var(--accent); color: var(--text); }
.step.is-current { border-top-color: var(--accent); color: var(--accent); font-weight: 600; }

.title {
  margin: 0 0 4px;
  font-size: 24px;
  line-height: 1.25;
  font-weight: 700;
  letter-spacing: -0.01em;
}
.title:focus { outline: none; }
.lead { margin: 0 0 20px; color: var(--muted); }
.lead strong { color: var(--text); font-weight: 600; }
.delivery-status { margin: -12px 0 20px; font-size: 14px; color: var(--muted); }
.delivery-status.is-problem { color: var(--danger); }

form { display: grid; gap: 16px; }
.field { display: grid; gap: 6px; min-width: 0; }
.field-row { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }

label, legend { font-size: 14px; font-weight: 600; }

input[type="email"], input[type="text"], input[type="password"], input[type="tel"] {
  width: 100%;
  min-height: 44px;
  padding: 10px 12px;
  border: 1px solid var(--border);
  border-radius: var(--radius);
  background: #fff;
  color: var(--text);
  font: inherit;
}
input:focus-visible, button:focus-visible {
  outline: 3px solid var(--focus);
  outline-offset: 1px;
}
input[aria-invalid="true"] { border-color: var(--danger); background: var(--danger-bg); }

.hint { margin: 0; font-size: 13px; color: var(--muted); }
.field-error { margin: 0; font-size: 13px; color: var(--danger); font-weight: 500; }
.field-error::before { content: "⚠ "; }
/* A field's error replaces its hint. */
.field:has(.field-error:not([hidden])) .hint { display: none; }

.input-with-button { position: relative; }
.input-with-button input { padding-right: 72px; }
.input-button {
  position: absolute;
  top: 6px;
  right: 6px;
  bottom: 6px;
  padding: 0 12px;
  border: 0;
  border-radius: 8px;
  background: #f3f4f6;
  color: var(--text);
  font: inherit;
  font-size: 13px;
  font-weight: 600;
  cursor: pointer;
}
.input-button:hover { background: #e5e7eb; }

.choice { margin: 0; padding: 0; border: 0; }
.choice legend { padding: 0; margin-bottom: 6px; }
.choice-options { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; }
.choice-option {
  display: flex;
  align-items: center;
  gap: 10px;
  min-height: 44px;
  padding: 10px 12px;
  border: 1px solid var(--border);
  border-radius: var(--radius);
  font-weight: 500;
  cursor: pointer;
}
.choice-option:has(input:checked) { border-color: var(--accent); background: var(--accent-soft); color: var(--accent); }
.choice-option input { accent-color: var(--accent); margin: 0; }

.button {
  display: inline-flex;
  align-items: center;
  justify-content: center;
  min-height: 44px;
  padding: 10px 18px;
  border-radius: var(--radius);
  font: inherit;
  font-weight: 600;
  cursor: pointer;
  transition: background-color 0.15s ease;
}
.button-primary { width: 100%; border: 1px solid var(--accent); background: var(--accent); color: #fff; }
.button-primary:hover:not(:disabled) { background: var(--accent-hover); }
.button-secondary { border: 1px solid var(--border); background: #fff; color: var(--text); }
.button-secondary:hover:not(:disabled) { background: #f9fafb; }
.button:disabled { cursor: not-allowed; opacity: 0.6; }
.button[aria-busy="true"] { cursor: progress; }

.link-button {
  padding: 4px 0;
  border: 0;
  background: none;
  color: var(--accent);
  font: inherit;
  font-size: 14px;
  font-weight: 600;
  cursor: pointer;
  text-decoration: underline;
  text-underline-offset: 2px;
}
.link-button:disabled { color: var(--muted); cursor: not-allowed; }

.alert {
  margin: 0 0 16px;
  padding: 12px 14px;
  border: 1px solid;
  border-radius: var(--radius);
  font-size: 14px;
}
.alert-error { border-color: var(--danger-border); background: var(--danger-bg); color: var(--danger); }
.alert-success { border-color: var(--success-border); background: var(--success-bg); color: var(--success); }
.alert-info { border-color: var(--info-border); background: var(--info-bg); color: var(--info); }
.alert .code { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, monospace; font-weight: 700; letter-spacing: 0.12em; }
#register-step .link-button { margin: -8px 0 16px; }

.code-input {
  font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, monospace;
  font-size: 24px !important;
  letter-spacing: 0.35em;
  text-align: center;
}

.secondary-actions {
  display: flex;
  flex-wrap: wrap;
  align-items: center;
  justify-content: space-between;
  gap: 12px;
  margin-top: 20px;
  padding-top: 16px;
  border-top: 1px solid #f3f4f6;
}

.verified-head { display: flex; align-items: center; gap: 16px; margin-bottom: 12px; }
.avatar {
  display: inline-grid;
  place-items: center;
  flex: none;
  width: 56px;
  height: 56px;
  border-radius: 50%;
  background: var(--accent-soft);
  color: var(--accent);
  font-size: 20px;
  font-weight: 700;
}
.badge {
  display: inline-flex;
  align-items: center;
  gap: 4px;
  margin-top: 4px;
  padding: 2px 10px;
  border: 1px solid var(--success-border);
  border-radius: 999px;
  background: var(--success-bg);
  color: var(--success);
  font-size: 13px;
  font-weight: 600;
}
.badge::before { content: "✓"; }

.details { margin: 0 0 24px; border: 1px solid #e5e7eb; border-radius: var(--radius); }
.details div { display: grid; grid-template-columns: 110px 1fr; gap: 12px; padding: 12px 14px; }
.details div + div { border-top: 1px solid #e5e7eb; }
.details dt { color: var(--muted); font-size: 14px; }
.details dd { margin: 0; font-weight: 500; overflow-wrap: anywhere; }
/* Whether a code proved the contact: only a proven one can be trusted. */
.proof { display: block; margin-top: 2px; font-size: 13px; font-weight: 500; color: var(--muted); }
.proof.is-proven { color: var(--success); }

.footnote { margin: 20px 0 0; text-align: center; font-size: 13px; color: var(--muted); }

/* The CAPTCHA widget's iframe: room kept for it so the form does not jump when it loads. */
.captcha { min-height: 65px; }
#code-step .captcha { margin-top: 16px; }

@media (max-width: 420px) {
  .shell { padding: 16px 12px 32px; }
  .card { padding: 20px 16px; border-radius: 12px; }
  .field-row { grid-template-columns: 1fr; }
  .details div { grid-template-columns: 1fr; gap: 2px; }
  .title { font-size: 22px; }
}

@media (prefers-reduced-motion: reduce) {
  .button { transition: none; }
}
`;
