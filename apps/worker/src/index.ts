export { replayDeadDeliveries } from './delivery/dead-letters.js';
export type { MessageSender, OutgoingMessage, SendResult } from './delivery/message-sender.js';
export { createSenders, type Senders, sendersOf } from './delivery/senders.js';
export { purgeExpired } from './maintenance/retention.js';
export { sweepExpiredVerifications } from './webhooks/expiry-sweep.js';
export { replayDeadWebhookEvents } from './webhooks/webhook-dead-letters.js';
export { createWorker, type DeliveryWorker, type WorkerDeps } from './worker.js';
