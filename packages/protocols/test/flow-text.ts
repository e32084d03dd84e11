// One line of text per flow item, so tests can compare a whole pipeline's output at once.
import type { FlowItem } from '../src/index.ts';

const printable = (bytes: Uint8Array) =>
  Array.from(bytes, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');

export function flowItemText(item: FlowItem): string {
  const at = `[frame ${item.frame} t=${item.timestampUs}]`;
  switch (item.kind) {
    case 'udp':
      return `udp ${item.src.ip}:${item.src.port} → ${item.dst.ip}:${item.dst.port} "${printable(item.payload)}" ${at}`;
    case 'open': {
      const { id, client, server, roles } = item.flow;
      return `open #${id} ${client.ip}:${client.port} → ${server.ip}:${server.port} (${roles}) ${at}`;
    }
    case 'data':
      return `data #${item.flow.id} ${item.direction} @${item.offset} "${printable(item.bytes)}" ${at}`;
    case 'gap':
      return `gap #${item.flow.id} ${item.direction} @${item.offset} +${item.length} ${at}`;
    case 'close':
      return `close #${item.flow.id} ${item.reason} ${at}`;
  }
}
