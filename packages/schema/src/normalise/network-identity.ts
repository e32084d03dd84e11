// Network activity as Identity rows: Kerberos exchanges (UDP and TCP 88), NTLM authentications
// inside SMB2 session setups, LDAP binds and searches, and DRSUAPI replication requests, read
// from a capture with @palisade/protocols and shaped exactly like the Windows normaliser's rows
// (same ActionTypes and AdditionalFields keys), so the same identity detectors judge them.
import {
  DcerpcConnection,
  type DcerpcEvent,
  DnsTcpStream,
  decodeDnsMessage,
  decodeKerberosMessage,
  type FlowItem,
  findNtlmssp,
  type KerberosKdcReq,
  type KerberosMessage,
  KerberosTcpStream,
  type LdapAuthentication,
  type LdapPdu,
  LdapTcpStream,
  looksLikeDcerpcHeader,
  type NtlmMessage,
  principalText,
  readFlows,
  Smb2Connection,
  type Smb2Event,
  type StreamDirection,
  type TcpFlow,
  type UdpDatagram,
} from '@palisade/protocols';
import { LogonAction, QueryAction } from '../action-types.ts';
import type { TableRow } from '../rows.ts';
import { kerberosFailure } from './kerberos-codes.ts';
import { DeviceNames } from './network-devices.ts';
import { dnsMessageRows } from './network-dns.ts';
import { hex, networkRow, type Where } from './network-row.ts';
import { rpcCallRows } from './network-rpc.ts';
import { firstRdnValue, splitAccount } from './windows-fields.ts';

const STATUS_SUCCESS = 0;
const STATUS_MORE_PROCESSING = 0xc0000016;
const MAX_SESSIONS = 1024;
const MAX_PENDING_UDP = 10_000;
/** RFC 4120 §7.5.9. */
const KRB_ERR_RESPONSE_TOO_BIG = 52;

/** The user an NTLM authenticate message names, and the workstation it says it comes from. */
interface NtlmUser {
  readonly user: string;
  readonly domain: string;
  readonly workstation: string;
}

/** What a capture gave: rows in capture order, and problems by count. */
export interface NetworkRows {
  readonly rows: TableRow[];
  /** Capture and decoder diagnostics, as text. */
  readonly diagnostics: string[];
}

// One Kerberos request and its answer → the row a DC's 4768/4769/4771 would give.
function kerberosRow(request: KerberosKdcReq, answer: KerberosMessage, where: Where): TableRow | undefined {
  const as = request.kind === 'as-req';
  const service = request.sname ? principalText(request.sname) : '';
  const base = {
    Protocol: 'Kerberos',
    LogonType: as ? 'Credentials Validation' : 'Resource Access',
    ...(as ? {} : { TargetAccountDisplayName: service }),
  };
  const extra = {
    EventId: as ? 4768 : 4769,
    KerberosRequest: as ? 'AS' : 'TGS',
    ServiceName: service,
    PreAuthType: as ? (request.hasEncryptedTimestamp ? '2' : '0') : undefined,
    TicketOptions: hex(request.kdcOptions),
    RequestedEtypes: request.etype.map((e) => hex(e) as string),
    // The key the client pre-authenticated with: RC4 where the account has AES keys is how a
    // stolen NT hash gets a TGT (over-pass-the-hash).
    PreAuthEncryptionType: hex(request.encTimestampEtype),
    // The TGT a TGS-REQ presents, recognisable by the head of its cipher text.
    PresentedTicketService: request.tgt ? principalText(request.tgt.sname) : undefined,
    PresentedTicketEncryptionType: hex(request.tgt?.encPart.etype),
    PresentedTicketId: request.tgt?.encPart.cipherHead,
  };
  if (answer.kind === 'as-rep' || answer.kind === 'tgs-rep') {
    const account = principalText(answer.cname);
    // The ticket the reply issues, when it is a TGT (AS, or a TGS renewal or referral).
    const issuedTgt = answer.ticket.sname.nameString[0]?.toLowerCase() === 'krbtgt';
    return networkRow(
      'IdentityLogonEvents',
      where,
      { ...base, ActionType: LogonAction.success, AccountName: account, AccountDomain: answer.crealm },
      {
        ...extra,
        Status: '0x0',
        // AS-REP: the part encrypted with the user's key (what AS-REP roasting cracks); TGS-REP:
        // the service ticket, encrypted with the service's key (what Kerberoasting cracks).
        TicketEncryptionType: hex(as ? answer.encPart.etype : answer.ticket.encPart.etype),
        TgtEncryptionType: issuedTgt ? hex(answer.ticket.encPart.etype) : undefined,
        TgtId: issuedTgt ? answer.ticket.encPart.cipherHead : undefined,
      },
    );
  }
  if (answer.kind === 'krb-error') {
    // KRB_ERR_RESPONSE_TOO_BIG: the KDC asks the client to repeat over TCP; no logon failed.
    if (answer.errorCode === KRB_ERR_RESPONSE_TOO_BIG) return undefined;
    const status = hex(answer.errorCode);
    const account = request.cname
      ? principalText(request.cname)
      : answer.cname
        ? principalText(answer.cname)
        : '';
    return networkRow(
      'IdentityLogonEvents',
      where,
      {
        ...base,
        ActionType: LogonAction.failure,
        FailureReason: kerberosFailure(status),
        AccountName: account,
        AccountDomain: request.realm,
      },
      { ...extra, Status: status },
    );
  }
  return undefined;
}

