import { describe, expect, it } from 'vitest';
import { ipType } from './linux-ip-type.ts';

describe('ipType', () => {
  it.each([
    ['127.0.0.1', 'Loopback'],
    ['10.1.2.3', 'Private'],
    ['172.31.255.1', 'Private'],
    ['172.32.0.1', 'Public'],
    ['192.168.0.10', 'Private'],
    ['169.254.10.1', 'Reserved'],
    ['100.64.0.1', 'Reserved'],
    ['192.0.2.10', 'Reserved'],
    ['224.0.0.251', 'Reserved'],
    ['255.255.255.255', 'Broadcast'],
    ['0.0.0.0', 'Reserved'],
    ['142.250.74.46', 'Public'],
    ['::1', 'Loopback'],
    ['::', 'Reserved'],
    ['::ffff:127.0.0.1', 'FourToSixMapping'],
    ['2001:0:4136:e378::1', 'Teredo'],
    ['fd00::1', 'Private'],
    ['fe80::1%eth0', 'Reserved'],
    ['ff02::1', 'Reserved'],
    ['2001:db8::5', 'Reserved'],
    ['2a00:1450:4001::200e', 'Public'],
  ])('%s is %s', (address, type) => {
    expect(ipType(address)).toBe(type);
  });

  it('is undefined for text that is no address', () => {
    expect(ipType('example.test')).toBeUndefined();
  });
});
