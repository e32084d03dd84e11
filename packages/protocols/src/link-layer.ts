// Link-layer headers in front of IP: Ethernet II with 802.1Q/802.1ad tags, Linux cooked
// captures (SLL and SLL2), raw IP, and BSD loopback. Yields the network-layer packet as a view.
import { ByteReader } from '@palisade/binary';
import { linkTypes, u16At } from './capture-frame.ts';

/** A frame with its link-layer header removed. */
export interface LinkPacket {
  /** What the payload is: an IPv4 or IPv6 packet, or anything else (ARP, LLC, …). */
  readonly kind: 'ipv4' | 'ipv6' | 'other';
  /** The bytes after the link-layer header (and VLAN tags): a view, not a copy. */
  readonly payload: Uint8Array;
  /** The EtherType (or the address family for loopback), -1 when the link type has none. */
  readonly etherType: number;
  /** 802.1Q / 802.1ad VLAN identifiers, outermost first; empty when untagged. */
  readonly vlanIds: readonly number[];
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
// 802.1Q, 802.1ad and the pre-standard QinQ tag.
const VLAN_TAGS = new Set([0x8100, 0x88a8, 0x9100]);
// Address families of IPv4 and IPv6 across the systems that write loopback captures: AF_INET is
// 2 everywhere; AF_INET6 is 10 (Linux), 23 (Windows), 24 (NetBSD, OpenBSD), 28 (FreeBSD),
// 30 (macOS).
const AF_INET = 2;
const AF_INET6 = new Set([10, 23, 24, 28, 30]);
const NO_VLANS: readonly number[] = Object.freeze([]);

/** The link types `decodeLinkLayer` understands. */
export const supportedLinkTypes: ReadonlySet<number> = new Set(Object.values(linkTypes));

/**
 * Removes the link-layer header of a frame of the given LINKTYPE. `base` is the offset of
 * `data[0]` in the capture file, for error positions. Throws ParseError for a short header, an
 * unsupported link type or a raw packet that is not IP.
 */
export function decodeLinkLayer(linkType: number, data: Uint8Array, base = 0): LinkPacket {
  // Ethernet carries nearly every frame: decode the untagged case without a reader.
  if (linkType === linkTypes.ethernet && data.length >= 14) {
    const type = u16At(data, 12);
    if (type === ETHERTYPE_IPV4)
      return { kind: 'ipv4', payload: data.subarray(14), etherType: type, vlanIds: NO_VLANS };
    if (type === ETHERTYPE_IPV6)
      return { kind: 'ipv6', payload: data.subarray(14), etherType: type, vlanIds: NO_VLANS };
  }
  const r = new ByteReader(data, base);
  switch (linkType) {
    case linkTypes.ethernet:
      return fromEtherType(r, r.u16be(12, 'EtherType'), 14);
    case linkTypes.linuxSll:
      // SLL: packet type, ARPHRD type, address length, 8 address bytes, protocol.
      return fromEtherType(r, r.u16be(14, 'SLL protocol type'), 16);
    case linkTypes.linuxSll2:
      // SLL2: protocol type first, then reserved, interface index, ARPHRD, packet type, address.
      r.ensure(0, 20, 'SLL2 header');
      return fromEtherType(r, r.u16be(0, 'SLL2 protocol type'), 20);
    case linkTypes.raw:
    case linkTypes.rawBsd:
    case linkTypes.rawOpenBsd: {
      const version = r.u8(0, 'IP version') >> 4;
      if (version === 4) return ip('ipv4', data, 0, -1);
      if (version === 6) return ip('ipv6', data, 0, -1);
      throw r.fail(0, 'IP version', '4 or 6', `${version}`);
    }
    case linkTypes.ipv4:
      return ip('ipv4', data, 0, -1);
    case linkTypes.ipv6:
      return ip('ipv6', data, 0, -1);
    case linkTypes.null:
    case linkTypes.loop: {
      // DLT_NULL stores the family in the writer's byte order, which the file does not record;
      // families are small, so the order that gives a small number is the right one.
      const le = r.u32le(0, 'loopback address family');
      const family = linkType === linkTypes.loop || le > 0xffff ? r.u32be(0, 'loopback address family') : le;
      if (family === AF_INET) return ip('ipv4', data, 4, family);
      if (AF_INET6.has(family)) return ip('ipv6', data, 4, family);
      return { kind: 'other', payload: data.subarray(4), etherType: family, vlanIds: NO_VLANS };
    }
    default:
      throw r.fail(0, 'link type', 'a supported LINKTYPE', `${linkType}`);
  }
}

function fromEtherType(r: ByteReader, first: number, start: number): LinkPacket {
  let type = first;
  let at = start;
  let tags: number[] | undefined;
  while (VLAN_TAGS.has(type)) {
    // Tag control information: 3 bits priority, 1 bit DEI, 12 bits VLAN id; then the next type.
    tags ??= [];
    tags.push(r.u16be(at, 'VLAN tag') & 0x0fff);
    type = r.u16be(at + 2, 'EtherType after VLAN tag');
    at += 4;
  }
  // An 802.3 length instead of a type: IP only travels in it behind an LLC/SNAP header
  // (AA AA 03, OUI 00 00 00, then the EtherType).
  if (
    type <= 1500 &&
    r.length >= at + 8 &&
    r.u16be(at, 'LLC') === 0xaaaa &&
    r.u32be(at + 2, 'SNAP') === 0x0300_0000
  ) {
    type = r.u16be(at + 6, 'SNAP EtherType');
    at += 8;
  }
  r.ensure(at, 0, 'link-layer payload');
  const payload = r.bytes.subarray(at);
  const vlanIds = tags ?? NO_VLANS;
  if (type === ETHERTYPE_IPV4) return { kind: 'ipv4', payload, etherType: type, vlanIds };
  if (type === ETHERTYPE_IPV6) return { kind: 'ipv6', payload, etherType: type, vlanIds };
  return { kind: 'other', payload, etherType: type, vlanIds };
}

function ip(kind: 'ipv4' | 'ipv6', data: Uint8Array, start: number, etherType: number): LinkPacket {
  return { kind, payload: data.subarray(start), etherType, vlanIds: NO_VLANS };
}
