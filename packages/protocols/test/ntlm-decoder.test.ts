// NTLM decoder: the messages printed in MS-NLMP §4.2 (NTLMv1, NTLMv1 with extended session
// security, NTLMv2), every NTLMSSP message of the lab capture against tshark (SMB2 security blobs,
// LDAP binds, DCE/RPC auth trailers, found with findNtlmssp), and 10,000 mutated messages.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeNtlmMessage, findNtlmssp, type NtlmMessage, ntlmFlagNames } from '../src/ntlm-decoder.ts';
import { hex, tsvRows } from './test-bytes.ts';

const fixtures = join(import.meta.dirname, '../fixtures/testbed-default');

const rows = (name: string) => tsvRows(fixtures, name);

// MS-NLMP §4.2.2.3, §4.2.3.3 and §4.2.4.3: user "User", domain "Domain", workstation "COMPUTER",
// server "Server", server challenge 0123456789abcdef, client challenge aaaaaaaaaaaaaaaa.
const spec = {
  challengeV1: hex(`
    4e544c4d53535000020000000c000c003800000033820a820123456789abcdef00000000000000000000000000000000
    060070170000000f530065007200760065007200`),
  authenticateV1: hex(`
    4e544c4d5353500003000000180018006c00000018001800840000000c000c00480000000800080054000000100010005c
    000000100010009c000000358280e20501280a0000000f44006f006d00610069006e00550073006500720043004f004d00
    50005500540045005200 98def7b87f88aa5dafe2df779688a172def11c7d5ccdef13 67c43011f30298a2ad35ece64f16331c
    44bdbed927841f94 518822b1b3f350c8958682ecbb3e3cb7`),
  authenticateEss: hex(`
    4e544c4d5353500003000000180018006c00000018001800840000000c000c00480000000800080054000000100010005c
    000000000000009c000000358208820501280a0000000f44006f006d00610069006e00550073006500720043004f004d00
    50005500540045005200aaaaaaaaaaaaaaaa00000000000000000000000000000000 7537f803ae367128ca458204bde7caf8
    1e97ed2683267232`),
  challengeV2: hex(`
    4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400240044000000
    060070170000000f53006500720076006500720002000c0044006f006d00610069006e0001000c00530065007200760065
    00720000000000`),
  authenticateV2: hex(`
    4e544c4d5353500003000000180018006c00000054005400840000000c000c00480000000800080054000000100010005c
    00000010001000d8000000358288e20501280a0000000f44006f006d00610069006e00550073006500720043004f004d00
    5000550054004500520086c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa68cd0ab851e51c96aabc927bebef6a
    1c01010000000000000000000000000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e0001000c00
    5300650072007600650072000000000000000000c5dad2544fc9799094ce1ce90bc9d03e`),
};

const windowsXp = {
  productMajorVersion: 5,
  productMinorVersion: 1,
  productBuild: 2600,
  ntlmRevisionCurrent: 15,
};
const windowsVista = {
  productMajorVersion: 6,
  productMinorVersion: 0,
  productBuild: 6000,
  ntlmRevisionCurrent: 15,
};