interface FlowState {
  readonly flow: TcpFlow;
  readonly port: number;
  kerberos?: { toServer: KerberosTcpStream; toClient: KerberosTcpStream; pending: KerberosKdcReq[] };
  ldap?: {
    toServer: LdapTcpStream;
    toClient: LdapTcpStream;
    binds: Map<number, { account: string; domain?: string; workstation?: string; simple: boolean }>;
    bound?: { account: string; domain?: string };
  };
  smb?: { connection: Smb2Connection; sessions: Map<string, { account: string; domain: string }> };
  rpc?: { connection: DcerpcConnection; account?: string; domain?: string };
  dns?: { toServer: DnsTcpStream; toClient: DnsTcpStream };
  undecided: boolean;
}

/**
 * Turns a capture's UDP datagrams and TCP stream events into Identity rows, one item at a time:
 * the same path for a capture file and for live capture. Memory is bounded by the flow decoder's
 * own limits (one state per open TCP connection) and by the pending-request caps here.
 * @example
 * const normaliser = new NetworkNormaliser();
 * for (const item of decoder.push(frame)) emit(normaliser.push(item));
 */
export class NetworkNormaliser {
  readonly #flows = new Map<number, FlowState>();
  readonly #udpPending = new Map<string, KerberosKdcReq>();
  readonly #names = new DeviceNames();

