// Revoked sensor certificates. Deleting a sensor revokes its certificate's serial number here;
// every mTLS request checks the list (verifySensorPeer), so the sensor is refused at once. The
// server backs the list with its state store; FileRevocationStore keeps it in a JSON file.

import { PkiError } from './pki-error.ts';
import { pkiFileModes, readOptionalFile, replaceFile } from './pki-files.ts';

/** The revocation list as the TLS layer sees it. */
export interface RevocationStore {
  /** Synchronous because it runs on every sensor request; implementations answer from memory. */
  isRevoked(serialNumber: string): boolean;
  /** Resolves once the revocation is durable; revoking twice keeps the first time. */
  revoke(serialNumber: string, at: Date): Promise<void>;
}

/** One revoked certificate. */
export interface RevokedCertificate {
  /** Upper-case hex, no leading zeros. */
  readonly serialNumber: string;
  /** ISO 8601. */
  readonly revokedAt: string;
}

/**
 * The one form of a serial number: upper-case hex without separators or leading zeros, as the
 * CA issues them (`0a:1B` → `A1B`). Anything that is not hex is a bug in the caller.
 */
export function normalizeSerialNumber(serialNumber: string): string {
  const hex = serialNumber.replace(/[\s:]/g, '').toUpperCase();
  if (!/^[0-9A-F]+$/.test(hex)) {
    throw new PkiError(
      'pki/bad-serial-number',
      `expected a hexadecimal serial number, found ${serialNumber}`,
    );
  }
  return hex.replace(/^0+(?=.)/, '');
}

interface RevocationFile {
  readonly version: 1;
  readonly revoked: readonly RevokedCertificate[];
}

/** A revocation list in one JSON file, replaced whole on every change. */
export class FileRevocationStore implements RevocationStore {
  readonly #path: string;
  readonly #revoked: Map<string, string>;
  #writes: Promise<void> = Promise.resolve();

  private constructor(path: string, revoked: Map<string, string>) {
    this.#path = path;
    this.#revoked = revoked;
  }

  /** Opens the list at `path` (empty when the file does not exist yet). */
  static async open(path: string): Promise<FileRevocationStore> {
    const text = await readOptionalFile(path);
    const revoked = new Map<string, string>();
    if (text !== undefined) {
      for (const entry of parseRevocationFile(text, path).revoked) {
        revoked.set(normalizeSerialNumber(entry.serialNumber), entry.revokedAt);
      }
    }
    return new FileRevocationStore(path, revoked);
  }

  isRevoked(serialNumber: string): boolean {
    return this.#revoked.has(normalizeSerialNumber(serialNumber));
  }

  revoke(serialNumber: string, at: Date): Promise<void> {
    const serial = normalizeSerialNumber(serialNumber);
    if (this.#revoked.has(serial)) return this.#writes;
    // In memory first: refused from this moment, even if writing the file fails and is retried.
    this.#revoked.set(serial, at.toISOString());
    const file: RevocationFile = { version: 1, revoked: this.list() };
    // Writes run one after another, so an older list never replaces a newer one.
    // A failed earlier write was reported to its caller; this write carries its entry too.
    this.#writes = this.#writes
      .catch(() => undefined)
      .then(() => replaceFile(this.#path, `${JSON.stringify(file, null, 2)}\n`, pkiFileModes.certificate));
    return this.#writes;
  }

  /** Every revoked certificate, oldest first. */
  list(): readonly RevokedCertificate[] {
    return [...this.#revoked].map(([serialNumber, revokedAt]) => ({ serialNumber, revokedAt }));
  }
}

function parseRevocationFile(text: string, path: string): RevocationFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new PkiError('pki/revocations-unreadable', `${path} is not JSON`, { cause });
  }
  const file = value as Partial<RevocationFile> | null;
  const valid =
    file?.version === 1 && Array.isArray(file.revoked) && file.revoked.every(isRevokedCertificate);
  if (!valid) {
    // Fail closed: a list that cannot be read must not let revoked sensors back in.
    throw new PkiError('pki/revocations-unreadable', `${path}: expected { version: 1, revoked: [...] }`);
  }
  return file as RevocationFile;
}

function isRevokedCertificate(entry: unknown): entry is RevokedCertificate {
  if (typeof entry !== 'object' || entry === null) return false;
  const { serialNumber, revokedAt } = entry as Record<string, unknown>;
  return (
    typeof serialNumber === 'string' && /^[0-9A-Fa-f]+$/.test(serialNumber) && typeof revokedAt === 'string'
  );
}
