import type { WorkerConfig } from '@otp-relay/core';

/**
 * The shop's brand as messages show it (BRAND_*). Without a name the wording is neutral; the
 * colour always has a value (a default blue).
 */
export interface Brand {
  name?: string | undefined;
  logoUrl?: string | undefined;
  color: string;
  supportUrl?: string | undefined;
}

export function brandOf(
  config: Pick<WorkerConfig, 'BRAND_NAME' | 'BRAND_LOGO_URL' | 'BRAND_COLOR' | 'BRAND_SUPPORT_URL'>,
): Brand {
  return {
    name: config.BRAND_NAME,
    logoUrl: config.BRAND_LOGO_URL,
    color: config.BRAND_COLOR,
    supportUrl: config.BRAND_SUPPORT_URL,
  };
}
