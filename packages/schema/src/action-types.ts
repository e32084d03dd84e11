// ActionType values of the Identity tables, with the portal's casing (the monitored activities
// of Defender for Identity), and the values Palisade adds where Microsoft names none. Normalisers
// write them; detectors and hunting queries read them.

/** IdentityLogonEvents */
export const LogonAction = {
  success: 'LogonSuccess',
  failure: 'LogonFailed',
} as const;

/** IdentityQueryEvents */
export const QueryAction = {
  ldap: 'LDAP query',
  samr: 'SAMR query',
  dns: 'DNS query',
  smbSessionEnumeration: 'SMB session enumeration',
} as const;

/** IdentityDirectoryEvents */
export const DirectoryAction = {
  replication: 'Directory Services replication',
  serviceCreation: 'Service creation',
  groupMembership: 'Group Membership changed',
  passwordChanged: 'Account Password changed',
  samNameChanged: 'SAM Account Name changed',
  upnChanged: 'Account UPN Name changed',
  disabledChanged: 'Account Disabled changed',
  lockedChanged: 'Account Locked changed',
  userCreated: 'User Account Created',
  computerCreated: 'Computer Account Created',
  principalDeleted: 'Security Principal Deleted changed',
  sidHistoryChanged: 'SID-History changed',
  delegationChanged: 'Account Delegation changed',
  encryptionTypesChanged: 'Account Supported Encryption Types changed',
  taskScheduling: 'Task scheduling',
  // Palisade's own, where Microsoft names no activity:
  attributeChanged: 'Directory attribute changed',
  objectCreated: 'Directory object created',
  objectDeleted: 'Directory object deleted',
  objectAccess: 'Directory object access',
  dsrmPasswordChanged: 'Directory Services Restore Mode password changed',
  shareAccess: 'SMB share access',
  netlogonDenied: 'Netlogon secure channel denied',
  netlogonVulnerableAllowed: 'Netlogon vulnerable secure channel allowed',
  serviceChanged: 'Service configuration changed',
  efsrpcCall: 'EFSRPC call',
  dfsnmCall: 'DFSNM call',
} as const;
