// Kerberos error codes of the KDC's audit events (4768, 4769, 4770, 4771 Status) and the failure
// names Palisade reports for them in FailureReason. Codes: RFC 4120 §7.5.9.
import { hexValue } from './windows-fields.ts';

/** Failure names by Kerberos error code. */
export const kerberosFailures: Readonly<Record<number, string>> = {
  6: 'PrincipalUnknown', // KDC_ERR_C_PRINCIPAL_UNKNOWN
  14: 'UnsupportedEncryptionType', // KDC_ERR_ETYPE_NOSUPP
  18: 'AccountDisabledOrLocked', // KDC_ERR_CLIENT_REVOKED
  23: 'PasswordExpired', // KDC_ERR_KEY_EXPIRED
  24: 'WrongPassword', // KDC_ERR_PREAUTH_FAILED
  25: 'PreauthRequired', // KDC_ERR_PREAUTH_REQUIRED
  31: 'IntegrityCheckFailed', // KRB_AP_ERR_BAD_INTEGRITY
  32: 'TicketExpired', // KRB_AP_ERR_TKT_EXPIRED
  37: 'ClockSkew', // KRB_AP_ERR_SKEW
  44: 'KeyVersionNotAvailable', // KRB_AP_ERR_BADKEYVER
};

/**
 * The failure name of a Kerberos error code as Windows prints it (`0x18`, `0x00000018`), else
 * the code in lower-case hex without leading zeros; text that is not hex comes back as it is.
 */
export function kerberosFailure(status: string | undefined): string | undefined {
  const n = hexValue(status);
  if (n === undefined) return status;
  return kerberosFailures[n] ?? `0x${n.toString(16)}`;
}
