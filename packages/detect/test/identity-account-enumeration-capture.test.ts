// Account enumeration (2003) on a real capture: packages/schema/fixtures/network-kerberos-enum
// (Impacket's GetNPUsers.py -no-pass -usersfile over 40 names against a Samba 4.17 DC; see its
// README). Which names exist comes from tshark's reading of the capture (enum.tshark.tsv), not
// from Palisade's decoder. A row's frame is its exchange's answer.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { normaliseCapture } from '@palisade/schema';
import { describe, expect, it } from 'vitest';
import { compileRuleSet, type IdentityEngineConfig, identityDetectors, scanFiles } from '../src/index.ts';

const fixtures = new URL('../../schema/fixtures/network-kerberos-enum/', import.meta.url);
const pcap = fileURLToPath(new URL('enum.pcap', fixtures));
const names = readFileSync(new URL('names.txt', fixtures), 'utf8').trimEnd().split('\n');

/** One Kerberos frame as tshark reads it (see the README for the command). */
interface TsharkFrame {
  readonly frame: number;
  readonly src: string;
  readonly msgType: string;
  readonly errorCode: string;
  readonly cname: string;
  /** An AS-REQ's padata types; a KRB-ERROR's offered pre-authentication methods. */
  readonly padata: string[];
}

const golden: TsharkFrame[] = readFileSync(new URL('enum.tshark.tsv', fixtures), 'utf8')
  .trimEnd()
  .split('\n')
  .map((line) => {
    const [frame, src, msgType, errorCode, cname, padata] = line.split('\t');
    return {
      frame: Number(frame),
      src: src ?? '',
      msgType: msgType ?? '',
      errorCode: errorCode ?? '',
      cname: cname ?? '',
      padata: padata ? padata.split(',') : [],
    };
  });

const AS_REQ = '10';
const KRB_ERROR = '30';
const KDC_ERR_C_PRINCIPAL_UNKNOWN = '6';
const KDC_ERR_PREAUTH_REQUIRED = '25';
const PA_ENC_TIMESTAMP = '2';

const requests = golden.filter((f) => f.msgType === AS_REQ);
const answers = golden.filter((f) => f.msgType === KRB_ERROR);
const unknown = answers.filter((f) => f.errorCode === KDC_ERR_C_PRINCIPAL_UNKNOWN);
const existing = answers.filter((f) => f.errorCode === KDC_ERR_PREAUTH_REQUIRED);
const attacker = requests[0]?.src;

/**
 * The whole 2003 alert for a threshold of `n` unknown names within `minutes`, from the golden: it
 * holds the answers up to the one that brings the unknown names to `n`.
 */
function expectedAlert(n: number, minutes: number) {
  const last = unknown[n - 1]?.frame ?? 0;
  const guesses = answers.filter((f) => f.frame <= last);
  const matched = guesses.filter((f) => f.errorCode === KDC_ERR_PREAUTH_REQUIRED).map((f) => f.cname);
  const missed = guesses.filter((f) => f.errorCode === KDC_ERR_C_PRINCIPAL_UNKNOWN).map((f) => f.cname);
  return [
    2003,
    [attacker],
    [],
    { accounts: matched },
    guesses.map((f) => f.frame),
    `${attacker} tried ${guesses.length} account names within ${minutes} minutes, ${missed.length} of them unknown to the domain; names that exist: ${matched.join(', ')}; unknown names tried: ${missed.join(', ')}`,
  ];
}

async function scan(config: IdentityEngineConfig) {
  const { alerts } = await scanFiles([pcap], compileRuleSet([], { name: 'none', entries: [] }), {
    identity: { detectors: identityDetectors, config },
  });
  return alerts.map((a) => [
    a.externalId,
    a.entities?.ips,
    a.entities?.accounts,
    a.targets,
    a.events.map((e) => e.recordId),
    a.description,
  ]);
}