describe('the MS-NLMP §4.2 examples', () => {
  it('§4.2.2.3 CHALLENGE_MESSAGE: target name, server challenge, version, no target info', () => {
    expect(decodeNtlmMessage(spec.challengeV1)).toEqual({
      value: {
        kind: 'challenge',
        messageType: 2,
        negotiateFlags: 0x820a8233,
        flagNames: [
          'NTLMSSP_NEGOTIATE_UNICODE',
          'NTLM_NEGOTIATE_OEM',
          'NTLMSSP_NEGOTIATE_SIGN',
          'NTLMSSP_NEGOTIATE_SEAL',
          'NTLMSSP_NEGOTIATE_NTLM',
          'NTLMSSP_NEGOTIATE_ALWAYS_SIGN',
          'NTLMSSP_TARGET_TYPE_SERVER',
          'NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY',
          'NTLMSSP_NEGOTIATE_VERSION',
          'NTLMSSP_NEGOTIATE_56',
        ],
        version: windowsVista,
        size: 0x44,
        targetName: 'Server',
        serverChallenge: '0123456789abcdef',
      },
      diagnostics: [],
    });
  });

  it('§4.2.2.3 AUTHENTICATE_MESSAGE: a 24-byte NT response is NTLMv1', () => {
    expect(decodeNtlmMessage(spec.authenticateV1)).toEqual({
      value: {
        kind: 'authenticate',
        messageType: 3,
        negotiateFlags: 0xe2808235,
        flagNames: [
          'NTLMSSP_NEGOTIATE_UNICODE',
          'NTLMSSP_REQUEST_TARGET',
          'NTLMSSP_NEGOTIATE_SIGN',
          'NTLMSSP_NEGOTIATE_SEAL',
          'NTLMSSP_NEGOTIATE_NTLM',
          'NTLMSSP_NEGOTIATE_ALWAYS_SIGN',
          'NTLMSSP_NEGOTIATE_TARGET_INFO',
          'NTLMSSP_NEGOTIATE_VERSION',
          'NTLMSSP_NEGOTIATE_128',
          'NTLMSSP_NEGOTIATE_KEY_EXCH',
          'NTLMSSP_NEGOTIATE_56',
        ],
        version: windowsXp,
        size: 0xac,
        domainName: 'Domain',
        userName: 'User',
        workstation: 'COMPUTER',
        lmChallengeResponseLength: 24,
        ntChallengeResponseLength: 24,
        encryptedRandomSessionKeyLength: 16,
        responseKind: 'v1',
        extendedSessionSecurity: false,
        sign: true,
        seal: true,
        anonymous: false,
        hasMic: false,
      },
      diagnostics: [],
    });
  });

  it('§4.2.3.3 AUTHENTICATE_MESSAGE: NTLMv1 with extended session security, no session key', () => {
    expect(decodeNtlmMessage(spec.authenticateEss).value).toMatchObject({
      negotiateFlags: 0x82088235,
      lmChallengeResponseLength: 24,
      ntChallengeResponseLength: 24,
      encryptedRandomSessionKeyLength: 0,
      responseKind: 'v1',
      extendedSessionSecurity: true,
    });
  });

  it('§4.2.4.3 CHALLENGE_MESSAGE: target info with the NetBIOS domain and server names', () => {
    expect(decodeNtlmMessage(spec.challengeV2)).toEqual({
      value: {
        kind: 'challenge',
        messageType: 2,
        negotiateFlags: 0xe28a8233,
        // The challenge flags §4.2.4 lists, in bit order.
        flagNames: [
          'NTLMSSP_NEGOTIATE_UNICODE',
          'NTLM_NEGOTIATE_OEM',
          'NTLMSSP_NEGOTIATE_SIGN',
          'NTLMSSP_NEGOTIATE_SEAL',
          'NTLMSSP_NEGOTIATE_NTLM',
          'NTLMSSP_NEGOTIATE_ALWAYS_SIGN',
          'NTLMSSP_TARGET_TYPE_SERVER',
          'NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY',
          'NTLMSSP_NEGOTIATE_TARGET_INFO',
          'NTLMSSP_NEGOTIATE_VERSION',
          'NTLMSSP_NEGOTIATE_128',
          'NTLMSSP_NEGOTIATE_KEY_EXCH',
          'NTLMSSP_NEGOTIATE_56',
        ],
        version: windowsVista,
        size: 0x68,
        targetName: 'Server',
        serverChallenge: '0123456789abcdef',
        targetInfo: { avIds: [2, 1], nbDomainName: 'Domain', nbComputerName: 'Server' },
      },
      diagnostics: [],
    });
  });

  it('§4.2.4.3 AUTHENTICATE_MESSAGE: NTLMv2 with the AV pairs inside the client challenge', () => {
    expect(decodeNtlmMessage(spec.authenticateV2)).toEqual({
      value: {
        kind: 'authenticate',
        messageType: 3,
        negotiateFlags: 0xe2888235,
        flagNames: [
          'NTLMSSP_NEGOTIATE_UNICODE',
          'NTLMSSP_REQUEST_TARGET',
          'NTLMSSP_NEGOTIATE_SIGN',
          'NTLMSSP_NEGOTIATE_SEAL',
          'NTLMSSP_NEGOTIATE_NTLM',
          'NTLMSSP_NEGOTIATE_ALWAYS_SIGN',
          'NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY',
          'NTLMSSP_NEGOTIATE_TARGET_INFO',
          'NTLMSSP_NEGOTIATE_VERSION',
          'NTLMSSP_NEGOTIATE_128',
          'NTLMSSP_NEGOTIATE_KEY_EXCH',
          'NTLMSSP_NEGOTIATE_56',
        ],
        version: windowsXp,
        size: 0xe8,
        domainName: 'Domain',
        userName: 'User',
        workstation: 'COMPUTER',
        lmChallengeResponseLength: 24,
        ntChallengeResponseLength: 84,
        encryptedRandomSessionKeyLength: 16,
        responseKind: 'v2',
        extendedSessionSecurity: true,
        sign: true,
        seal: true,
        anonymous: false,
        hasMic: false,
        clientChallenge: {
          timestamp: '1601-01-01T00:00:00.0000000Z',
          avPairs: { avIds: [2, 1], nbDomainName: 'Domain', nbComputerName: 'Server' },
        },
      },
      diagnostics: [],
    });
  });

  it('finds a message after other bytes and reports where it failed in the outer data', () => {
    const wrapped = new Uint8Array(20 + spec.challengeV2.length);
    wrapped.set(spec.challengeV2, 20);
    expect(findNtlmssp(wrapped)).toMatchObject({
      offset: 20,
      value: { kind: 'challenge', targetName: 'Server' },
    });
    expect(findNtlmssp(spec.challengeV2.subarray(1))).toBeUndefined();
    // AUTHENTICATE cut inside its payload: the user name points past the end.
    expect(findNtlmssp(Uint8Array.of(0xff, ...spec.authenticateV2.subarray(0, 0x50)), 0x1000)).toEqual({
      offset: 1,
      diagnostics: [
        {
          severity: 'error',
          code: 'ntlm/truncated',
          message: 'LmChallengeResponse: expected 24 bytes, found 0 left of 80 at 0x106d',
          offset: 0x106d,
        },
      ],
    });
    expect(decodeNtlmMessage(hex('4e544c4d5353500004000000'))).toEqual({
      diagnostics: [
        {
          severity: 'error',
          code: 'ntlm/unsupported-message',
          message: 'MessageType: expected NEGOTIATE (1), CHALLENGE (2) or AUTHENTICATE (3), found 0x4 at 0x8',
          offset: 8,
        },
      ],
    });
  });

  it('names unknown flag bits in hex', () => {
    expect(ntlmFlagNames(0x00000109)).toEqual(['NTLMSSP_NEGOTIATE_UNICODE', '0x00000008', '0x00000100']);
  });
});

