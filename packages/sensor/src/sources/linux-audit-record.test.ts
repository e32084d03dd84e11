import { describe, expect, it } from 'vitest';
import { decodeSockaddr, decodeText, formatIpv6, parseAuditLine } from './linux-audit-record.ts';

describe('parseAuditLine', () => {
  it('reads header, fields and the ENRICHED names after the group separator', () => {
    const r = parseAuditLine(
      'node=web-01 type=SYSCALL msg=audit(1700000000.123:456): arch=c000003e syscall=59 comm="ls" key=(null)\x1dARCH=x86_64 SYSCALL=execve UID="root"',
    );
    expect(r.ok && r.record).toMatchObject({
      node: 'web-01',
      type: 'SYSCALL',
      seconds: 1700000000,
      millis: 123,
      serial: 456,
    });
    if (!r.ok) return;
    expect([...r.record.fields]).toEqual([
      ['arch', 'c000003e'],
      ['syscall', '59'],
      ['comm', '"ls"'],
      ['key', '(null)'],
    ]);
    expect([...r.record.enriched]).toEqual([
      ['ARCH', 'x86_64'],
      ['SYSCALL', 'execve'],
      ['UID', 'root'],
    ]);
  });

  it("takes the fields of a user-space record's nested msg='…'", () => {
    const r = parseAuditLine(
      `type=USER_LOGIN msg=audit(1700000000.000:9): pid=1 uid=0 msg='op=login acct="root" exe="/usr/sbin/sshd" res=failed'`,
    );
    expect(r.ok && Object.fromEntries(r.record.fields)).toEqual({
      pid: '1',
      uid: '0',
      op: 'login',
      acct: '"root"',
      exe: '"/usr/sbin/sshd"',
      res: 'failed',
    });
  });

  it('says what it expected when the header is not there', () => {
    expect(parseAuditLine('type=SYSCALL msg=audit(1700000000:1): x=1')).toEqual({
      ok: false,
      expected: 'type=TYPE msg=audit(SECONDS.MILLIS:SERIAL):',
      found: '"type=SYSCALL msg=audit(1700000000:1): x=1"',
    });
  });
});

describe('decodeText', () => {
  it('reads quoted, hexadecimal and absent values', () => {
    expect(decodeText('"/usr/bin/ls"')).toBe('/usr/bin/ls');
    expect(decodeText('6E6F7465732066696C652E747874')).toBe('notes file.txt');
    expect(decodeText('(null)')).toBeUndefined();
    expect(decodeText('not-hex')).toBeUndefined();
  });
});

describe('decodeSockaddr', () => {
  it('reads inet, inet6, IPv4-mapped, local and abstract addresses', () => {
    expect(decodeSockaddr('0200223D7F0000010000000000000000')).toEqual({
      family: 'inet',
      address: '127.0.0.1',
      port: 8765,
    });
    expect(decodeSockaddr('0A00D46200000000000000000000000000000000000000010000000000000000')).toEqual({
      family: 'inet6',
      address: '::1',
      port: 54370,
    });
    expect(decodeSockaddr('0A00D4620000000000000000000000000000FFFF7F00000100000000')).toEqual({
      family: 'inet6',
      address: '::ffff:127.0.0.1',
      port: 54370,
    });
    expect(decodeSockaddr(`0100${Buffer.from('/run/x.sock\0').toString('hex')}`)).toEqual({
      family: 'local',
      path: '/run/x.sock',
    });
    expect(decodeSockaddr(`010000${Buffer.from('abstract').toString('hex')}`)).toEqual({
      family: 'local',
      path: '@abstract',
    });
    expect(decodeSockaddr('10000000')).toEqual({ family: 'other', number: 16 });
    expect(decodeSockaddr('0200')).toBeUndefined();
  });
});

describe('formatIpv6', () => {
  const v6 = (hex: string) => formatIpv6(Uint8Array.from(Buffer.from(hex, 'hex')));
  it('writes the RFC 5952 form', () => {
    expect(v6('20010db8000000000000000000000005')).toBe('2001:db8::5');
    expect(v6('20010db8000000010000000000000001')).toBe('2001:db8:0:1::1');
    expect(v6('20010db8000100000001000000000000')).toBe('2001:db8:1:0:1::');
    expect(v6('fe800000000000000000000000000001')).toBe('fe80::1');
    expect(v6('00000000000000000000000000000000')).toBe('::');
    expect(v6('20010db8aaaabbbbccccddddeeeeffff')).toBe('2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff');
  });
});
