// SAM-R queries from packets: the rows normaliseCapture makes from the lab's SAM-R enumeration
// against tshark's reading of the same frames, and SamrLookupNamesInDomain stubs built by hand
// from the NDR layout in MS-SAMR §3.1.5.11.2 and C706 §14.
import { existsSync, readFileSync } from 'node:fs';
import type { DcerpcCall } from '@palisade/protocols';
import { describe, expect, it } from 'vitest';
import { checkRow, normaliseCapture, QueryAction } from '../src/index.ts';
import { samrQuery } from '../src/normalise/network-samr.ts';

const corpus = new URL('../../../../shared/corpus/testbed-samples/', import.meta.url);
const absent = existsSync(corpus) ? undefined : `${corpus.pathname} is absent`;
if (absent) console.log(`skipping SAM-R capture comparison: ${absent}`);

// The MS-SAMR §3.1.5 calls that read the directory (enumerations, lookups, opens and queries of
// domains, users, groups and aliases); connects, closes and password-policy reads are not queries.
const QUERY_OPNUMS = new Set([
  5, 6, 7, 8, 11, 13, 15, 16, 17, 18, 19, 20, 25, 27, 28, 33, 34, 36, 39, 40, 46, 47, 48, 51,
]);

function tshark(name: string): string[] {
  const text = readFileSync(new URL(`../fixtures/network-samr/${name}`, import.meta.url), 'utf8');
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split('\t'))
    .filter(([, , opnum]) => QUERY_OPNUMS.has(Number(opnum)))
    .map(([frame, ip, opnum, rid]) => [frame, ip, opnum, rid ?? ''].join('\t'));
}

function ours(file: string): string[] {
  const { rows } = normaliseCapture(readFileSync(new URL(file, corpus)));
  return rows
    .filter((r) => r.values.ActionType === QueryAction.samr)
    .map((r) => {
      const extra = r.values.AdditionalFields as Record<string, unknown>;
      return [extra.Frame, r.values.IPAddress, extra.Opnum, extra.Rid ?? ''].join('\t');
    });
}

describe.skipIf(absent !== undefined)('SAM-R queries in the lab captures', () => {
  it('makes one row per SAM-R query request, with the frame, source, opnum and RID tshark reads', () => {
    const expected = tshark('default.samr.tshark.tsv');
    expect(expected.length).toBe(12);
    expect(ours('testbed-default.pcap')).toEqual(expected);
    const cleartext = tshark('smb21.samr.tshark.tsv');
    expect(cleartext.length).toBeGreaterThan(30);
    expect(ours('testbed-smb21-cleartext.pcap')).toEqual(cleartext);
  });

  it('names the caller from the SMB session, the target from well-known RIDs, and rows are valid', () => {
    const { rows } = normaliseCapture(readFileSync(new URL('testbed-default.pcap', corpus)));
    const samr = rows.filter((r) => r.values.ActionType === QueryAction.samr);
    for (const r of samr) {
      expect(checkRow(r)).toEqual([]);
      // samrdump ran as CORP\alice (the lab's samr_enum step).
      expect(r.values.AccountName).toBe('alice');
      expect(r.values.Protocol).toBe('Samr');
    }
    const targets = samr
      .filter((r) => r.values.QueryTarget)
      .map((r) => `${r.values.QueryType} ${r.values.QueryTarget}`);
    // tshark: OpenGroup rid 512 (Domain Admins), OpenUser rid 500 (Administrator), MS-DTYP §2.4.2.4.
    expect(targets).toEqual(['QueryGroup Domain Admins', 'QueryUser Administrator']);
    expect(samr.map((r) => r.values.QueryType)).toContain('EnumerateUsers');
    expect(samr.map((r) => r.values.QueryType)).toContain('EnumerateGroups');
  });
});

/** An NDR SamrLookupNamesInDomain request stub for these names. */
function lookupNamesStub(
  names: readonly string[],
  opts: { actual?: number; truncate?: number } = {},
): Uint8Array {
  const bytes: number[] = [];
  const u32 = (v: number) => bytes.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  for (let i = 0; i < 20; i++) bytes.push(i === 0 ? 0 : 0xaa); // domain handle
  u32(names.length); // Count
  u32(1000); // maximum count
  u32(0); // offset
  u32(opts.actual ?? names.length); // actual count
  names.forEach((n, i) => {
    const length = n.length * 2;
    bytes.push(length & 0xff, length >> 8, length & 0xff, length >> 8);
    u32(0x20000 + i * 4); // referent id
  });
  for (const n of names) {
    u32(n.length);
    u32(0);
    u32(n.length);
    for (const ch of n) bytes.push(ch.charCodeAt(0) & 0xff, ch.charCodeAt(0) >> 8);
    while (bytes.length % 4) bytes.push(0);
  }
  return Uint8Array.from(bytes.slice(0, opts.truncate ?? bytes.length));
}

function call(opnum: number, stub: Uint8Array): DcerpcCall {
  return {
    type: 'request',
    callId: 1,
    contextId: 0,
    opnum,
    stub,
    stubLength: stub.length,
    stubEncrypted: false,
    fragments: 1,
  };
}

describe('samrQuery', () => {
  it('reads the names of SamrLookupNamesInDomain', () => {
    const q = samrQuery(call(17, lookupNamesStub(['Domain Admins', 'krbtgt', 'émile'])));
    expect(q).toMatchObject({ queryType: 'LookupNames', names: ['Domain Admins', 'krbtgt', 'émile'] });
    expect(q?.target).toBe('Domain Admins, krbtgt, émile');
  });

  it('keeps the query but no names when the stub is short, inconsistent or sealed', () => {
    const full = lookupNamesStub(['Domain Admins']);
    for (const stub of [full.subarray(0, 30), lookupNamesStub(['a'], { actual: 2 }), new Uint8Array(0)])
      expect(samrQuery(call(17, stub))).toEqual({ queryType: 'LookupNames', method: 'SAM-R opnum 17' });
    expect(samrQuery({ ...call(17, full), stubEncrypted: true })?.names).toBeUndefined();
    // Truncated inside the second name's characters: the first name is still read.
    const two = lookupNamesStub(['alice', 'Domain Admins']);
    expect(samrQuery(call(17, two.subarray(0, two.length - 8)))?.names).toEqual(['alice']);
  });

  it('names opens by well-known RID, per domain or BUILTIN, and others by number', () => {
    const open = (opnum: number, rid: number) => {
      const stub = new Uint8Array(28);
      new DataView(stub.buffer).setUint32(24, rid, true);
      return samrQuery(call(opnum, stub))?.target;
    };
    expect(open(19, 512)).toBe('Domain Admins');
    expect(open(19, 519)).toBe('Enterprise Admins');
    expect(open(27, 544)).toBe('Administrators');
    expect(open(34, 502)).toBe('krbtgt');
    expect(open(34, 1105)).toBe('RID 1105');
    expect(open(27, 512)).toBe('RID 512');
  });

  it('ignores calls that are not queries, and responses', () => {
    expect(samrQuery(call(1, new Uint8Array(20)))).toBeUndefined(); // SamrCloseHandle
    expect(samrQuery(call(64, new Uint8Array(40)))).toBeUndefined(); // SamrConnect5
    expect(samrQuery({ ...call(13, new Uint8Array(40)), type: 'response' })).toBeUndefined();
  });
});
