import { describe, expect, it } from 'vitest';
import { RouteTable } from '../../src/infrastructure/http/route-label.js';

describe('RouteTable', () => {
  const table = new RouteTable();
  table.add('get', '/v1/payments/:id');
  table.add('post', '/v1/payments');
  table.add('get', '/v1/payments');
  table.add('post', '/v1/payments/:id/capture');
  table.add('get', '/v1/admin/projections');
  table.add('get', '/v1/admin/:anything');

  it('finds the pattern a path was meant for, by method', () => {
    expect(table.match('POST', '/v1/payments/pay_123/capture')).toBe('/v1/payments/:id/capture');
    expect(table.match('GET', '/v1/payments/pay_123')).toBe('/v1/payments/:id');
    expect(table.match('POST', '/v1/payments')).toBe('/v1/payments');
    expect(table.match('GET', '/v1/payments')).toBe('/v1/payments');
  });

  it('matches like Express: case-insensitive, trailing slash ignored, HEAD served by GET', () => {
    expect(table.match('GET', '/V1/Payments/')).toBe('/v1/payments');
    expect(table.match('HEAD', '/v1/payments/pay_1')).toBe('/v1/payments/:id');
  });

  it('prefers the pattern with more literal segments', () => {
    expect(table.match('GET', '/v1/admin/projections')).toBe('/v1/admin/projections');
    expect(table.match('GET', '/v1/admin/other')).toBe('/v1/admin/:anything');
  });

  it('is undefined for a path or method nothing serves', () => {
    expect(table.match('DELETE', '/v1/payments/pay_1')).toBeUndefined();
    expect(table.match('POST', '/v1/payments/pay_1/refund')).toBeUndefined();
    expect(table.match('GET', '/v1/payments/pay_1/capture/extra')).toBeUndefined();
    expect(table.match('GET', '/')).toBeUndefined();
  });
});
