// Passive IP-to-device resolution for rows made from packets. Defender for Identity resolves
// addresses actively (NTLM over RPC, NetBIOS, RDP, reverse DNS); a sensor that only listens
// learns names from what devices say about themselves and what the DNS server answers:
//   - the workstation an NTLM authenticate message names (the client's NetBIOS name),
//   - a machine account's Kerberos AS exchange (HOST$ asking for its own TGT),
//   - the Kerberos AS-REQ addresses field (NetBIOS names, type 20),
//   - a DNS dynamic update registering an A/AAAA record for the sender's own address,
//   - DNS answers: PTR records (address → name) and A/AAAA records (name → address).
// Self-descriptions win over third-party answers; the latest of the same rank wins. Names are
// what the traffic shows (a NetBIOS name or a DNS name), never guessed.
import { LogonAction } from '../action-types.ts';
import type { Dynamic, TableRow } from '../rows.ts';

/** How a name was learned, strongest first. */
export const deviceNameSources = ['ntlm', 'kerberos', 'dns-update', 'dns-answer'] as const;
export type DeviceNameSource = (typeof deviceNameSources)[number];

interface Known {
  readonly name: string;
  readonly rank: number;
}

const MAX_ADDRESSES = 65_536;

/**
 * Names learned per IP address, bounded (the oldest address is forgotten first).
 * @example names.learn('10.0.0.5', 'WS01', 'ntlm'); names.nameOf('10.0.0.5') // 'WS01'
 */
export class DeviceNames {
  readonly #byIp = new Map<string, Known>();

  learn(ip: string, name: string, source: DeviceNameSource): void {
    const clean = name.trim().replace(/\.$/, '');
    if (!ip || !clean) return;
    const rank = deviceNameSources.indexOf(source);
    const known = this.#byIp.get(ip);
    if (known && known.rank < rank) return;
    this.#byIp.delete(ip);
    this.#byIp.set(ip, { name: clean, rank });
    if (this.#byIp.size > MAX_ADDRESSES) this.#byIp.delete(this.#byIp.keys().next().value as string);
  }

  nameOf(ip: string): string | undefined {
    return this.#byIp.get(ip)?.name;
  }

  /** Fills DeviceName (the client) and DestinationDeviceName (the server) where the row lacks them. */
  resolve(row: TableRow): void {
    const v = row.values as Record<string, Dynamic>;
    const client = typeof v.IPAddress === 'string' ? v.IPAddress : undefined;
    const server = typeof v.DestinationIPAddress === 'string' ? v.DestinationIPAddress : undefined;
    if (client && !v.DeviceName) {
      const name = this.nameOf(client);
      if (name) v.DeviceName = name;
    }
    if (server && !v.DestinationDeviceName) {
      const name = this.nameOf(server);
      if (name) v.DestinationDeviceName = name;
    }
  }

  /** Learns from a finished row: NTLM workstations and machine accounts' own TGT requests. */
  learnFromRow(row: TableRow): void {
    const v = row.values;
    const ip = typeof v.IPAddress === 'string' ? v.IPAddress : '';
    if (!ip) return;
    const extra = (v.AdditionalFields ?? {}) as Record<string, Dynamic>;
    const workstation = extra.Workstation;
    if (typeof workstation === 'string' && workstation) this.learn(ip, workstation, 'ntlm');
    const account = typeof v.AccountName === 'string' ? v.AccountName : '';
    if (
      v.Protocol === 'Kerberos' &&
      extra.KerberosRequest === 'AS' &&
      v.ActionType === LogonAction.success &&
      account.endsWith('$')
    )
      this.learn(ip, account.slice(0, -1), 'kerberos');
  }
}
