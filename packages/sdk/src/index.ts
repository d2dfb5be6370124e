/**
 * Mandate SDK: the agent client (attest, ask, wait for approval, keep DPoP-bound tokens fresh,
 * call APIs) and the resource-server verifier. Runtime dependency: `jose` only.
 *
 * @module
 */
export * from './protocol/index.ts';
export * from './errors.ts';

export { createAgentClient, type AgentClient } from './agent/client.ts';
export type { AgentClientOptions } from './agent/options.ts';
export { evidenceAudience, type AttestationResult, type Challenge, type EvidenceBinding, type EvidenceItem, type EvidenceProvider } from './agent/attest.ts';
export type { ApprovedMandate, AskOptions, BackchannelRequest, TaskRequest } from './agent/ciba.ts';
export type { WaitOptions } from './agent/wait.ts';
export type { TokenSet } from './agent/tokens.ts';
export type { BrokerEndpoints } from './agent/metadata.ts';
export type { DpopFetchInit } from './agent/dpop-fetch.ts';
export type { Clock } from './agent/clock.ts';

export { createVerifier, type RequestParts, type VerifiedRequest, type Verifier } from './resource/verifier.ts';
export type { IntrospectionOptions, VerifierOptions } from './resource/options.ts';
export type { AccessTokenClaims } from './resource/access-token.ts';
export { VerifierError, VERIFIER_ERRORS, type VerifierErrorCode } from './resource/errors.ts';
export { requireAction, type ActionNeeds } from './resource/require-action.ts';
export { protectedResourceMetadata, type ProtectedResourceMetadataInput } from './resource/metadata.ts';
export { createMemoryReplayCache, type ReplayCache } from './resource/replay-cache.ts';
export { normalizeHtu } from './resource/htu.ts';
export { nodeHttpAdapter, type NodeRequestLike, type NodeResponseLike } from './resource/node-http.ts';
export type { HeaderBag } from './util/headers.ts';
export type { DelegateOptions, SubGrant } from './agent/sub-grant.ts';
