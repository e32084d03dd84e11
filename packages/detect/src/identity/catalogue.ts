// The identity detectors Palisade runs, in external-id order. Registries are plain lists.
import { accountEnumerationDetector } from './account-enumeration-detector.ts';
import { asrepRoastingDetector } from './asrep-roasting-detector.ts';
import { bruteForceDetector, ldapBruteForceDetector } from './brute-force-detector.ts';
import { dcsyncDetector } from './dcsync-detector.ts';
import type { IdentityDetector } from './detector.ts';
import {
  goldenTicketNonexistentAccountDetector,
  goldenTicketTimeAnomalyDetector,
} from './golden-ticket-detector.ts';
import { honeytokenAuthDetector } from './honeytoken-auth-detector.ts';
import { kerberoastingDetector } from './kerberoasting-detector.ts';
import { passTheHashDetector } from './pass-the-hash-detector.ts';
import { sensitiveGroupDetector } from './sensitive-group-detector.ts';

export const identityDetectors: readonly IdentityDetector[] = [
  accountEnumerationDetector,
  asrepRoastingDetector,
  goldenTicketNonexistentAccountDetector,
  goldenTicketTimeAnomalyDetector,
  honeytokenAuthDetector,
  kerberoastingDetector,
  passTheHashDetector,
  ldapBruteForceDetector,
  dcsyncDetector,
  bruteForceDetector,
  sensitiveGroupDetector,
].sort((a, b) => a.meta.externalId - b.meta.externalId);
