import { type OtpRelayClient, OtpRelayError, type Verification } from '@otp-relay/client';

// Every 3 s for a minute at most: the status has a per-IP allowance of its own, 20 a minute by
// default (RATE_LIMIT_IP_MAX), which this stays under.
const POLL_EVERY_MS = 3000;
const POLL_FOR_MS = 60_000;

export interface VerificationPoller {
  /** Polls the flow's status until it is no longer pending, or for a minute; restarts if running. */
  start(verificationId: string): void;
  stop(): void;
}

/** Follows a registration flow's status, reporting each answer; a stopped run reports nothing more. */
export function createVerificationPoller(
  client: OtpRelayClient,
  onStatus: (verification: Verification) => void,
): VerificationPoller {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let abort: AbortController | undefined;

  const stop = () => {
    clearTimeout(timer);
    timer = undefined;
    // An answer still on its way belongs to a flow or step the page has left.
    abort?.abort();
    abort = undefined;
  };

  return {
    stop,
    start(verificationId) {
      stop();
      const controller = new AbortController();
      abort = controller;
      const until = Date.now() + POLL_FOR_MS;
      const poll = async () => {
        let wait = POLL_EVERY_MS;
        try {
          const { verification } = await client.verificationStatus(verificationId, {
            signal: controller.signal,
          });
          onStatus(verification);
          if (verification.status !== 'pending') return;
        } catch (error) {
          if (controller.signal.aborted) return;
          if (error instanceof OtpRelayError && error.retryAfter)
            wait = Math.max(wait, error.retryAfter * 1000);
        }
        if (Date.now() + wait <= until) timer = setTimeout(poll, wait);
      };
      timer = setTimeout(poll, POLL_EVERY_MS);
    },
  };
}
