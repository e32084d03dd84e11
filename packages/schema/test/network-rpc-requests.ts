// The DCE/RPC requests of a capture, as the normaliser's decoders see them, for tests that feed
// real stubs to the NDR readers.
import { type DcerpcCall, DcerpcConnection, readFlows, Smb2Connection } from '@palisade/protocols';

/** Every DCE/RPC request of a capture, over SMB2 pipes (port 445) or TCP. */
export function requestsOf(bytes: Uint8Array): DcerpcCall[] {
  const out: DcerpcCall[] = [];
  const connections = new Map<number, Smb2Connection | DcerpcConnection>();
  for (const item of readFlows(bytes).items) {
    if (item.kind !== 'data') continue;
    let c = connections.get(item.flow.id);
    if (!c) {
      c = item.flow.server.port === 445 ? new Smb2Connection() : new DcerpcConnection();
      connections.set(item.flow.id, c);
    }
    if (c instanceof Smb2Connection) {
      for (const e of c.push(item.direction, item.bytes).events)
        if (e.kind === 'rpc' && e.rpc.kind === 'call' && e.rpc.call.type === 'request') out.push(e.rpc.call);
    } else {
      for (const e of c.push(item.direction, item.bytes).events)
        if (e.kind === 'call' && e.call.type === 'request') out.push(e.call);
    }
  }
  return out;
}
