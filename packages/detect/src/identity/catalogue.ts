// The identity detectors Palisade runs, in external-id order. Registries are plain lists.

import { accountEnumerationDetector } from './account-enumeration-detector.ts';
import { adminSdHolderDetector } from './adminsdholder-detector.ts';
import { asrepRoastingDetector } from './asrep-roasting-detector.ts';
import { bruteForceDetector, ldapBruteForceDetector, smbBruteForceDetector } from './brute-force-detector.ts';
import { dfsCoerceDetector, efsrpcCoercionDetector } from './coercion-detector.ts';
import { dcShadowPromotionDetector, dcShadowReplicationDetector } from './dcshadow-detector.ts';
import { dcsyncDetector } from './dcsync-detector.ts';
import type { IdentityDetector } from './detector.ts';
import { dnsReconDetector } from './dns-recon-detector.ts';
import { dsrmDetector } from './dsrm-detector.ts';
import { goldenTicketDowngradeDetector, overPassTheHashDetector } from './encryption-downgrade-detector.ts';
import {
  goldenTicketNonexistentAccountDetector,
  goldenTicketTimeAnomalyDetector,
} from './golden-ticket-detector.ts';
import { gpoTamperingDetector } from './gpo-tampering-detector.ts';
import { honeytokenAuthDetector } from './honeytoken-auth-detector.ts';
import { honeytokenChangeDetector, honeytokenGroupDetector } from './honeytoken-change-detector.ts';
import { kerberoastingDetector } from './kerberoasting-detector.ts';
import { ldapAttributeReconDetector, ldapPrincipalReconDetector } from './ldap-recon-detector.ts';
import { passTheHashDetector } from './pass-the-hash-detector.ts';
import { rbcdDetector } from './rbcd-detector.ts';
import { remoteExecutionDetector } from './remote-execution-detector.ts';
import { samNameSpoofingDetector } from './samname-spoofing-detector.ts';
import { samrHoneytokenDetector, samrReconDetector } from './samr-recon-detector.ts';
import { sensitiveGroupDetector } from './sensitive-group-detector.ts';
import { serviceCreationDetector } from './service-creation-detector.ts';
import { shadowCredentialsDetector } from './shadow-credentials-detector.ts';
import { sidHistoryDetector } from './sid-history-detector.ts';
import { smbSessionEnumerationDetector } from './smb-session-enum-detector.ts';
import { zerologonDetector } from './zerologon-detector.ts';

export const identityDetectors: readonly IdentityDetector[] = [
  adminSdHolderDetector,
  dcShadowPromotionDetector,
  dcShadowReplicationDetector,
  dsrmDetector,
  gpoTamperingDetector,
  honeytokenChangeDetector,
  honeytokenGroupDetector,
  rbcdDetector,
  samNameSpoofingDetector,
  serviceCreationDetector,
  shadowCredentialsDetector,
  sidHistoryDetector,
  zerologonDetector,
  accountEnumerationDetector,
  asrepRoastingDetector,
  goldenTicketNonexistentAccountDetector,
  goldenTicketTimeAnomalyDetector,
  honeytokenAuthDetector,
  kerberoastingDetector,
  ldapAttributeReconDetector,
  ldapPrincipalReconDetector,
  samrReconDetector,
  samrHoneytokenDetector,
  passTheHashDetector,
  ldapBruteForceDetector,
  dcsyncDetector,
  dnsReconDetector,
  overPassTheHashDetector,
  goldenTicketDowngradeDetector,
  bruteForceDetector,
  smbBruteForceDetector,
  sensitiveGroupDetector,
  remoteExecutionDetector,
  smbSessionEnumerationDetector,
  efsrpcCoercionDetector,
  dfsCoerceDetector,
].sort((a, b) => a.meta.externalId - b.meta.externalId);
