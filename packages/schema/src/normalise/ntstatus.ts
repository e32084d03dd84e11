// NTSTATUS codes of failed Windows logons (4625 Status/SubStatus, 4776 Status) and the failure
// names Palisade reports for them in FailureReason. Codes: MS-ERREF §2.3.1.
import { hexValue } from './windows-fields.ts';

/** Failure names by NTSTATUS value. */
export const ntstatusFailures: Readonly<Record<number, string>> = {
  3221225578: 'WrongPassword', // STATUS_WRONG_PASSWORD
  3221225572: 'NoSuchUser', // STATUS_NO_SUCH_USER
  3221226036: 'AccountLocked', // STATUS_ACCOUNT_LOCKED_OUT
  3221225586: 'AccountDisabled', // STATUS_ACCOUNT_DISABLED
  3221225583: 'InvalidLogonHours', // STATUS_INVALID_LOGON_HOURS
  3221225584: 'InvalidWorkstation', // STATUS_INVALID_WORKSTATION
  3221225585: 'PasswordExpired', // STATUS_PASSWORD_EXPIRED
  3221225875: 'AccountExpired', // STATUS_ACCOUNT_EXPIRED
  3221226020: 'PasswordMustChange', // STATUS_PASSWORD_MUST_CHANGE
  3221225819: 'LogonTypeNotGranted', // STATUS_LOGON_TYPE_NOT_GRANTED
  3221225581: 'BadUserNameOrPassword', // STATUS_LOGON_FAILURE
};

/**
 * The failure name of an NTSTATUS as Windows prints it (`0xc000006a`, `0xC000006A`), else the
 * code in lower-case hex with 8 digits; text that is not hex comes back as it is.
 */
export function ntstatusFailure(status: string | undefined): string | undefined {
  const n = hexValue(status);
  if (n === undefined) return status;
  return ntstatusFailures[n] ?? `0x${n.toString(16).padStart(8, '0')}`;
}
