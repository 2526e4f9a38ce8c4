import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

describe('shop API settings', () => {
  it('default to the embedded shop on port 4010', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ SHOP_API_PORT: 4010 });
    expect(config.ORDERS_API_URL).toBeUndefined();
  });

  it('refuse ORDERS_API_URL without ORDERS_API_KEY, naming the setting', () => {
    expect(() => loadConfig({ ORDERS_API_URL: 'https://shop.example.com/api' })).toThrow(/ORDERS_API_KEY: is required when ORDERS_API_URL is set/);
    expect(loadConfig({ ORDERS_API_URL: 'https://shop.example.com/api', ORDERS_API_KEY: 'k' }).ORDERS_API_KEY).toBe('k');
    expect(() => loadConfig({ SHOP_API_PORT: 'http' })).toThrow(/SHOP_API_PORT/);
  });
});
