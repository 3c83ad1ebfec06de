export type { EmailSender, OutgoingEmail, SendResult } from './email/email-sender.js';
export { createEmailSender } from './providers.js';
export { createWorker, type DeliveryWorker, type WorkerDeps } from './worker.js';
