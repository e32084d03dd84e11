// Kerberos encryption downgrades (2008 over-pass-the-hash, 2009 golden ticket) on a real capture:
// packages/schema/fixtures/network-kerberos-forged (a Samba 4.17 DC, MIT kinit and Impacket; see
// its README). Expected frames and key types come from tshark's reading of the capture
// (forged.tshark.tsv), not from Palisade's decoder. A row's frame is its exchange's answer.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { normaliseCapture } from '@palisade/schema';
import { describe, expect, it } from 'vitest';
import { compileRuleSet, type IdentityEngineConfig, identityDetectors, scanFiles } from '../src/index.ts';

const fixtures = new URL('../../schema/fixtures/network-kerberos-forged/', import.meta.url);
const pcap = fileURLToPath(new URL('forged.pcap', fixtures));

/** One Kerberos frame as tshark reads it (see the README for the command). */
interface TsharkFrame {
  readonly frame: number;
  readonly src: string;
  /** TCP stream index; empty for UDP. */
  readonly stream: string;
  readonly msgType: string;
  readonly errorCode: string;
  readonly cname: string;
  readonly snames: string[];
  /** Every `etype` in message order: in an AS-REQ with PA-ENC-TIMESTAMP, the timestamp's key;
   * in a TGS-REQ, the presented ticket's first; in an AS-REP, the ticket's then the reply's last. */
  readonly etypes: string[];
  readonly padata: string[];
}

const list = (s = '') => (s ? s.split(',') : []);
const golden: TsharkFrame[] = readFileSync(new URL('forged.tshark.tsv', fixtures), 'utf8')
  .trimEnd()
  .split('\n')
  .map((line) => {
    const [frame, src, stream, msgType, errorCode, cname, snames, etypes, padata] = line.split('\t');
    return {
      frame: Number(frame),
      src: src ?? '',
      stream: stream ?? '',
      // a TGS-REQ also lists the AP-REQ (14) inside it
      msgType: list(msgType)[0] ?? '',
      errorCode: errorCode ?? '',
      cname: cname ?? '',
      snames: list(snames),
      etypes: list(etypes),
      padata: list(padata),
    };
  });

/** The KDC's answer to a request: the next frame of the same TCP stream from the other side. */
function answer(request: TsharkFrame): TsharkFrame {
  const reply = golden.find(
    (f) => f.stream === request.stream && f.frame > request.frame && f.src !== request.src,
  );
  if (!request.stream || !reply)
    throw new Error(`no TCP answer to frame ${request.frame} in forged.tshark.tsv`);
  return reply;
}

const AS_REQ = '10';
const AS_REP = '11';
const TGS_REQ = '12';
const KRB_ERROR = '30';
const PA_ENC_TIMESTAMP = '2';
const [AES256, RC4] = ['18', '23'];

// AS-REQs pre-authenticating with a key of their own (PA-ENC-TIMESTAMP), and what they got.
const preAuthenticated = golden
  .filter((f) => f.msgType === AS_REQ && f.padata.includes(PA_ENC_TIMESTAMP) && f.stream)
  .map((request) => ({ request, reply: answer(request) }));
const aesLogon = preAuthenticated.find((x) => x.request.etypes[0] === AES256);
const rc4Logon = preAuthenticated.find((x) => x.request.etypes[0] === RC4);
// The TGS-REQ presenting an RC4 TGT, and the KDC's answer.
const forgedRequests = golden.filter(
  (f) => f.msgType === TGS_REQ && f.snames[0] === 'krbtgt' && f.etypes[0] === RC4,
);
const forged = forgedRequests[0];
const forgedReply = forged && answer(forged);

async function scan(config: IdentityEngineConfig) {
  const { alerts } = await scanFiles([pcap], compileRuleSet([], { name: 'none', entries: [] }), {
    identity: { detectors: identityDetectors, config },
  });
  return alerts;
}

describe('the forged-ticket capture, as tshark reads it', () => {
  it('holds alice with AES, then alice with RC4, then one TGS-REQ with an RC4 TGT the KDC refuses', () => {
    expect(aesLogon?.request.cname).toBe('alice');
    expect(aesLogon?.reply.msgType).toBe(AS_REP);
    expect(rc4Logon?.request.cname).toBe('alice');
    expect(rc4Logon?.reply.msgType).toBe(AS_REP);
    expect((aesLogon?.reply.frame ?? 0) < (rc4Logon?.request.frame ?? 0)).toBe(true);
    // Every TGT the KDC issued is AES256: an AS-REP's ticket comes just before its enc-part.
    const issued = golden.filter((f) => f.msgType === AS_REP).map((f) => f.etypes.at(-2));
    expect(issued).toEqual([AES256, AES256]);
    expect(forgedRequests).toHaveLength(1);
    expect(forged?.snames.slice(0, 2)).toEqual(['krbtgt', 'CORP.LAB.TEST']);
    // Samba's KDC keeps only krbtgt's strongest key, so it cannot even decrypt the RC4 TGT.
    expect([forgedReply?.msgType, forgedReply?.errorCode]).toEqual([KRB_ERROR, '44']); // KRB_AP_ERR_BADKEYVER
  });
});

describe('encryption downgrades (2008, 2009) on the forged-ticket capture', () => {
  it('raises exactly one over-pass-the-hash and one golden ticket alert, at the frames tshark shows', async () => {
    const alerts = await scan({ testMode: true });
    const realm = rc4Logon?.request.snames[1];
    expect(
      alerts.map((a) => [
        a.externalId,
        a.entities?.ips,
        a.entities?.accounts,
        a.targets,
        a.events[0]?.recordId,
        a.description,
      ]),
    ).toEqual([
      [
        2008,
        [rc4Logon?.request.src],
        [`${realm}\\${rc4Logon?.request.cname}`],
        { devices: ['10.97.0.10'] },
        rc4Logon?.reply.frame,
        '10.97.0.20 got a TGT for CORP.LAB.TEST\\alice pre-authenticating with RC4 (0x17), though CORP.LAB.TEST\\alice pre-authenticated with AES256 (0x12) before: an encryption downgrade as over-pass-the-hash forces',
      ],
      [
        2009,
        [forged?.src],
        // A refused TGS-REQ names its client only inside the encrypted ticket and authenticator.
        [],
        { accounts: ['cifs/dc1.corp.lab.test'] },
        forgedReply?.frame,
        '10.97.0.20 presented a TGT of CORP.LAB.TEST encrypted with RC4 (0x17), though the realm issues its TGTs with AES256 (0x12) and no exchange seen issued this one: a forged ticket',
      ],
    ]);
  });

  it('judges the refused TGS-REQ as a failed TGS row', () => {
    const { rows } = normaliseCapture(readFileSync(pcap));
    const row = rows.find((r) => r.values.ReportId === `net:${forgedReply?.frame}`);
    expect(row?.values).toMatchObject({
      ActionType: 'LogonFailed',
      AdditionalFields: {
        KerberosRequest: 'TGS',
        Status: `0x${Number(forgedReply?.errorCode).toString(16)}`,
        PresentedTicketService: 'krbtgt/CORP.LAB.TEST',
        PresentedTicketEncryptionType: `0x${Number(RC4).toString(16)}`,
      },
    });
  });

  it('stays silent at the High level while the detectors learn', async () => {
    expect(await scan({})).toEqual([]);
  });
});
