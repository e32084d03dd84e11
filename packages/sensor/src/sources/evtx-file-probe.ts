// A cheap look at an EVTX file before parsing it: the header's next record id (is anything new
// past a checkpoint?) and whether its chunks wrap (a full circular log, where file order is not
// record order). Reads the file header and 40 bytes per chunk (MS-EVEN6 §2.2.1, §2.2.2).
import { open } from 'node:fs/promises';
import { CHUNK_SIZE, FILE_HEADER_SIZE, readFileHeader } from '@palisade/evtx';

/** What the headers of an EVTX file say about its records. */
export interface EvtxFileProbe {
  /** The header's next record identifier; undefined when the header is unreadable. */
  readonly nextRecordId: number | undefined;
  /** The file was not closed cleanly: records may lie past what the header counts. */
  readonly dirty: boolean;
  /** Some chunk starts with a lower record id than the chunk before it. */
  readonly wrapped: boolean;
}

// "ElfChnk\0"
const chunkMagic = Buffer.from('456c6643686e6b00', 'hex');

/** Reads the file header and each chunk's first record id. */
export async function probeEvtxFile(path: string): Promise<EvtxFileProbe> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const header = Buffer.alloc(Math.min(size, FILE_HEADER_SIZE));
    await handle.read(header, 0, header.length, 0);
    const parsed = readFileHeader(header);
    const head = Buffer.alloc(40);
    let previous = -1;
    let wrapped = false;
    for (let offset = FILE_HEADER_SIZE; offset + head.length <= size && !wrapped; offset += CHUNK_SIZE) {
      const { bytesRead } = await handle.read(head, 0, head.length, offset);
      if (bytesRead < head.length || !head.subarray(0, 8).equals(chunkMagic)) continue;
      const first = Number(head.readBigUInt64LE(24));
      wrapped = first < previous;
      previous = first;
    }
    return { nextRecordId: parsed?.nextRecordId, dirty: parsed?.dirty ?? true, wrapped };
  } finally {
    await handle.close();
  }
}
