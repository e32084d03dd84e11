// The directory sync source: every interval it connects to a domain controller over LDAP/LDAPS
// with the directory service account and delivers the users, computers and groups that changed
// since its checkpoint as IdentityInfo rows (directory-sync.ts plans the pass). An unreachable
// DC or refused credentials become health issues and the source retries with backoff; the
// sensitive entities of the last pass are kept for whoever detects on them.
import { setTimeout as sleep } from 'node:timers/promises';
import { chunkLimits, type Source, type SourceChunk, type SourceContext } from '../source.ts';
import {
  type DirectoryConnectionOptions,
  DirectoryError,
  type DirectoryErrorCode,
  type DirectoryReader,
  openDirectory,
} from './directory-ldap.ts';
import type { SensitiveEntity } from './directory-membership.ts';
import { type DirectoryCheckpoint, passChunks, planSyncPass } from './directory-sync.ts';

/** Settings of one directory sync source. */
export interface DirectorySourceOptions extends DirectoryConnectionOptions {
  /** Seconds between passes (default 300). */
  readonly intervalSeconds?: number;
  /** Extra sensitive groups, by name or SID, beyond the built-in ones. */
  readonly sensitiveGroups?: readonly string[];
  /** Backoff after a failure: first wait and ceiling, in milliseconds (default 1 s and 5 min). */
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
  /** Objects per chunk (default chunkLimits.maxChunkRecords). */
  readonly maxChunkRecords?: number;
  /** Told the sensitive entities after every pass. */
  readonly onSensitiveEntities?: (entities: readonly SensitiveEntity[]) => void;
  /** How to open the directory (tests replace it). */
  readonly open?: (options: DirectoryConnectionOptions, signal: AbortSignal) => Promise<DirectoryReader>;
}

/**
 * Directory sync over LDAP: full on the first run, then incremental by uSNChanged.
 *
 * @example
 * const source = new DirectorySource({ url: 'ldaps://dc1.corp.example', bindDn: 'svc-sync@corp.example',
 *   password, caFile: '/etc/palisade/dc-ca.pem' });
 */
export class DirectorySource implements Source<DirectoryCheckpoint> {
  readonly id: string;
  private readonly options: DirectorySourceOptions;
  private entities: readonly SensitiveEntity[] = [];

  constructor(options: DirectorySourceOptions) {
    this.options = options;
    this.id = `directory:${options.url}`;
  }

  /** The members, direct or nested, of the sensitive groups as of the last completed pass. */
  sensitiveEntities(): readonly SensitiveEntity[] {
    return this.entities;
  }

  async *run(
    from: DirectoryCheckpoint | undefined,
    context: SourceContext,
  ): AsyncGenerator<SourceChunk<DirectoryCheckpoint>> {
    const { signal } = context;
    const open = this.options.open ?? openDirectory;
    const interval = (this.options.intervalSeconds ?? 300) * 1000;
    const initial = this.options.retryInitialMs ?? 1_000;
    const ceiling = this.options.retryMaxMs ?? 300_000;
    const raised = new Set<DirectoryErrorCode>();
    let checkpoint = from;
    let failures = 0;
    while (!signal.aborted) {
      let reader: DirectoryReader | undefined;
      let wait = interval;
      try {
        reader = await open(this.options, signal);
        const pass = await planSyncPass(reader, checkpoint, this.options.sensitiveGroups);
        const { identity } = reader;
        // everything is read: the connection is not held while the buffer takes the chunks
        await reader.close();
        reader = undefined;
        for (const chunk of passChunks(
          pass,
          checkpoint,
          identity,
          this.options.maxChunkRecords ?? chunkLimits.maxChunkRecords,
        )) {
          yield chunk;
          checkpoint = chunk.checkpoint;
        }
        this.entities = pass.sensitive;
        this.options.onSensitiveEntities?.(pass.sensitive);
        failures = 0;
        for (const code of raised) context.clearHealth(code);
        raised.clear();
      } catch (error) {
        if (signal.aborted) return;
        if (!(error instanceof DirectoryError)) throw error;
        wait = Math.min(ceiling, initial * 2 ** failures);
        failures++;
        // the newest problem replaces the older ones (an unreachable DC says nothing of a bind)
        for (const code of raised) if (code !== error.code) context.clearHealth(code);
        raised.clear();
        raised.add(error.code);
        context.health({
          code: error.code,
          message: error.message,
          details: { url: this.options.url, failures, retryInSeconds: wait / 1000 },
        });
      } finally {
        await reader?.close();
      }
      try {
        await sleep(wait, undefined, { signal });
      } catch {
        return; // aborted while waiting: the sensor is stopping
      }
    }
  }
}