// ---------------------------------------------------------------------------------------------
// The lab capture against tshark 4.0.17 (commands in the fixture README):
//   tshark -r testbed-default.pcap -Y ntlmssp -T fields -E aggregator=, -e frame.number -e tcp.dstport
//     -e ntlmssp.messagetype -e ntlmssp.negotiateflags -e ntlmssp.challenge.target_name
//     -e ntlmssp.challenge.target_info.nb_domain_name -e …nb_computer_name -e …dns_domain_name
//     -e …dns_computer_name -e ntlmssp.auth.domain -e ntlmssp.auth.username -e ntlmssp.auth.hostname
//     -e ntlmssp.auth.ntresponse (as its length) -e ntlmssp.ntlmv2_response.flags
//     -e ntlmssp.ntlmv2_response.target_name -e ntlmssp.authenticate.mic (as its length)
//     -e ntlmssp.version.major -e ntlmssp.version.minor -e ntlmssp.version.build_number
// SMB2 frames give their security blob (-e smb2.security_blob); LDAP and DCE/RPC frames their TCP
// payload. Each goes through findNtlmssp.

function tsharkColumns(m: NtlmMessage): string[] {
  // tshark writes an empty AUTHENTICATE name as NULL.
  const name = (s: string) => (s === '' ? 'NULL' : s);
  const info = m.kind === 'challenge' ? m.targetInfo : undefined;
  const auth = m.kind === 'authenticate' ? m : undefined;
  const v2 = auth?.clientChallenge?.avPairs;
  return [
    `0x${m.messageType.toString(16).padStart(8, '0')}`,
    `0x${m.negotiateFlags.toString(16).padStart(8, '0')}`,
    m.kind === 'challenge' ? (m.targetName ?? '') : '',
    info?.nbDomainName ?? '',
    info?.nbComputerName ?? '',
    info?.dnsDomainName ?? '',
    info?.dnsComputerName ?? '',
    auth ? name(auth.domainName) : '',
    auth ? name(auth.userName) : '',
    auth ? name(auth.workstation) : '',
    `${auth?.ntChallengeResponseLength ?? 0}`,
    v2?.flags === undefined ? '' : `0x${v2.flags.toString(16).padStart(8, '0')}`,
    v2?.targetName ?? '',
    auth?.hasMic ? '16' : '0',
    `${m.version?.productMajorVersion ?? ''}`,
    `${m.version?.productMinorVersion ?? ''}`,
    `${m.version?.productBuild ?? ''}`,
  ];
}

