// Kerberos rows from the lab captures against tshark (fixtures/network-kerberos): the key type
// each AS-REQ pre-authenticated with, and the TGT each TGS-REQ presents, in capture order.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normaliseCapture, type TableRow } from '../src/index.ts';

const corpus = new URL('../../../../shared/corpus/testbed-samples/', import.meta.url);
const fixtures = new URL('../fixtures/network-kerberos/', import.meta.url);
const captures = { default: 'testbed-default.pcap', smb21: 'testbed-smb21-cleartext.pcap' } as const;
const missing = existsSync(new URL(captures.default, corpus))
  ? undefined
  : `lab captures not found at ${corpus.pathname}`;
if (missing) {
  if (process.env.CI) throw new Error(`Kerberos row test cannot run in CI: ${missing}`);
  console.log(`skipping Kerberos row test: ${missing}`);
}

const tsv = (name: string) =>
  readFileSync(new URL(name, fixtures), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
const extra = (r: TableRow) => r.values.AdditionalFields as Record<string, unknown>;
const hex = (n: string) => `0x${Number(n).toString(16)}`;

describe.skipIf(missing !== undefined).each(Object.entries(captures))(
  'Kerberos rows of the %s capture',
  (name, file) => {
    const { rows } = normaliseCapture(readFileSync(new URL(file, corpus)));
    const kerberos = rows.filter((r) => r.values.Protocol === 'Kerberos');

    it('give the pre-authentication key type of every AS-REQ that has one', () => {
      const expected = tsv(`${name}.preauth.tshark.tsv`).map(([, cname, etype]) => [
        cname,
        hex(etype as string),
      ]);
      expect(expected.length).toBeGreaterThan(10);
      const ours = kerberos
        .filter((r) => extra(r).PreAuthEncryptionType !== undefined)
        .map((r) => [r.values.AccountName, extra(r).PreAuthEncryptionType]);
      expect(ours).toEqual(expected);
    });

    it('give the TGT every TGS-REQ presents', () => {
      const expected = tsv(`${name}.tgs-req.tshark.tsv`).map(([, snames, etypes]) => {
        const [service, realm] = (snames as string).split(',');
        return [`${service}/${realm}`, hex((etypes as string).split(',')[0] as string)];
      });
      const ours = kerberos
        .filter((r) => extra(r).KerberosRequest === 'TGS')
        .map((r) => [extra(r).PresentedTicketService, extra(r).PresentedTicketEncryptionType]);
      expect(ours).toEqual(expected);
      // Each presented TGT is one the capture saw issued (an AS-REP's ticket).
      const issued = new Set(kerberos.map((r) => extra(r).TgtId).filter(Boolean));
      for (const r of kerberos.filter((k) => extra(k).KerberosRequest === 'TGS'))
        expect(issued.has(extra(r).PresentedTicketId)).toBe(true);
    });
  },
);

describe('Kerberos errors that are not logon outcomes', () => {
  // fixtures/network-kerberos-forged (README there): kinit over UDP gets PREAUTH_REQUIRED
  // (frame 2, error 25), then KRB_ERR_RESPONSE_TOO_BIG (frame 4, error 52) and repeats over TCP.
  const forged = new URL('../fixtures/network-kerberos-forged/', import.meta.url);
  const golden = readFileSync(new URL('forged.tshark.tsv', forged), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  const { rows } = normaliseCapture(readFileSync(new URL('forged.pcap', forged)));
  const errorFrames = (code: string) => golden.filter((r) => r[4] === code).map((r) => Number(r[0]));

  it('makes no row of a KDC asking the client to repeat over TCP, and keeps the other errors', () => {
    const frames = new Set(rows.map((r) => extra(r).Frame));
    expect(errorFrames('52')).toEqual([4]);
    for (const f of errorFrames('52')) expect(frames.has(f)).toBe(false);
    for (const f of [...errorFrames('25'), ...errorFrames('44')]) expect(frames.has(f)).toBe(true);
    const badKey = rows.find((r) => extra(r).Frame === errorFrames('44')[0]);
    expect(badKey?.values.FailureReason).toBe('KeyVersionNotAvailable');
  });
});
