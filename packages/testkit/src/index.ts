export * from './fake-captcha.js';
export * from './fake-google.js';
export * from './fake-smtp.js';
export * from './fake-twilio.js';
export * from './fake-webhook-receiver.js';
export * from './install-before-schemas.js';
export * from './test-services.js';
export * from './test-tracing.js';