/** Every NTLMSSP message of the capture by frame, from SMB2 blobs and non-SMB TCP payloads. */
function decodeCapture(): Map<number, ReturnType<typeof findNtlmssp>> {
  const found = new Map<number, ReturnType<typeof findNtlmssp>>();
  for (const [frame, , blob] of rows('smb2-security-blobs.tsv')) {
    const result = findNtlmssp(hex(blob ?? ''));
    if (result) found.set(Number(frame), result);
  }
  for (const [frame, , src, dst, payload] of rows('tcp-payloads.tsv')) {
    if (src === '88' || dst === '88') continue;
    const result = findNtlmssp(hex(payload ?? ''));
    if (result) found.set(Number(frame), result);
  }
  return new Map([...found].sort((a, b) => a[0] - b[0]));
}

describe('the lab capture against tshark', () => {
  const found = decodeCapture();
  const expected = rows('ntlmssp.tshark.tsv');

  it('finds an NTLMSSP message in exactly the frames tshark does, without a diagnostic', () => {
    expect([...found.keys()]).toEqual(expected.map((r) => Number(r[0])));
    expect([...found.values()].flatMap((r) => r?.diagnostics ?? [])).toEqual([]);
  });

  // tshark 4.0 gives an empty NT response the 8 bytes of its Len/MaxLen/BufferOffset fields as its
  // value (frame 860, the anonymous session: "NTLM Response: Empty"); the response is 0 bytes.
  const tsharkQuirks: Record<string, Record<string, string>> = { '860': { 10: '0' } };

  it.each(expected.map((r) => [r[0], r] as const))('frame %s matches tshark field by field', (frame, row) => {
    const message = found.get(Number(frame))?.value;
    if (!message) throw new Error(`no message in frame ${frame}`);
    const want = row.slice(2);
    for (const [column, value] of Object.entries(tsharkQuirks[frame ?? ''] ?? {}))
      want[Number(column)] = value;
    expect(tsharkColumns(message)).toEqual(want);
  });

  it('decodes the whole capture to the golden output', async () => {
    const text = [...found].map(([frame, r]) => JSON.stringify({ frame, message: r?.value })).join('\n');
    await expect(`${text}\n`).toMatchFileSnapshot(join(fixtures, 'goldens/ntlm-decoded.jsonl'));
  });

  it('tells the password spray, the anonymous session and NTLMv2 apart', () => {
    const auths = [...found.values()].flatMap((r) => (r?.value?.kind === 'authenticate' ? [r.value] : []));
    const count = (pick: (m: (typeof auths)[number]) => string) => {
      const out: Record<string, number> = {};
      for (const m of auths) out[pick(m)] = (out[pick(m)] ?? 0) + 1;
      return out;
    };
    // The counts of summary-default.txt beside the capture: 34 AUTHENTICATE messages, one anonymous.
    expect(count((m) => m.responseKind)).toEqual({ v2: 33, anonymous: 1 });
    expect(count((m) => `${m.domainName}\\${m.userName}`)).toEqual({
      'CORP\\administrator': 14,
      'CORP\\alice': 1,
      'CORP.LAB.TEST\\alice': 1,
      '\\': 1,
      'CORP\\bob': 11,
      'CORP.LAB.TEST\\administrator': 6,
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Robustness: mutated messages, with the security-buffer fields (lengths and offsets) as the
// favourite targets, since they decide where the decoder reads.

function xorshift(seed: number) {
  let state = seed >>> 0 || 1;
  const u32 = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state;
  };
  return { u32, below: (n: number) => Math.floor((u32() / 0x1_0000_0000) * n) };
}

type Rng = ReturnType<typeof xorshift>;

function mutate(input: Uint8Array, rng: Rng): Uint8Array {
  let out = Uint8Array.from(input);
  for (let round = 0, rounds = 1 + rng.below(3); round < rounds; round++) {
    if (out.length === 0) break;
    const view = new DataView(out.buffer);
    switch (rng.below(4)) {
      case 0:
        for (let i = 0, n = 1 + rng.below(8); i < n; i++) {
          const p = rng.below(out.length);
          out[p] = (out[p] as number) ^ (1 << rng.below(8));
        }
        break;
      case 1:
        out = out.slice(0, rng.below(out.length + 1));
        break;
      case 2: {
        // A security buffer's Len (u16) or BufferOffset (u32) in the fixed part, or an AV pair length.
        const at = 12 + 2 * rng.below(Math.max(1, Math.min(out.length, 88) - 14) >> 1);
        const values = [0, 1, 0xffff, 0x7fff, out.length, out.length + 1, rng.below(0x10000)];
        if (at + 4 <= out.length && rng.below(2) === 0)
          view.setUint32(at, rng.below(2) ? 0xffffffff : rng.u32(), true);
        else if (at + 2 <= out.length) view.setUint16(at, values[rng.below(values.length)] as number, true);
        break;
      }
      default:
        for (let i = rng.below(out.length), end = i + 1 + rng.below(16); i < Math.min(out.length, end); i++)
          out[i] = rng.below(256);
    }
  }
  return out;
}

describe('robustness', () => {
  const messages = [
    ...Object.values(spec),
    ...rows('smb2-security-blobs.tsv').flatMap(([, , blob]) => {
      const b = hex(blob ?? '');
      const at = findNtlmssp(b)?.offset;
      return at === undefined ? [] : [b.subarray(at)];
    }),
  ];

  it('10,000 mutated messages never throw out of decodeNtlmMessage or findNtlmssp, and each ends quickly', () => {
    const rng = xorshift(0x4e544c4d);
    let decoded = 0;
    for (let i = 0; i < 10_000; i++) {
      const input = mutate(messages[rng.below(messages.length)] as Uint8Array, rng);
      const started = performance.now();
      const result = i % 2 === 0 ? decodeNtlmMessage(input) : findNtlmssp(input);
      const took = performance.now() - started;
      if (took > 1000) throw new Error(`input ${i} took ${took} ms: ${Buffer.from(input).toString('hex')}`);
      if (result?.value) decoded++;
      else if (result) expect(result.diagnostics.some((d) => d.severity === 'error')).toBe(true);
    }
    expect(decoded).toBeGreaterThan(1000);
  });
});
