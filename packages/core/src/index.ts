export * from './code-usability.js';
export * from './config.js';
export * from './delivery-payload.js';
export * from './delivery-queue.js';
export * from './logger.js';
export * from './otp-crypto.js';
export * from './redis.js';
export * from './trust-proxy.js';