  /** Takes the next item in capture order; returns the rows it completes, possibly none. */
  push(item: FlowItem): TableRow[] {
    const rows: TableRow[] = [];
    if (item.kind === 'udp') {
      this.#udp(item, rows);
      return this.#resolved(rows);
    }
    if (item.kind === 'open' || item.kind === 'close') {
      if (item.kind === 'close') this.#flows.delete(item.flow.id);
      return rows;
    }
    let state = this.#flows.get(item.flow.id);
    if (!state) {
      state = { flow: item.flow, port: item.flow.server.port, undecided: true };
      this.#flows.set(item.flow.id, state);
    }
    if (item.kind === 'gap') return rows;
    const at: Where = {
      client: item.flow.client,
      server: item.flow.server,
      timestampUs: item.timestampUs,
      frame: item.frame,
    };
    if (state.undecided) {
      state.undecided = false;
      if (state.port === 88)
        state.kerberos = {
          toServer: new KerberosTcpStream(),
          toClient: new KerberosTcpStream(),
          pending: [],
        };
      else if (state.port === 389 || state.port === 3268)
        state.ldap = { toServer: new LdapTcpStream(), toClient: new LdapTcpStream(), binds: new Map() };
      else if (state.port === 53) state.dns = { toServer: new DnsTcpStream(), toClient: new DnsTcpStream() };
      else if (state.port === 445) state.smb = { connection: new Smb2Connection(), sessions: new Map() };
      else if (looksLikeDcerpcHeader(item.bytes)) state.rpc = { connection: new DcerpcConnection() };
    }
    if (state.kerberos) kerberosStream(state.kerberos, item.direction, item.bytes, at, rows, this.#names);
    else if (state.ldap) ldapStream(state.ldap, item.direction, item.bytes, at, rows);
    else if (state.smb)
      for (const e of state.smb.connection.push(item.direction, item.bytes).events)
        smbEvent(state.smb, e, at, rows);
    else if (state.rpc)
      for (const e of state.rpc.connection.push(item.direction, item.bytes).events)
        rpcEvent(state.rpc, e, at, rows, this.#names);
    else if (state.dns)
      for (const m of (item.direction === 'toServer' ? state.dns.toServer : state.dns.toClient).push(
        item.bytes,
      ).messages)
        for (const r of dnsMessageRows(m, item.direction === 'toServer', at, 'tcp', this.#names))
          rows.push(r);
    return this.#resolved(rows);
  }

  // Learns names from the rows themselves, then names both ends of every row it can.
  #resolved(rows: TableRow[]): TableRow[] {
    for (const r of rows) this.#names.learnFromRow(r);
    for (const r of rows) this.#names.resolve(r);
    return rows;
  }

  #udp(item: UdpDatagram, rows: TableRow[]): void {
    if (item.dst.port === 53 || item.src.port === 53) {
      const fromClient = item.dst.port === 53;
      const { value } = decodeDnsMessage(item.payload);
      if (!value) return;
      const at: Where = {
        client: fromClient ? item.src : item.dst,
        server: fromClient ? item.dst : item.src,
        timestampUs: item.timestampUs,
        frame: item.frame,
      };
      for (const r of dnsMessageRows(value, fromClient, at, 'udp', this.#names)) rows.push(r);
      return;
    }
    const port = item.dst.port === 88 ? 'request' : item.src.port === 88 ? 'reply' : undefined;
    if (!port) return;
    const { value } = decodeKerberosMessage(item.payload);
    if (!value) return;
    const pending = this.#udpPending;
    if (port === 'request' && (value.kind === 'as-req' || value.kind === 'tgs-req')) {
      learnAddresses(value, item.src.ip, this.#names);
      pending.set(`${item.src.ip}:${item.src.port}>${item.dst.ip}`, value);
      if (pending.size > MAX_PENDING_UDP) pending.delete(pending.keys().next().value as string);
    } else if (port === 'reply') {
      const key = `${item.dst.ip}:${item.dst.port}>${item.src.ip}`;
      const request = pending.get(key);
      if (!request) return;
      pending.delete(key);
      const r = kerberosRow(request, value, {
        client: item.dst,
        server: item.src,
        timestampUs: item.timestampUs,
        frame: item.frame,
      });
      if (r) rows.push(r);
    }
  }
}

/**
 * Reads a pcap or pcapng capture of a domain controller's traffic into Identity rows.
 * @example const { rows } = normaliseCapture(readFileSync('dc.pcap'))
 */
export function normaliseCapture(bytes: Uint8Array): NetworkRows {
  const rows: TableRow[] = [];
  const reading = readFlows(bytes);
  const normaliser = new NetworkNormaliser();
  for (const item of reading.items) for (const r of normaliser.push(item)) rows.push(r);
  const diagnostics = reading.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message);
  return { rows, diagnostics };
}

// An AS-REQ may list the client's NetBIOS name (address type 20) in its addresses field.
function learnAddresses(request: KerberosKdcReq, ip: string, names: DeviceNames): void {
  if (request.kind !== 'as-req') return;
  for (const a of request.addresses ?? []) if (a.addrType === 20) names.learn(ip, a.address, 'kerberos');
}

function kerberosStream(
  k: NonNullable<FlowState['kerberos']>,
  direction: StreamDirection,
  bytes: Uint8Array,
  at: Where,
  rows: TableRow[],
  names: DeviceNames,
): void {
  const { messages } = (direction === 'toServer' ? k.toServer : k.toClient).push(bytes);
  for (const m of messages) {
    if (direction === 'toServer' && (m.kind === 'as-req' || m.kind === 'tgs-req')) {
      learnAddresses(m, at.client.ip, names);
      k.pending.push(m);
    } else if (direction === 'toClient') {
      const request = k.pending.shift();
      const r = request ? kerberosRow(request, m, at) : undefined;
      if (r) rows.push(r);
    }
  }
}

// LDAP result code 49 (invalidCredentials) carries AD's reason in its message: `data 52e`.
const ldapBindReasons: Record<string, string> = {
  '525': 'NoSuchUser',
  '52e': 'WrongPassword',
  '533': 'AccountDisabled',
  '701': 'AccountExpired',
  '773': 'PasswordMustChange',
  '775': 'AccountLocked',
};

function ldapStream(
  l: NonNullable<FlowState['ldap']>,
  direction: StreamDirection,
  bytes: Uint8Array,
  at: Where,
  rows: TableRow[],
): void {
  const { pdus } = (direction === 'toServer' ? l.toServer : l.toClient).push(bytes);
  for (const pdu of pdus as readonly LdapPdu[]) {
    if (pdu.kind !== 'message') continue;
    const { message } = pdu;
    const op = message.protocolOp;
    if (op.kind === 'bindRequest') {
      const auth = op.authentication;
      const ntlm = bindNtlmUser(auth);
      const simple = auth.kind === 'simple';
      const name = simple ? op.name : (ntlm?.user ?? '');
      if (!name) continue;
      const split: { name?: string | undefined; domain?: string | undefined } = name.includes('=')
        ? { name: firstRdnValue(name) }
        : splitAccount(name);
      const domain = ntlm?.domain || split.domain;
      l.binds.set(message.messageID, {
        account: split.name ?? name,
        ...(domain ? { domain } : {}),
        ...(ntlm?.workstation ? { workstation: ntlm.workstation } : {}),
        simple,
      });
    } else if (op.kind === 'bindResponse') {
      const bind = l.binds.get(message.messageID);
      if (!bind) continue;
      l.binds.delete(message.messageID);
      const code = op.result.resultCode;
      if (code === 14) continue; // saslBindInProgress: the exchange goes on
      const reason = /data ([0-9a-f]{3})/i.exec(op.result.diagnosticMessage ?? '')?.[1]?.toLowerCase();
      if (code === 0) l.bound = bind;
      rows.push(
        networkRow(
          'IdentityLogonEvents',
          at,
          {
            ActionType: code === 0 ? LogonAction.success : LogonAction.failure,
            Protocol: bind.simple ? 'Ldap' : 'Ntlm',
            LogonType: bind.simple ? 'LDAP Cleartext' : 'Credentials Validation',
            AccountName: bind.account,
            AccountDomain: bind.domain,
            DeviceName: bind.workstation,
            FailureReason:
              code === 0
                ? undefined
                : (reason && ldapBindReasons[reason]) ||
                  (code === 49 ? 'BadUserNameOrPassword' : `LDAP result ${code}`),
          },
          { ResultCode: code, Workstation: bind.workstation },
        ),
      );
    } else if (op.kind === 'searchRequest') {
      rows.push(
        networkRow(
          'IdentityQueryEvents',
          at,
          {
            ActionType: QueryAction.ldap,
            Protocol: 'Ldap',
            QueryType: 'LDAP search',
            Query: op.filter,
            QueryTarget: op.baseObject,
            AccountName: l.bound?.account,
            AccountDomain: l.bound?.domain,
          },
          { Scope: op.scope, Attributes: [...op.attributes] },
        ),
      );
    }
  }
}

// The NTLM authenticate message of a SASL (GSS-SPNEGO) or Sicily bind, when the bind carries one.
function bindNtlmUser(auth: LdapAuthentication): NtlmUser | undefined {
  let message: NtlmMessage | undefined;
  if (auth.kind === 'sicilyResponse') message = auth.ntlm;
  else if (auth.kind === 'sasl' && auth.token) {
    const t = auth.token;
    const mech =
      t.kind === 'neg-token-init' ? t.mechToken : t.kind === 'neg-token-resp' ? t.responseToken : t;
    if (mech?.kind === 'ntlmssp') message = mech.message;
  }
  return message?.kind === 'authenticate' && message.userName
    ? { user: message.userName, domain: message.domainName, workstation: message.workstation }
    : undefined;
}

function ntlmUser(bytes: Uint8Array | undefined): NtlmUser | undefined {
  if (!bytes) return undefined;
  const found = findNtlmssp(bytes)?.value;
  return found?.kind === 'authenticate' && found.userName
    ? { user: found.userName, domain: found.domainName, workstation: found.workstation }
    : undefined;
}

function smbEvent(smb: NonNullable<FlowState['smb']>, e: Smb2Event, at: Where, rows: TableRow[]): void {
  if (e.kind === 'rpc') {
    if (e.rpc.kind !== 'call') return;
    const session = smb.sessions.get(e.pipe.sessionId) ?? {};
    for (const r of rpcCallRows(e.rpc.call, at, session, `\\PIPE\\${e.pipe.name}`)) rows.push(r);
    return;
  }
  if (e.kind !== 'sessionSetup' || e.status === STATUS_MORE_PROCESSING) return;
  const ntlm = ntlmUser(e.requestSecurityBuffer);
  if (!ntlm) return;
  // The session's account names the pipes' callers; bounded by the SMB connection's own limits.
  if (e.status === STATUS_SUCCESS && smb.sessions.size < MAX_SESSIONS)
    smb.sessions.set(e.sessionId, { account: ntlm.user, domain: ntlm.domain });
  rows.push(
    networkRow(
      'IdentityLogonEvents',
      at,
      {
        ActionType: e.status === STATUS_SUCCESS ? LogonAction.success : LogonAction.failure,
        Protocol: 'Ntlm',
        LogonType: 'Credentials Validation',
        AccountName: ntlm.user,
        AccountDomain: ntlm.domain,
        DeviceName: ntlm.workstation,
        FailureReason:
          e.status === STATUS_SUCCESS
            ? undefined
            : e.status === 0xc000006d
              ? 'BadUserNameOrPassword'
              : (e.statusName ?? hex(e.status)),
      },
      { EventId: 4776, Status: hex(e.status), Application: 'SMB', Workstation: ntlm.workstation },
    ),
  );
}

function rpcEvent(
  rpc: NonNullable<FlowState['rpc']>,
  e: DcerpcEvent,
  at: Where,
  rows: TableRow[],
  names: DeviceNames,
): void {
  if (e.kind === 'pdu') {
    // The authenticate message of the bind (or auth3) names who the connection runs as.
    const auth = 'auth' in e.pdu ? e.pdu.auth : undefined;
    const ntlm = auth ? ntlmUser(auth.authValue) : undefined;
    if (ntlm) {
      rpc.account = ntlm.user;
      rpc.domain = ntlm.domain;
      if (ntlm.workstation) names.learn(at.client.ip, ntlm.workstation, 'ntlm');
    }
    return;
  }
  for (const r of rpcCallRows(e.call, at, rpc, 'ncacn_ip_tcp')) rows.push(r);
}
