/**
 * Evidence helpers for agents (PROTOCOL §3): read or fetch workload-identity tokens, digest the
 * running artifact, load a Sigstore bundle, and obtain a TPM quote through tpm2-tools. Node only
 * (files and child processes); the agent client in `@mandate/sdk` takes their output as evidence.
 *
 * @example
 * ```ts
 * import { digestArtifact, requestServiceAccountToken } from '@mandate/sdk/evidence';
 * const evidence = async ({ audience }) => [
 *   { attestor: 'k8s-sa-token', evidence: await requestServiceAccountToken(audience) },
 *   { attestor: 'code-digest', evidence: { digest: await digestArtifact(process.argv[1]!) } },
 * ];
 * ```
 */
export { digestArtifact, type ArtifactDigest } from './artifact-digest.ts';
export { EvidenceSourceError, fetchJwtSvid, MAX_JWT_SVID_BYTES, readJwtSvid, type FetchJwtSvidOptions, type ReadJwtSvidOptions } from './jwt-svid.ts';
export {
  IN_CLUSTER_CREDENTIALS_DIR, PROJECTED_TOKEN_PATH, readServiceAccountToken, requestServiceAccountToken, serviceAccountTokenRequestBody,
  type BoundPod, type ServiceAccountTokenRequestOptions, type TokenRequestBody,
} from './service-account-token.ts';
export { loadSigstoreBundle, sigstoreEvidence, type SigstoreBundle } from './sigstore-bundle.ts';
export { activateCredential, obtainTpmQuote, readImaEventLog, type ActivateCredentialOptions, type TpmEvent, type TpmQuoteEvidence, type TpmQuoteOptions } from './tpm-quote.ts';
export { parsePcrs } from './tpm-quote.ts';
