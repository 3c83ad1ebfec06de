import { decryptPayload, encryptPayload } from './otp-crypto.js';

/**
 * What the API seals into a delivery row and the worker opens to send: the code never travels in
 * a job. (Rows sealed before 2026-12 also carry the shopper's first name, which is no longer read.)
 */
export interface DeliveryPayload {
  code: string;
}

export function sealDeliveryPayload(key: Buffer, deliveryId: string, payload: DeliveryPayload): string {
  return encryptPayload(key, JSON.stringify(payload), deliveryId);
}

export function openDeliveryPayload(key: Buffer, deliveryId: string, sealed: string): DeliveryPayload {
  return JSON.parse(decryptPayload(key, sealed, deliveryId)) as DeliveryPayload;
}
