// The one error of the instance PKI: thrown while opening or creating the CA, the server
// certificate or the revocation list, never for a sensor's bad CSR (that is a result value).

export const pkiErrorCodes = [
  'pki/ca-exists',
  'pki/ca-missing',
  'pki/ca-incomplete',
  'pki/file-unreadable',
  'pki/ca-mismatch',
  'pki/ca-expired',
  'pki/key-locked',
  'pki/wrong-passphrase',
  'pki/key-file-exposed',
  'pki/bad-instance-name',
  'pki/bad-host',
  'pki/bad-sensor-id',
  'pki/bad-serial-number',
  'pki/revocations-unreadable',
] as const;
export type PkiErrorCode = (typeof pkiErrorCodes)[number];

/** Why the PKI directory could not be opened or used; the message names the file. */
export class PkiError extends Error {
  readonly code: PkiErrorCode;

  constructor(code: PkiErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PkiError';
    this.code = code;
  }
}
