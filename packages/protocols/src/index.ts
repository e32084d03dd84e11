// Public surface of @palisade/protocols: capture files, link/IP/transport layers, IP and TCP
// reassembly, the whole-capture flow pipeline, and the protocol decoders built on it.

// decoders
export type { Asn1ErrorCode, BerElement, ElementSize, TagClass } from './asn1-ber.ts';
export {
  asn1ErrorCodes,
  BerReader,
  DEFAULT_MAX_DEPTH,
  peekElementSize,
  tagClasses,
  universalTags,
} from './asn1-ber.ts';
export type { CaptureDiagnostic, CaptureDiagnosticCode, OnCaptureDiagnostic } from './capture-diagnostics.ts';
export { captureDiagnosticCodes, formatCaptureDiagnostic, parseErrorMessage } from './capture-diagnostics.ts';
export type {
  FlowItem,
  FlowOptions,
  FlowReading,
  FlowStats,
  ReadFlowsOptions,
  UdpDatagram,
} from './capture-flows.ts';
export { FlowDecoder, readFlows } from './capture-flows.ts';
export type { CapturedFrame } from './capture-frame.ts';
export { linkTypes } from './capture-frame.ts';
export type {
  LiveCaptureErrorCode,
  LiveCaptureEvent,
  LiveCaptureOptions,
  LiveCaptureStats,
  TcpdumpCounters,
  TcpdumpEvent,
} from './capture-live.ts';
export {
  CaptureError,
  DYNAMIC_RPC_PORTS,
  dcCaptureFilter,
  dcServicePorts,
  interfaceAddresses,
  LiveCapture,
  liveCaptureErrorCodes,
  parseTcpdumpStderr,
  TcpdumpStderr,
} from './capture-live.ts';
export type { PcapHeader } from './capture-pcap.ts';
export { isPcap, readPcapFrames, readPcapHeader } from './capture-pcap.ts';
export type { PcapngInterface } from './capture-pcapng.ts';
export { isPcapng, readPcapngFrames } from './capture-pcapng.ts';
export type { CaptureFormat, CaptureReading } from './capture-reader.ts';
export { captureFormats, readCapture } from './capture-reader.ts';
export { CaptureStreamReader, MAX_STREAM_RECORD } from './capture-stream.ts';
export type {
  DcerpcAuthVerifier,
  DcerpcBindAckPdu,
  DcerpcBindNakPdu,
  DcerpcBindPdu,
  DcerpcContextResult,
  DcerpcDecodeResult,
  DcerpcDiagnostic,
  DcerpcDiagnosticCode,
  DcerpcFaultPdu,
  DcerpcHeader,
  DcerpcOtherPdu,
  DcerpcPdu,
  DcerpcPduKind,
  DcerpcPresentationContext,
  DcerpcRequestPdu,
  DcerpcResponsePdu,
  DcerpcSyntaxId,
} from './dcerpc-decoder.ts';
export {
  dcerpcDiagnosticCodes,
  dcerpcFaultStatusName,
  dcerpcPacketTypes,
  decodeDcerpcPdu,
  looksLikeDcerpcHeader,
  PFC_FIRST_FRAG,
  PFC_LAST_FRAG,
  PFC_OBJECT_UUID,
  readDcerpcHeader,
} from './dcerpc-decoder.ts';
export type { DcerpcInterface } from './dcerpc-interfaces.ts';
export {
  dcerpcInterfaces,
  dcerpcOpnumName,
  findDcerpcInterface,
  transferSyntaxName,
} from './dcerpc-interfaces.ts';
export type {
  DcerpcCall,
  DcerpcConnectionResult,
  DcerpcEvent,
  DcerpcLimits,
  DcerpcStreamResult,
} from './dcerpc-stream.ts';
export { DcerpcConnection, DcerpcStream, defaultDcerpcLimits } from './dcerpc-stream.ts';
export type {
  DnsDecodeResult,
  DnsDiagnostic,
  DnsDiagnosticCode,
  DnsHeader,
  DnsMessage,
  DnsQuestion,
  DnsRdata,
  DnsResourceRecord,
  DnsStreamResult,
} from './dns-decoder.ts';
export {
  DnsTcpStream,
  decodeDnsMessage,
  dnsClassName,
  dnsDiagnosticCodes,
  dnsTypeName,
  isZoneTransfer,
} from './dns-decoder.ts';
export type { IpFragment, IpPacket, IpReassemblyOptions } from './ip.ts';
export { decodeIp, decodeIpv4, decodeIpv6, formatIpv4, formatIpv6, IpReassembler } from './ip.ts';
export type {
  EncryptedDataSummary,
  EtypeInfoEntry,
  HostAddress,
  KerberosApRep,
  KerberosApReq,
  KerberosDecodeResult,
  KerberosDiagnostic,
  KerberosDiagnosticCode,
  KerberosError,
  KerberosKdcRep,
  KerberosKdcReq,
  KerberosMessage,
  KerberosOtherMessage,
  KerberosStreamResult,
  PaDataSummary,
  PrincipalName,
  TicketSummary,
} from './kerberos-decoder.ts';
export {
  DEFAULT_MAX_KERBEROS_RECORD,
  decodeKerberosMessage,
  etypeNames,
  KerberosTcpStream,
  kdcOptionNames,
  kdcOptionsSet,
  kerberosDiagnosticCodes,
  kerberosErrorNames,
  kerberosMessageTypes,
  padataTypeNames,
  principalText,
} from './kerberos-decoder.ts';
export type {
  LdapAuthentication,
  LdapBindRequest,
  LdapBindResponse,
  LdapDecodeResult,
  LdapDiagnostic,
  LdapDiagnosticCode,
  LdapExtendedRequest,
  LdapExtendedResponse,
  LdapMessage,
  LdapOtherOperation,
  LdapPdu,
  LdapProtocolOp,
  LdapResponse,
  LdapResult,
  LdapSearchRequest,
  LdapSearchResultEntry,
  LdapStreamResult,
  LdapUpdateRequest,
} from './ldap-decoder.ts';
export {
  DEFAULT_MAX_LDAP_PDU,
  decodeLdapMessage,
  escapeFilterValue,
  LdapTcpStream,
  ldapDerefAliasesNames,
  ldapDiagnosticCodes,
  ldapOperationNames,
  ldapResultNames,
  ldapScopeNames,
} from './ldap-decoder.ts';
export type { LinkPacket } from './link-layer.ts';
export { decodeLinkLayer, supportedLinkTypes } from './link-layer.ts';
export type {
  NtlmAuthenticate,
  NtlmAvPairs,
  NtlmChallenge,
  NtlmDecodeResult,
  NtlmDiagnostic,
  NtlmDiagnosticCode,
  NtlmMessage,
  NtlmNegotiate,
  NtlmResponseKind,
  NtlmVersion,
} from './ntlm-decoder.ts';
export {
  avIds,
  decodeNtlmMessage,
  findNtlmssp,
  indexOfNtlmssp,
  NTLMSSP_SIGNATURE,
  ntlmDiagnosticCodes,
  ntlmFlagNames,
  ntlmNegotiateFlagNames,
  startsWithNtlmssp,
} from './ntlm-decoder.ts';
export type {
  Smb2Body,
  Smb2Command,
  Smb2DecodeResult,
  Smb2Diagnostic,
  Smb2DiagnosticCode,
  Smb2Header,
  Smb2NegotiateContext,
  Smb2Packet,
  Smb2TransformHeader,
} from './smb2-decoder.ts';
export {
  decodeSmb2Message,
  FSCTL_PIPE_TRANSCEIVE,
  ntStatusName,
  STATUS_LOGON_FAILURE,
  STATUS_MORE_PROCESSING_REQUIRED,
  smb2Commands,
  smb2DiagnosticCodes,
  smb2DialectName,
} from './smb2-decoder.ts';
export type { Smb2ConnectionResult, Smb2Event, Smb2Limits, Smb2Pipe } from './smb2-stream.ts';
export { defaultSmb2Limits, Smb2Connection } from './smb2-stream.ts';
export type {
  GssDecodeResult,
  GssDiagnostic,
  GssMechToken,
  GssToken,
  NegTokenInit,
  NegTokenResp,
  SpnegoDiagnostic,
  SpnegoDiagnosticCode,
} from './spnego-decoder.ts';
export {
  classifyWrapToken,
  decodeGssToken,
  KERBEROS_OIDS,
  mechanismNames,
  negStateNames,
  SPNEGO_OID,
  spnegoDiagnosticCodes,
} from './spnego-decoder.ts';
export type {
  CloseReason,
  Endpoint,
  StreamClose,
  StreamData,
  StreamDirection,
  StreamEvent,
  StreamGap,
  StreamOpen,
  TcpFlow,
  TcpReassemblyOptions,
  TcpSegment,
} from './tcp-reassembly.ts';
export {
  closeReasons,
  serverPorts,
  serverSideByPorts,
  streamDirections,
  TcpReassembler,
} from './tcp-reassembly.ts';
export type { TcpHeader, UdpHeader } from './transport.ts';
export { decodeTcp, decodeUdp, IP_PROTOCOL_TCP, IP_PROTOCOL_UDP, tcpFlags } from './transport.ts';
