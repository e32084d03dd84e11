// userAccountControl decoding against the values Microsoft documents: the bits of MS-ADTS
// §2.2.16 and the typical defaults of the "UserAccountControl property flags" article.
import { describe, expect, it } from 'vitest';
import {
  accountControlFacts,
  accountControlFlags,
  decodeAccountControl,
} from './directory-account-control.ts';

describe('decodeAccountControl', () => {
  it('has the documented bit of every flag', () => {
    expect(accountControlFlags).toEqual({
      SCRIPT: 1,
      ACCOUNTDISABLE: 2,
      HOMEDIR_REQUIRED: 8,
      LOCKOUT: 16,
      PASSWD_NOTREQD: 32,
      PASSWD_CANT_CHANGE: 64,
      ENCRYPTED_TEXT_PWD_ALLOWED: 128,
      TEMP_DUPLICATE_ACCOUNT: 256,
      NORMAL_ACCOUNT: 512,
      INTERDOMAIN_TRUST_ACCOUNT: 2048,
      WORKSTATION_TRUST_ACCOUNT: 4096,
      SERVER_TRUST_ACCOUNT: 8192,
      DONT_EXPIRE_PASSWORD: 65536,
      MNS_LOGON_ACCOUNT: 131072,
      SMARTCARD_REQUIRED: 262144,
      TRUSTED_FOR_DELEGATION: 524288,
      NOT_DELEGATED: 1048576,
      USE_DES_KEY_ONLY: 2097152,
      DONT_REQ_PREAUTH: 4194304,
      PASSWORD_EXPIRED: 8388608,
      TRUSTED_TO_AUTH_FOR_DELEGATION: 16777216,
      NO_AUTH_DATA_REQUIRED: 33554432,
      PARTIAL_SECRETS_ACCOUNT: 67108864,
    });
  });

  it('reads the documented typical values', () => {
    // normal user 0x200, disabled user 0x202, workstation 0x1000, domain controller 0x82000
    expect(decodeAccountControl(0x200)).toEqual(['NORMAL_ACCOUNT']);
    expect(decodeAccountControl(0x202)).toEqual(['ACCOUNTDISABLE', 'NORMAL_ACCOUNT']);
    expect(decodeAccountControl(0x1000)).toEqual(['WORKSTATION_TRUST_ACCOUNT']);
    expect(decodeAccountControl(0x82000)).toEqual(['SERVER_TRUST_ACCOUNT', 'TRUSTED_FOR_DELEGATION']);
    expect(decodeAccountControl(0x10200)).toEqual(['NORMAL_ACCOUNT', 'DONT_EXPIRE_PASSWORD']);
    expect(decodeAccountControl(0x400200)).toEqual(['NORMAL_ACCOUNT', 'DONT_REQ_PREAUTH']);
  });

  it('merges the computed lockout and expiry bits and ignores unnamed bits', () => {
    expect(decodeAccountControl(0x200, 0x10 | 0x800000)).toEqual([
      'LOCKOUT',
      'NORMAL_ACCOUNT',
      'PASSWORD_EXPIRED',
    ]);
    expect(decodeAccountControl(0x200 | 0x4 | 0x400 | 0x8000_0000)).toEqual(['NORMAL_ACCOUNT']);
  });
});

describe('accountControlFacts', () => {
  it('reads enabled, pre-authentication, delegation and the account kind', () => {
    expect(accountControlFacts(decodeAccountControl(0x82000))).toEqual({
      enabled: true,
      preAuthRequired: true,
      unconstrainedDelegation: true,
      constrainedDelegationAnyProtocol: false,
      kind: 'domain-controller',
    });
    expect(accountControlFacts(decodeAccountControl(0x400202))).toEqual({
      enabled: false,
      preAuthRequired: false,
      unconstrainedDelegation: false,
      constrainedDelegationAnyProtocol: false,
      kind: 'user',
    });
    expect(accountControlFacts(decodeAccountControl(0x1001000)).kind).toBe('computer');
    expect(accountControlFacts(decodeAccountControl(0x1001000)).constrainedDelegationAnyProtocol).toBe(true);
  });
});
