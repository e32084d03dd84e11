// The userAccountControl bits of an Active Directory account, as the flag names administrators
// know them, and what the directory sync derives from them (enabled, pre-authentication,
// delegation). Bit values: MS-ADTS §2.2.16; names: Microsoft's "UserAccountControl property
// flags" list.

/** MS-ADTS §2.2.16 userAccountControl bits, by flag name. */
export const accountControlFlags = {
  SCRIPT: 0x0000_0001,
  ACCOUNTDISABLE: 0x0000_0002,
  HOMEDIR_REQUIRED: 0x0000_0008,
  LOCKOUT: 0x0000_0010,
  PASSWD_NOTREQD: 0x0000_0020,
  PASSWD_CANT_CHANGE: 0x0000_0040,
  ENCRYPTED_TEXT_PWD_ALLOWED: 0x0000_0080,
  TEMP_DUPLICATE_ACCOUNT: 0x0000_0100,
  NORMAL_ACCOUNT: 0x0000_0200,
  INTERDOMAIN_TRUST_ACCOUNT: 0x0000_0800,
  WORKSTATION_TRUST_ACCOUNT: 0x0000_1000,
  SERVER_TRUST_ACCOUNT: 0x0000_2000,
  DONT_EXPIRE_PASSWORD: 0x0001_0000,
  MNS_LOGON_ACCOUNT: 0x0002_0000,
  SMARTCARD_REQUIRED: 0x0004_0000,
  TRUSTED_FOR_DELEGATION: 0x0008_0000,
  NOT_DELEGATED: 0x0010_0000,
  USE_DES_KEY_ONLY: 0x0020_0000,
  DONT_REQ_PREAUTH: 0x0040_0000,
  PASSWORD_EXPIRED: 0x0080_0000,
  TRUSTED_TO_AUTH_FOR_DELEGATION: 0x0100_0000,
  NO_AUTH_DATA_REQUIRED: 0x0200_0000,
  PARTIAL_SECRETS_ACCOUNT: 0x0400_0000,
} as const;

export type AccountControlFlag = keyof typeof accountControlFlags;

const flagEntries = Object.entries(accountControlFlags) as [AccountControlFlag, number][];

/**
 * The flag names set in a userAccountControl value, in bit order; `computed` is
 * msDS-User-Account-Control-Computed, where the directory reports LOCKOUT and PASSWORD_EXPIRED
 * (MS-ADTS §3.1.1.4.5.17), merged in. Bits without a name are left out.
 *
 * @example decodeAccountControl(514) // ['ACCOUNTDISABLE', 'NORMAL_ACCOUNT']
 */
export function decodeAccountControl(value: number, computed = 0): AccountControlFlag[] {
  const bits = (value | computed) >>> 0;
  return flagEntries.filter(([, bit]) => (bits & bit) !== 0).map(([name]) => name);
}

/** What the sync reads from the flags of one account. */
export interface AccountControlFacts {
  readonly enabled: boolean;
  readonly preAuthRequired: boolean;
  readonly unconstrainedDelegation: boolean;
  readonly constrainedDelegationAnyProtocol: boolean;
  readonly kind: 'user' | 'computer' | 'domain-controller' | 'trust';
}

/** Reads the facts the identity detectors use from a set of flags. */
export function accountControlFacts(flags: readonly AccountControlFlag[]): AccountControlFacts {
  const has = new Set(flags);
  return {
    enabled: !has.has('ACCOUNTDISABLE'),
    preAuthRequired: !has.has('DONT_REQ_PREAUTH'),
    unconstrainedDelegation: has.has('TRUSTED_FOR_DELEGATION'),
    constrainedDelegationAnyProtocol: has.has('TRUSTED_TO_AUTH_FOR_DELEGATION'),
    kind: has.has('SERVER_TRUST_ACCOUNT')
      ? 'domain-controller'
      : has.has('WORKSTATION_TRUST_ACCOUNT')
        ? 'computer'
        : has.has('INTERDOMAIN_TRUST_ACCOUNT')
          ? 'trust'
          : 'user',
  };
}
