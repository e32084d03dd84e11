// Authentication coercion of a domain controller over RPC: a call that makes the DC open a path
// on, or contact, another host as its machine account, so that an attacker there can relay
// the NTLM authentication (to AD CS, LDAP…).
// 2416 Suspicious network connection over EFSRPC (PetitPotam, Coercer): an EFSRPC call whose
// file name is a UNC path to another host. 2426 Suspected DFSCoerce attack: NetrDfsAddStdRoot or
// NetrDfsRemoveStdRoot naming another host. A sealed or unreadable stub hides the host: still an
// alert, at Medium severity. Calls naming the DC itself, or another DC, are not coercion.
import { DirectoryAction, type TableRow } from '@palisade/schema';
import type { AlertEvent } from '../alert.ts';
import {
  accountLabel,
  type DetectorMeta,
  type DetectorState,
  extra,
  extraList,
  type IdentityDetector,
  type IdentityFinding,
  noFindings,
  text,
} from './detector.ts';
import { canonicalHost, type DirectoryKnowledge } from './directory.ts';
import { Cooldown, unique } from './windows.ts';

/** How one protocol's rows name the host the server is made to contact. */
interface Coercion {
  readonly actionType: string;
  readonly listener: (row: TableRow) => string;
  /** What the call asked, for the description. */
  readonly asked: (row: TableRow) => string;
}

function coercionState(c: Coercion, directory: DirectoryKnowledge): DetectorState {
  const cooldown = new Cooldown(10 * 60_000);
  return {
    push(row: TableRow, time: number, event: AlertEvent): readonly IdentityFinding[] {
      if (row.table !== 'IdentityDirectoryEvents' || text(row, 'ActionType') !== c.actionType)
        return noFindings;
      const source = text(row, 'IPAddress');
      if (!source || directory.isDomainController(source)) return noFindings;
      const target = text(row, 'DestinationDeviceName') || text(row, 'DestinationIPAddress');
      // Sealed, or not readable as far as the host: the call itself is the sign.
      const unreadable =
        extra(row, 'StubEncrypted') === 'true'
          ? 'the call was sealed'
          : extra(row, 'StubProblem') && `its arguments do not read (${extra(row, 'StubProblem')})`;
      const listener = c.listener(row);
      if (listener ? isServerOrDc(listener, row, directory) : !unreadable) return noFindings;
      if (!cooldown.take(`${source}|${canonicalHost(target)}|${canonicalHost(listener)}`, time))
        return noFindings;
      const account = accountLabel(row);
      const call = `${extra(row, 'Method')} on ${target || 'a domain controller'} over ${extra(row, 'Transport') || 'RPC'}`;
      return [
        {
          timestamp: text(row, 'Timestamp') || event.timestamp,
          description: listener
            ? `${source}${account ? ` (as ${account})` : ''} called ${call} ${c.asked(row)}, which makes it authenticate to ${listener}`
            : `${source}${account ? ` (as ${account})` : ''} called ${call}; ${unreadable}, so the host it points to is not known`,
          accounts: unique([account]),
          devices: unique([text(row, 'DeviceName')]),
          ips: [source],
          events: [event],
          targets: { devices: unique([target, listener]) },
          ...(listener ? {} : { severity: 'medium' as const }),
        },
      ];
    },
    get size() {
      return cooldown.size;
    },
  };
}

/** Whether a host is the server the call went to (by name or address), or another DC. */
function isServerOrDc(host: string, row: TableRow, directory: DirectoryKnowledge): boolean {
  const h = canonicalHost(host);
  const server = [text(row, 'DestinationDeviceName'), text(row, 'DestinationIPAddress')];
  return server.some((s) => s !== '' && canonicalHost(s) === h) || directory.isDomainController(host);
}

const efsrpc: Coercion = {
  actionType: DirectoryAction.efsrpcCall,
  listener: (r) => extra(r, 'Listener'),
  asked: (r) => `with ${extraList(r, 'FileNames').join(', ')}`,
};

const dfsnm: Coercion = {
  actionType: DirectoryAction.dfsnmCall,
  listener: (r) => extra(r, 'ServerName'),
  asked: (r) => `for the root ${extra(r, 'ServerName')}\\${extra(r, 'RootShare')}`,
};

export const efsrpcCoercionDetector: IdentityDetector = {
  meta: {
    id: 'identity/efsrpc-coercion',
    externalId: 2416,
    tables: ['IdentityDirectoryEvents'],
    title: 'Suspicious network connection over Encrypting File System Remote Protocol',
    severity: 'high',
    tactics: ['Lateral Movement'],
    techniques: ['T1210'],
    description:
      'An EFSRPC call named a file on another host, making the domain controller authenticate there (PetitPotam).',
  } satisfies DetectorMeta,
  create: ({ directory }) => coercionState(efsrpc, directory),
};

export const dfsCoerceDetector: IdentityDetector = {
  meta: {
    id: 'identity/dfscoerce',
    externalId: 2426,
    tables: ['IdentityDirectoryEvents'],
    title: 'Suspected DFSCoerce attack using Distributed File System Protocol',
    severity: 'high',
    tactics: ['Credential Access'],
    techniques: ['T1187'],
    description:
      'A DFS namespace call named another host as the server of a standalone root, making the domain controller authenticate there.',
  } satisfies DetectorMeta,
  create: ({ directory }) => coercionState(dfsnm, directory),
};
