import { describe, expect, it } from 'vitest';
import { classifyAddress } from '../../src/infrastructure/webhooks/address-classifier.js';
import { literalHostProblem } from '../../src/infrastructure/webhooks/safe-lookup.js';

describe('the SSRF address classifier', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.255', 'shared'],
    ['100.100.100.200', 'shared'],
    ['169.254.169.254', 'link_local'],
    ['169.254.0.1', 'link_local'],
    ['192.0.0.192', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['192.0.2.10', 'documentation'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link_local'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'link_local'],
    ['64:ff9b::10.1.2.3', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:0a00:0001::1', 'private'],
    ['fd00::1', 'unique_local'],
    ['fd00:ec2::254', 'unique_local'],
    ['fc00::1', 'unique_local'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['febf::1', 'link_local'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'],
    ['100::1', 'reserved'],
    ['[::1]', 'loopback'],
  ])('%s is %s', (ip, expected) => {
    expect(classifyAddress(ip)).toBe(expected);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '169.255.0.1', '193.0.0.1', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '64:ff9b::808:808'])(
    '%s is public',
    (ip) => {
      expect(classifyAddress(ip)).toBe('public');
    },
  );

  it('names nothing else an address', () => {
    expect(classifyAddress('example.com')).toBe('not_an_ip');
    expect(classifyAddress('10.0.0.256')).toBe('not_an_ip');
    expect(classifyAddress('1::2::3')).toBe('not_an_ip');
  });

  it('refuses IP-literal hosts that are not public, unless private URLs are allowed', () => {
    expect(literalHostProblem('[::ffff:10.0.0.1]', false)).toMatch(/private/);
    expect(literalHostProblem('169.254.169.254', false)).toMatch(/link-local/);
    expect(literalHostProblem('127.0.0.1', true)).toBeUndefined();
    expect(literalHostProblem('8.8.8.8', false)).toBeUndefined();
    expect(literalHostProblem('hooks.example.com', false)).toBeUndefined();
  });
});
