// SID and GUID decoding against the layouts of MS-DTYP and against a pair the Samba DC itself
// wrote: objectSid/objectGUID as bytes and, through the extended-DN control, as its own strings.
import { describe, expect, it } from 'vitest';
import {
  decodeGuid,
  decodeSid,
  dnsDomainOfDn,
  escapeFilterValue,
  guidFilterValue,
  parseGeneralizedTime,
  sidRid,
} from './directory-identifiers.ts';

// From the lab DC: ldapsearch of CN=carol gave these attributes, and the same search with the
// extended-DN control (1.2.840.113556.1.4.529, format 1) gave
// <GUID=f3fc8a4e-cdc9-4bd3-a05b-76a76dc7736a>;<SID=S-1-5-21-566424915-1317831298-2842514883-1106>.
const labSid = Buffer.from('AQUAAAAAAAUVAAAAU/XCIYKCjE7DVW2pUgQAAA==', 'base64');
const labGuid = Buffer.from('Tor888nN00ugW3anbcdzag==', 'base64');

describe('decodeSid', () => {
  it('reads the MS-DTYP §2.4.2.2 layout', () => {
    // BUILTIN\Administrators, S-1-5-32-544: revision 1, two sub-authorities, authority 5
    const bytes = Uint8Array.from([1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0, 0x20, 0x02, 0, 0]);
    expect(decodeSid(bytes)).toBe('S-1-5-32-544');
    // Everyone, S-1-1-0
    expect(decodeSid(Uint8Array.from([1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]))).toBe('S-1-1-0');
  });

  it('matches what the DC says', () => {
    expect(decodeSid(labSid)).toBe('S-1-5-21-566424915-1317831298-2842514883-1106');
  });

  it('writes large authorities in hexadecimal (MS-DTYP §2.4.2.1)', () => {
    expect(decodeSid(Uint8Array.from([1, 0, 0x01, 0, 0, 0, 0, 0]))).toBe('S-1-0x10000000000');
  });

  it('refuses bytes that are not a SID', () => {
    expect(decodeSid(Uint8Array.from([1, 2, 0, 0, 0, 0, 0, 5, 32, 0, 0, 0]))).toBeUndefined();
    expect(decodeSid(Uint8Array.from([2, 0, 0, 0, 0, 0, 0, 5]))).toBeUndefined();
    expect(decodeSid(new Uint8Array(3))).toBeUndefined();
  });

  it('finds the RID', () => {
    expect(sidRid('S-1-5-21-566424915-1317831298-2842514883-512')).toBe(512);
    expect(sidRid('S-1-5-32-544')).toBe(544);
    expect(sidRid('S-1-1-0')).toBeUndefined();
  });
});

describe('decodeGuid', () => {
  it('matches what the DC says, and goes back to wire order for filters', () => {
    expect(decodeGuid(labGuid)).toBe('f3fc8a4e-cdc9-4bd3-a05b-76a76dc7736a');
    expect(guidFilterValue('f3fc8a4e-cdc9-4bd3-a05b-76a76dc7736a')).toBe(
      Array.from(labGuid, (b) => `\\${b.toString(16).padStart(2, '0')}`).join(''),
    );
    expect(decodeGuid(new Uint8Array(15))).toBeUndefined();
  });
});

describe('text forms', () => {
  it('reads GeneralizedTime as the directory writes it', () => {
    expect(parseGeneralizedTime('20261122040331.0Z')).toBe('2026-11-22T04:03:31.000Z');
    expect(parseGeneralizedTime('19941216103200Z')).toBe('1994-12-16T10:32:00.000Z');
    expect(parseGeneralizedTime('yesterday')).toBeUndefined();
  });

  it('names the DNS domain of a naming context and escapes filter values', () => {
    expect(dnsDomainOfDn('DC=corp,DC=lab,DC=test')).toBe('corp.lab.test');
    expect(dnsDomainOfDn('CN=x,OU=y,DC=Corp, DC=Example')).toBe('corp.example');
    expect(escapeFilterValue('a*(b)\\')).toBe('a\\2a\\28b\\29\\5c');
  });
});
