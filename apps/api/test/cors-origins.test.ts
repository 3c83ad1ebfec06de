import { describe, expect, it } from 'vitest';
import { corsOrigins, LOCAL_DEV_ORIGIN } from '../src/http/cors-origins.js';

describe('the local frontend origin rule (development only)', () => {
  it.each([
    'http://localhost:5173',
    'http://localhost:3000',
    'http://localhost',
    'http://127.0.0.1:8080',
    'http://[::1]:5173',
  ])('matches %s', (origin) => {
    expect(LOCAL_DEV_ORIGIN.test(origin)).toBe(true);
  });

  it.each([
    'http://localhost.evil.example',
    'http://localhost:5173.evil.example',
    'http://evil.example:5173',
    'http://127.0.0.2:5173',
    'https://localhost:5173',
    'http://localhost:5173/',
    'http://user@localhost:5173',
    'null',
  ])('does not match %s', (origin) => {
    expect(LOCAL_DEV_ORIGIN.test(origin)).toBe(false);
  });

  it('is added in development only, beside CORS_ORIGINS', () => {
    const listed = 'https://shop.example, https://m.shop.example';
    expect(corsOrigins({ NODE_ENV: 'development', CORS_ORIGINS: listed })).toEqual([
      'https://shop.example',
      'https://m.shop.example',
      LOCAL_DEV_ORIGIN,
    ]);
    expect(corsOrigins({ NODE_ENV: 'production', CORS_ORIGINS: listed })).toEqual([
      'https://shop.example',
      'https://m.shop.example',
    ]);
    expect(corsOrigins({ NODE_ENV: 'test', CORS_ORIGINS: '' })).toEqual([]);
    expect(corsOrigins({ NODE_ENV: 'production', CORS_ORIGINS: '' })).toEqual([]);
  });
});
