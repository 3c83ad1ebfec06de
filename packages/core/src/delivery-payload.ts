import { decryptPayload, encryptPayload } from './otp-crypto.js';

/** What the API seals into a delivery row and the worker opens to send: the code never travels in a job. */
export interface DeliveryPayload {
  code: string;
  firstName: string;
}

export function sealDeliveryPayload(key: Buffer, deliveryId: string, payload: DeliveryPayload): string {
  return encryptPayload(key, JSON.stringify(payload), deliveryId);
}

export function openDeliveryPayload(key: Buffer, deliveryId: string, sealed: string): DeliveryPayload {
  return JSON.parse(decryptPayload(key, sealed, deliveryId)) as DeliveryPayload;
}
