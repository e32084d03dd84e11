// Files of the PKI directory. Every write goes to a temporary file first and is then renamed
// (or linked, when it must not replace anything), so a crash never leaves half a key. Private
// keys are PKCS#8 PEM with mode 0600, encrypted when the instance has a key passphrase.

import { createPrivateKey, type KeyObject, randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PkiError } from './pki-error.ts';

/** The files the PKI keeps in its directory (for example `<data>/pki`). */
export const pkiFileNames = {
  caCertificate: 'ca.pem',
  caKey: 'ca.key',
  serverCertificate: 'server.pem',
  serverKey: 'server.key',
} as const;

/** Permissions of what the PKI writes: the directory and keys are the owner's alone. */
export const pkiFileModes = { directory: 0o700, privateKey: 0o600, certificate: 0o644 } as const;

const encryptedPemLabel = '-----BEGIN ENCRYPTED PRIVATE KEY-----';

/** Creates the PKI directory (mode 0700) when it does not exist yet. */
export async function ensurePkiDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: pkiFileModes.directory });
}

async function writeTemporary(path: string, data: string, mode: number): Promise<string> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  // The mode is given at creation, so the key is never readable by others, not even briefly.
  const handle = await open(temporary, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return temporary;
}

/** Writes a file that must not exist yet; rejects with `EEXIST` rather than replace one. */
export async function createFileExclusive(path: string, data: string, mode: number): Promise<void> {
  const temporary = await writeTemporary(path, data, mode);
  try {
    await link(temporary, path);
  } finally {
    await rm(temporary, { force: true });
  }
}

/** Replaces a file whole: readers see the old content or the new, never a mix. */
export async function replaceFile(path: string, data: string, mode: number): Promise<void> {
  const temporary = await writeTemporary(path, data, mode);
  try {
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** Reads a text file, or `undefined` when it does not exist. */
export async function readOptionalFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

function isNotFound(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}

/** PKCS#8 PEM of a private key; encrypted (AES-256-CBC, PBKDF2) when a passphrase is given. */
export function encodePrivateKey(key: KeyObject, passphrase: string | undefined): string {
  const pem = passphrase
    ? key.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase })
    : key.export({ type: 'pkcs8', format: 'pem' });
  return pem.toString();
}

/** A private key read from disk, and whether the file was encrypted. */
export interface StoredPrivateKey {
  readonly key: KeyObject;
  readonly encrypted: boolean;
}

/**
 * Reads a private key file, refusing one that others may read (like ssh does) and one that is
 * encrypted when no passphrase is configured. `undefined` when the file does not exist.
 */
export async function readPrivateKey(
  path: string,
  passphrase: string | undefined,
): Promise<StoredPrivateKey | undefined> {
  const pem = await readOptionalFile(path);
  if (pem === undefined) return undefined;
  // Windows has no POSIX modes; there the data directory's ACL is the protection.
  const { mode } = await stat(path);
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new PkiError(
      'pki/key-file-exposed',
      `private key ${path} has mode ${(mode & 0o777).toString(8)}, expected 600 (run chmod 600 on it)`,
    );
  }
  const encrypted = pem.includes(encryptedPemLabel);
  if (encrypted && !passphrase) {
    throw new PkiError(
      'pki/key-locked',
      `private key ${path} is encrypted and no key passphrase is configured`,
    );
  }
  try {
    return { key: createPrivateKey(passphrase ? { key: pem, passphrase } : { key: pem }), encrypted };
  } catch (cause) {
    if (encrypted) {
      throw new PkiError(
        'pki/wrong-passphrase',
        `private key ${path} does not open with the configured passphrase`,
        {
          cause,
        },
      );
    }
    throw new PkiError('pki/file-unreadable', `private key ${path} is not a PKCS#8 PEM key`, { cause });
  }
}
