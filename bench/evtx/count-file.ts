// Streams one EVTX file through @palisade/evtx and counts what it yields: the unit of work of
// both Palisade modes.
import { readEvtxChunks } from '@palisade/evtx';

/** What one file yielded. */
export interface FileCount {
  readonly events: number;
  readonly recovered: number;
}

/** Parses `path` chunk by chunk (never the whole file in memory) and counts its events. */
export async function countFile(path: string): Promise<FileCount> {
  const chunks = readEvtxChunks(path);
  let events = 0;
  for (;;) {
    const next = await chunks.next();
    if (next.done) return { events, recovered: next.value.recovered };
    events += next.value.length;
  }
}
