export { replayDeadDeliveries } from './delivery/dead-letters.js';
export type { MessageSender, OutgoingMessage, SendResult } from './delivery/message-sender.js';
export { createSenders, type Senders, sendersOf } from './delivery/senders.js';
export { purgeExpired } from './maintenance/retention.js';
export { createWorker, type DeliveryWorker, type WorkerDeps } from './worker.js';
