import { fileURLToPath } from 'node:url';

/**
 * The catalogues and email templates the worker ships, in apps/worker/templates: outside src, so
 * the same path leads there from src/messages (tsx) and from dist/messages (the build, the image).
 */
export const SHIPPED_TEMPLATES_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));

/** The MJML files: the layout every email shares, and the body of each kind of email. */
export const EMAIL_TEMPLATE_FILES = {
  layout: 'layout.mjml',
  otp: 'code-email.mjml',
  'registration-notice': 'notice-email.mjml',
} as const;
