// The address type MDE writes in LocalIPType/RemoteIPType (and in DeviceNetworkInfo's address
// list): Public, Private, Reserved, Loopback, Teredo, FourToSixMapping or Broadcast. Ranges: the
// IANA special-purpose address registries (RFC 6890 and its updates). Link-local, multicast,
// shared (CGN), documentation and unspecified addresses count as Reserved.
import { isIPv4, isIPv6 } from 'node:net';

export const ipTypes = [
  'Public',
  'Private',
  'Reserved',
  'Loopback',
  'Teredo',
  'FourToSixMapping',
  'Broadcast',
] as const;
export type IpType = (typeof ipTypes)[number];

/** IPv4 ranges in order of precedence: [first octets as a prefix, prefix length, type]. */
const ipv4Ranges: readonly (readonly [string, number, IpType])[] = [
  ['255.255.255.255', 32, 'Broadcast'],
  ['127.0.0.0', 8, 'Loopback'],
  ['10.0.0.0', 8, 'Private'],
  ['172.16.0.0', 12, 'Private'],
  ['192.168.0.0', 16, 'Private'],
  ['0.0.0.0', 8, 'Reserved'],
  ['100.64.0.0', 10, 'Reserved'],
  ['169.254.0.0', 16, 'Reserved'],
  ['192.0.0.0', 24, 'Reserved'],
  ['192.0.2.0', 24, 'Reserved'],
  ['198.18.0.0', 15, 'Reserved'],
  ['198.51.100.0', 24, 'Reserved'],
  ['203.0.113.0', 24, 'Reserved'],
  ['224.0.0.0', 3, 'Reserved'],
];

/** IPv6 ranges: [prefix as 8 groups, prefix length, type]. */
const ipv6Ranges: readonly (readonly [string, number, IpType])[] = [
  ['::1', 128, 'Loopback'],
  ['::', 128, 'Reserved'],
  ['::ffff:0:0', 96, 'FourToSixMapping'],
  ['2001::', 32, 'Teredo'],
  ['fc00::', 7, 'Private'],
  ['fe80::', 10, 'Reserved'],
  ['ff00::', 8, 'Reserved'],
  ['2001:db8::', 32, 'Reserved'],
];

/**
 * The MDE address type of an IPv4 or IPv6 address in text form; undefined when it is neither.
 *
 * @example
 * ipType('192.168.1.10') // 'Private'
 */
export function ipType(address: string): IpType | undefined {
  if (isIPv4(address)) {
    const n = ipv4Number(address);
    for (const [prefix, length, type] of ipv4Ranges) {
      const mask = length === 0 ? 0 : (~0 << (32 - length)) >>> 0;
      if ((n & mask) >>> 0 === (ipv4Number(prefix) & mask) >>> 0) return type;
    }
    return 'Public';
  }
  const bare = address.replace(/%.*$/, '');
  if (isIPv6(bare)) {
    const bits = ipv6Bits(bare);
    for (const [prefix, length, type] of ipv6Ranges) {
      if (bits.slice(0, length) === ipv6Bits(prefix).slice(0, length)) return type;
    }
    return 'Public';
  }
  return undefined;
}

function ipv4Number(address: string): number {
  return address.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
}

/** The 128 bits of an IPv6 address as a string of 0 and 1 (a trailing dotted IPv4 part allowed). */
function ipv6Bits(address: string): string {
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const n = ipv4Number(dotted[1] as string);
    text = `${text.slice(0, dotted.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.map((g) => Number.parseInt(g, 16).toString(2).padStart(16, '0')).join('');
}
