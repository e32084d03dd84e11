// The NDR readers of network-rpc.ts on 10,000 mutated request stubs: the real requests of the
// fixtures/network-rpc captures with bytes overwritten, NDR counts set to extremes, cut short or
// grown. No mutation may throw; every row still passes checkRow, and a stub that does not read
// to its end says why in StubProblem.
import { readdirSync, readFileSync } from 'node:fs';
import type { DcerpcCall } from '@palisade/protocols';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkRow } from '../src/index.ts';
import { rpcCallRows } from '../src/normalise/network-rpc.ts';
import { execCommands } from '../src/normalise/network-tsch.ts';
import { requestsOf } from './network-rpc-requests.ts';

const fixtures = new URL('../fixtures/network-rpc/', import.meta.url);

const where = {
  client: { ip: '10.0.0.66', port: 50000 },
  server: { ip: '10.0.0.5', port: 445 },
  timestampUs: 1_700_000_000_000_000,
  frame: 0,
};
const caller = { account: 'mallory', domain: 'CORP' };

/** The readable requests that make a row: the ones whose stubs the NDR readers read. */
const seeds = readdirSync(fixtures)
  .filter((f) => f.endsWith('.pcap'))
  .flatMap((f) => requestsOf(readFileSync(new URL(f, fixtures))))
  .filter((c) => !c.stubEncrypted && rpcCallRows(c, where, caller, '\\PIPE\\x').length > 0);

describe('10,000 mutated request stubs', () => {
  it('has real seeds of every interface that makes rows', () => {
    const interfaces = new Set(seeds.map((c) => c.interface?.name));
    expect([...interfaces].sort()).toEqual(
      expect.arrayContaining(['ATSVC', 'DFSNM', 'EFSRPC', 'ITaskSchedulerService', 'SRVSVC', 'SVCCTL']),
    );
  });

  it('never throw, and every row is valid', () => {
    const extreme = fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000);
    const mutated = fc
      .tuple(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 8 }),
        fc.array(fc.tuple(fc.nat(), extreme), { maxLength: 2 }),
        fc.oneof(fc.constant(-1), fc.nat()),
        fc.uint8Array({ maxLength: 16 }),
      )
      .map(([call, flips, counts, cut, tail]): DcerpcCall => {
        const stub = Uint8Array.from([...call.stub, ...tail]);
        const view = new DataView(stub.buffer);
        for (const [at, value] of flips) stub[at % stub.length] = value;
        // NDR counts and referent ids are aligned 32-bit words: set some to extremes.
        for (const [at, value] of counts) {
          const word = (at % Math.max(1, stub.length >> 2)) * 4;
          if (word + 4 <= stub.length) view.setUint32(word, value, true);
        }
        const cutStub = cut < 0 ? stub : stub.subarray(0, cut % (stub.length + 1));
        return { ...call, stub: cutStub, stubLength: cutStub.length };
      });
    let problems = 0;
    fc.assert(
      fc.property(mutated, (call) => {
        for (const row of rpcCallRows(call, where, caller, '\\PIPE\\x')) {
          expect(checkRow(row)).toEqual([]);
          if ((row.values.AdditionalFields as Record<string, unknown>).StubProblem) problems++;
        }
      }),
      { numRuns: 10_000, seed: 14 },
    );
    // Most mutations break the NDR somewhere: the problem is reported, not thrown.
    expect(problems).toBeGreaterThan(3000);
  }, 60_000);

  it('reads task definitions of any text without throwing', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.constantFrom('<Exec>', '</Exec>', '<Command>', '</Command>', '&#x110000;', '&#65;', '&lt;', 'a'),
          {
            maxLength: 40,
          },
        ),
        (parts) => {
          const out = execCommands(parts.join(''));
          expect(out === undefined || typeof out === 'string').toBe(true);
        },
      ),
      { numRuns: 1000, seed: 5 },
    );
  });
});
