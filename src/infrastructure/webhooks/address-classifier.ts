import { isIPv4, isIPv6 } from 'node:net';

/*
 * SSRF guard (README, "Webhooks"): which IP addresses a merchant's webhook URL may make us
 * connect to. Anything that is not plainly a public unicast address is refused: loopback,
 * private and shared (CGNAT) ranges, link-local (where the cloud metadata services live,
 * 169.254.169.254 and fd00:ec2::254), unique-local, multicast, reserved and documentation
 * ranges, and IPv6 forms that embed an IPv4 address (mapped, compatible, NAT64, 6to4) are
 * judged by the IPv4 address inside. Checked at registration and again on every connect,
 * after DNS resolution (safe-lookup.ts), so a name that later resolves elsewhere (DNS
 * rebinding) still cannot reach in.
 */

export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'shared'
  | 'link_local'
  | 'unique_local'
  | 'multicast'
  | 'reserved'
  | 'documentation'
  | 'not_an_ip';

type Range4 = readonly [base: number, bits: number, cls: AddressClass];

const v4 = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

// Order matters only for overlaps (none of these overlap).
const IPV4_RANGES: readonly Range4[] = [
  [v4(0, 0, 0, 0), 8, 'unspecified'],
  [v4(10, 0, 0, 0), 8, 'private'],
  [v4(100, 64, 0, 0), 10, 'shared'],
  [v4(127, 0, 0, 0), 8, 'loopback'],
  [v4(169, 254, 0, 0), 16, 'link_local'],
  [v4(172, 16, 0, 0), 12, 'private'],
  [v4(192, 0, 0, 0), 24, 'reserved'],
  [v4(192, 0, 2, 0), 24, 'documentation'],
  [v4(192, 88, 99, 0), 24, 'reserved'],
  [v4(192, 168, 0, 0), 16, 'private'],
  [v4(198, 18, 0, 0), 15, 'reserved'],
  [v4(198, 51, 100, 0), 24, 'documentation'],
  [v4(203, 0, 113, 0), 24, 'documentation'],
  [v4(224, 0, 0, 0), 4, 'multicast'],
  [v4(240, 0, 0, 0), 4, 'reserved'],
];

function inRange4(address: number, base: number, bits: number): boolean {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((address & mask) >>> 0) === base;
}

function classifyV4Number(address: number): AddressClass {
  for (const [base, bits, cls] of IPV4_RANGES) if (inRange4(address, base, bits)) return cls;
  return 'public';
}

function parseV4(text: string): number | undefined {
  if (!isIPv4(text)) return undefined;
  const parts = text.split('.').map(Number);
  return v4(parts[0] as number, parts[1] as number, parts[2] as number, parts[3] as number);
}

/** The 16 bytes of an IPv6 address (zone index dropped, dotted IPv4 tail allowed). */
function parseV6(text: string): number[] | undefined {
  const address = text.split('%')[0] as string;
  if (!isIPv6(address)) return undefined;
  let tail: number[] = [];
  let head = address;
  const lastColon = address.lastIndexOf(':');
  const maybeV4 = address.slice(lastColon + 1);
  if (maybeV4.includes('.')) {
    const n = parseV4(maybeV4);
    if (n === undefined) return undefined;
    tail = [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
    head = address.slice(0, lastColon + 1) + '0:0';
  }
  const [left, right, ...rest] = head.split('::');
  if (rest.length > 0 || left === undefined) return undefined;
  const l = left === '' ? [] : left.split(':');
  const r = right === undefined || right === '' ? [] : right.split(':');
  const fill = right === undefined ? 0 : 8 - l.length - r.length;
  const groups = [...l, ...Array<string>(Math.max(0, fill)).fill('0'), ...r].map((g) => parseInt(g, 16));
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return undefined;
  const bytes = groups.flatMap((g) => [g >> 8, g & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

const startsWith = (bytes: readonly number[], prefix: readonly number[], bits: number): boolean => {
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const bit = 7 - (i & 7);
    if ((((bytes[byte] as number) >> bit) & 1) !== (((prefix[byte] ?? 0) >> bit) & 1)) return false;
  }
  return true;
};

const v4Of = (b: readonly number[], at: number): number => v4(b[at] as number, b[at + 1] as number, b[at + 2] as number, b[at + 3] as number);

function classifyV6Bytes(b: readonly number[]): AddressClass {
  const zeros = (n: number): boolean => b.slice(0, n).every((x) => x === 0);
  if (zeros(16)) return 'unspecified';
  if (zeros(15) && b[15] === 1) return 'loopback';
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated): the IPv4 address decides.
  if (zeros(10) && b[10] === 0xff && b[11] === 0xff) return classifyV4Number(v4Of(b, 12));
  if (zeros(12)) return classifyV4Number(v4Of(b, 12));
  // 64:ff9b::/96 (NAT64): the IPv4 address inside; 64:ff9b:1::/48 (local NAT64) is private.
  if (startsWith(b, [0x00, 0x64, 0xff, 0x9b], 96)) return classifyV4Number(v4Of(b, 12));
  if (startsWith(b, [0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48)) return 'private';
  // 2002::/16 (6to4): the IPv4 address in bytes 2–5.
  if (startsWith(b, [0x20, 0x02], 16)) return classifyV4Number(v4Of(b, 2));
  // 2001::/32 (Teredo) tunnels to addresses we cannot judge; 2001:db8::/32 is documentation.
  if (startsWith(b, [0x20, 0x01, 0x00, 0x00], 32)) return 'reserved';
  if (startsWith(b, [0x20, 0x01, 0x0d, 0xb8], 32)) return 'documentation';
  if (startsWith(b, [0x01, 0x00], 64)) return 'reserved'; // 100::/64 discard
  if (startsWith(b, [0xfc], 7)) return 'unique_local'; // fc00::/7, incl. fd00::/8 (fd00:ec2::254)
  if (startsWith(b, [0xfe, 0x80], 10)) return 'link_local';
  if (startsWith(b, [0xfe, 0xc0], 10)) return 'private'; // deprecated site-local
  if (startsWith(b, [0xff], 8)) return 'multicast';
  // Global unicast is 2000::/3; everything else is unassigned.
  if (!startsWith(b, [0x20], 3)) return 'reserved';
  return 'public';
}

/** What kind of address `ip` (IPv4 or IPv6 text) is. */
export function classifyAddress(ip: string): AddressClass {
  const n = parseV4(ip);
  if (n !== undefined) return classifyV4Number(n);
  const bytes = parseV6(ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip);
  return bytes ? classifyV6Bytes(bytes) : 'not_an_ip';
}

export const isPublicAddress = (ip: string): boolean => classifyAddress(ip) === 'public';