describe('the user-enumeration capture, as tshark reads it', () => {
  it('holds one AS-REQ without pre-authentication per name in names.txt, all from one source', () => {
    expect(requests.map((f) => f.cname)).toEqual(names);
    expect(names).toHaveLength(40);
    expect(new Set(requests.map((f) => f.src))).toEqual(new Set(['10.96.0.20']));
    // PA-PAC-REQUEST (128) only: no PA-ENC-TIMESTAMP, so the KDC cannot check a password.
    expect(requests.filter((f) => f.padata.includes(PA_ENC_TIMESTAMP))).toEqual([]);
  });

  it('holds one KRB-ERROR per name: principal unknown for 35 names, pre-authentication required for 5', () => {
    expect(answers.map((f) => f.cname)).toEqual(names);
    expect(new Set(answers.map((f) => f.src))).toEqual(new Set(['10.96.0.10']));
    expect(unknown.length + existing.length).toBe(answers.length);
    expect(unknown).toHaveLength(35);
    // The three users the script creates and the built-in Administrator and (disabled) Guest.
    expect(existing.map((f) => [f.frame, f.cname])).toEqual([
      [13, 'alice'],
      [90, 'administrator'],
      [140, 'bob'],
      [204, 'guest'],
      [280, 'carol'],
    ]);
  });
});

describe('account enumeration (2003) on the user-enumeration capture', () => {
  it('normalises each answer to a failed AS logon without pre-authentication, named as tshark names it', () => {
    const { rows, diagnostics } = normaliseCapture(readFileSync(pcap));
    expect(diagnostics).toEqual([]);
    expect(
      rows.map((r) => {
        const extra = r.values.AdditionalFields as Record<string, unknown>;
        return [
          r.values.ReportId,
          r.values.IPAddress,
          r.values.AccountName,
          r.values.ActionType,
          r.values.FailureReason,
          extra.PreAuthType,
        ];
      }),
    ).toEqual(
      answers.map((f) => [
        `net:${f.frame}`,
        attacker,
        f.cname,
        'LogonFailed',
        f.errorCode === KDC_ERR_C_PRINCIPAL_UNKNOWN ? 'PrincipalUnknown' : 'PreauthRequired',
        '0',
      ]),
    );
  });

  // The whole alert list, written out and checked against tshark's reading: no other identity
  // detector fires. AS-REP roasting (2412) needs a TGT issued without pre-authentication, and
  // every account here requires it, so the KDC issued none; brute force (2023) counts wrong
  // passwords, and no password was ever tried.
  it('raises one alert in test mode, at the third unknown name (Low: 3 within 30 minutes)', async () => {
    const expected = [
      [
        2003,
        ['10.96.0.20'],
        [],
        { accounts: ['alice'] },
        [6, 13, 23, 30],
        '10.96.0.20 tried 4 account names within 30 minutes, 3 of them unknown to the domain; names that exist: alice; unknown names tried: admin, root, test',
      ],
    ];
    expect(expected).toEqual([expectedAlert(3, 30)]);
    expect(await scan({ testMode: true })).toEqual(expected);
  });

  it('raises one alert at the default High level, at the tenth unknown name (10 within 10 minutes)', async () => {
    // The guesses after the tenth unknown name belong to the same incident (one hour): no second
    // alert, and the names found after it (bob, guest, carol) are not in this one.
    const expected = [
      [
        2003,
        ['10.96.0.20'],
        [],
        { accounts: ['alice', 'administrator'] },
        [6, 13, 23, 30, 43, 50, 57, 64, 83, 90, 100, 107],
        '10.96.0.20 tried 12 account names within 10 minutes, 10 of them unknown to the domain; names that exist: alice, administrator; unknown names tried: admin, root, test, user, backup, helpdesk, support, jsmith, mary, mike',
      ],
    ];
    expect(expected).toEqual([expectedAlert(10, 10)]);
    expect(await scan({})).toEqual(expected);
  });
});
