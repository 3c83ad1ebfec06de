/** What delivery reports as it goes (metrics listen); no-ops by default. */
export interface DeliveryEvents {
  attempted(channel: string, provider: string, result: 'sent' | 'failed'): void;
  finished(channel: string, provider: string, outcome: 'sent' | 'dead' | 'skipped'): void;
  /** Seconds from the shopper's request to the provider's acceptance. */
  accepted(channel: string, provider: string, seconds: number): void;
  /**
   * The provider accepted a delivery that neither Postgres nor Redis could keep a record of: a
   * later attempt will send it again (a duplicate the shopper sees).
   */
  acceptanceLost?(channel: string, provider: string): void;
}

export const NO_EVENTS: DeliveryEvents = { attempted() {}, finished() {}, accepted() {} };
