import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { K8S_SA_TOKEN_ERRORS } from '../src/core/attestor-errors/k8s-sa-token.ts';
import { SIGSTORE_ERRORS } from '../src/core/attestor-errors/sigstore.ts';
import { SPIFFE_JWT_SVID_ERRORS } from '../src/core/attestor-errors/spiffe-jwt-svid.ts';
import { TPM_QUOTE_ERRORS } from '../src/core/attestor-errors/tpm-quote.ts';
import { ERROR_CATALOGUE, type ErrorCode } from '../src/core/errors.ts';

/**
 * Where each catalogue code is triggered over HTTP: the test file and title. The named test must
 * exist and mention the code after its title (it asserts the status and RFC error the code maps
 * to, or the problem's `code` on the admin API; attestation-result codes travel as `mandate_error`,
 * attestor and policy codes as the reasons of the audited `attestation.rejected` event). Codes no
 * HTTP request can reach say why.
 */
type Where = { file: string; test: string } | { unreachable: string };

const ADMIN = 'admin-api-errors.test.ts';
const AUTH = 'admin-api-auth.test.ts';
const MANDATES = 'admin-api-mandates.test.ts';
const RULES = 'protocol-rules.test.ts';
const LOOP = 'core-loop.test.ts';
const MULTI = 'multi-attestation.test.ts';
const HOPS = 'sub-agents.test.ts';
const PUSH = 'revocation-push.test.ts';
const at = (file: string, title: string): Where => ({ file, test: title });

const WHERE = {
  ERR_REQUEST_BODY_TOO_LARGE: at(ADMIN, 'a body over server.bodyLimitBytes (ERR_REQUEST_BODY_TOO_LARGE)'),
  ERR_REQUEST_CONTENT_TYPE: at(ADMIN, 'a form body where JSON is expected (ERR_REQUEST_CONTENT_TYPE)'),
  ERR_REQUEST_MALFORMED_BODY: at(ADMIN, 'invalid JSON (ERR_REQUEST_MALFORMED_BODY)'),
  ERR_REQUEST_DUPLICATE_PARAMETER: at(ADMIN, 'a member twice (ERR_REQUEST_DUPLICATE_PARAMETER)'),
  ERR_REQUEST_MISSING_PARAMETER: at(ADMIN, 'a required member missing (ERR_REQUEST_MISSING_PARAMETER)'),
  ERR_REQUEST_INVALID_PARAMETER: at(ADMIN, 'an unknown member (ERR_REQUEST_INVALID_PARAMETER)'),
  ERR_REQUEST_NOT_FOUND: at(ADMIN, 'an unknown admin path (ERR_REQUEST_NOT_FOUND)'),
  ERR_REQUEST_METHOD_NOT_ALLOWED: at(ADMIN, 'a method the path does not serve (ERR_REQUEST_METHOD_NOT_ALLOWED)'),
  ERR_RATE_LIMITED: at('rate-limits.test.ts', 'a client over its budget gets 429 slow_down with Retry-After (ERR_RATE_LIMITED)'),
  ERR_ADMIN_UNAUTHENTICATED: at(AUTH, '401 without a token, with a Bearer challenge'),
  ERR_ADMIN_FORBIDDEN: at(AUTH, '403 with a token lacking ${route.right}'),
  ERR_HUMAN_NOT_FOUND: at(ADMIN, 'an unknown human (ERR_HUMAN_NOT_FOUND)'),
  ERR_HUMAN_DISABLED: at(ADMIN, 'a token for a disabled human (ERR_HUMAN_DISABLED)'),
  ERR_AGENT_NOT_FOUND: at(ADMIN, 'an unknown agent (ERR_AGENT_NOT_FOUND)'),
  ERR_AGENT_NAME_TAKEN: at(ADMIN, 'an agent name already registered (ERR_AGENT_NAME_TAKEN)'),
  ERR_AGENT_STATE: at(ADMIN, 'suspending a suspended agent (ERR_AGENT_STATE)'),
  ERR_AGENT_OWNER_REQUIRED: at(ADMIN, 'an agent without owners (ERR_AGENT_OWNER_REQUIRED)'),
  ERR_AGENT_POLICY_UNKNOWN: at(ADMIN, 'an attestation policy not in the config (ERR_AGENT_POLICY_UNKNOWN)'),
  ERR_AGENT_JWK_INVALID: at(ADMIN, 'a private key as the agent key (ERR_AGENT_JWK_INVALID)'),
  ERR_AGENT_HUMAN_UNKNOWN: at(ADMIN, 'an owner who is not a known human (ERR_AGENT_HUMAN_UNKNOWN)'),
  ERR_AGENT_HUMAN_DISABLED: at(ADMIN, 'a disabled owner (ERR_AGENT_HUMAN_DISABLED)'),
  ERR_TOKEN_NOT_FOUND: at(ADMIN, 'revoking an unknown admin token (ERR_TOKEN_NOT_FOUND)'),
  ERR_TOKEN_RIGHTS_EXCEEDED: at(ADMIN, 'granting a right the caller lacks (ERR_TOKEN_RIGHTS_EXCEEDED)'),
  ERR_ROLE_RIGHTS_EXCEEDED: at('console-auth.test.ts', 'a humans:write token cannot grant roles whose rights exceed its own, not even to its own human (ERR_ROLE_RIGHTS_EXCEEDED)'),
  ERR_KEYS_NO_SIGNING_KEY: {
    unreachable: 'createApp ensures a signing key before serving, and a rotation keeps the active key until its successor activates; keys/key-service.test.ts covers an empty key store',
  },
  ERR_KEYS_AT_REST_UNREADABLE: {
    unreachable: 'a sealed key no configured wrapping key opens stops the start (keys.encryptionKeyEnv), before any route serves; src/keys/at-rest.test.ts and test/keys-at-rest.test.ts cover it',
  },
  ERR_AUDIT_UNAVAILABLE: at(LOOP, 'a failing audit commit: 503 temporarily_unavailable, no token, no credential (ERR_AUDIT_UNAVAILABLE)'),
  ERR_CLIENT_AUTH_MISSING: at(RULES, 'no client authentication → 401 invalid_client with WWW-Authenticate (ERR_CLIENT_AUTH_MISSING)'),
  ERR_CLIENT_ASSERTION_TYPE: at(RULES, 'another client_assertion_type (ERR_CLIENT_ASSERTION_TYPE)'),
  ERR_CLIENT_ASSERTION_MALFORMED: at(RULES, 'an assertion that is not a JWS (ERR_CLIENT_ASSERTION_MALFORMED)'),
  ERR_CLIENT_ASSERTION_TYP: at(RULES, 'typ JWT is refused (ERR_CLIENT_ASSERTION_TYP)'),
  ERR_CLIENT_UNKNOWN: at(RULES, 'an unknown agent (ERR_CLIENT_UNKNOWN)'),
  ERR_CLIENT_ID_MISMATCH: at(RULES, 'client_id differs from the assertion (ERR_CLIENT_ID_MISMATCH)'),
  ERR_CLIENT_ASSERTION_ISS_SUB: at(RULES, 'sub differs from iss (ERR_CLIENT_ASSERTION_ISS_SUB)'),
  ERR_CLIENT_ASSERTION_AUD: at(RULES, 'aud is the token endpoint, not the issuer (ERR_CLIENT_ASSERTION_AUD)'),
  ERR_CLIENT_ASSERTION_LIFETIME: at(RULES, 'exp - iat above 60 s (ERR_CLIENT_ASSERTION_LIFETIME)'),
  ERR_CLIENT_ASSERTION_EXPIRED: at(RULES, 'an expired assertion (ERR_CLIENT_ASSERTION_EXPIRED)'),
  ERR_CLIENT_ASSERTION_JTI: at(RULES, 'no jti (ERR_CLIENT_ASSERTION_JTI)'),
  ERR_CLIENT_ASSERTION_REPLAY: at(RULES, 'a replayed assertion (ERR_CLIENT_ASSERTION_REPLAY)'),
  ERR_CLIENT_ASSERTION_SIGNATURE: at(RULES, 'signed by a key other than the registered one (ERR_CLIENT_ASSERTION_SIGNATURE)'),
  ERR_CLIENT_INACTIVE: at(RULES, 'a suspended agent (ERR_CLIENT_INACTIVE)'),
  ERR_DPOP_MISSING: at(RULES, 'no proof (ERR_DPOP_MISSING), and the error still carries a DPoP-Nonce'),
  ERR_DPOP_MALFORMED: at(RULES, 'a proof that is not a JWS (ERR_DPOP_MALFORMED)'),
  ERR_DPOP_TYP: at(RULES, 'typ JWT (ERR_DPOP_TYP)'),
  ERR_DPOP_ALG: at(RULES, 'alg EdDSA with a P-256 jwk (ERR_DPOP_ALG)'),
  ERR_DPOP_JWK: at(RULES, 'a jwk with private members (ERR_DPOP_JWK)'),
  ERR_DPOP_SIGNATURE: at(RULES, 'signed by a key other than its jwk (ERR_DPOP_SIGNATURE)'),
  ERR_DPOP_JTI: at(RULES, 'no jti (ERR_DPOP_JTI)'),
  ERR_DPOP_HTM: at(RULES, 'htm GET (ERR_DPOP_HTM)'),
  ERR_DPOP_HTU: at(RULES, 'htu of another endpoint (ERR_DPOP_HTU)'),
  ERR_DPOP_IAT: at(RULES, 'iat outside the window (ERR_DPOP_IAT)'),
  ERR_DPOP_ATH: {
    unreachable: 'the broker is no resource server: none of its endpoints takes an access token with the proof, so it never checks ath (resource servers do, in the SDK verifier); proof/dpop.test.ts covers the check',
  },
  ERR_DPOP_REPLAY: at(RULES, 'a replayed proof (ERR_DPOP_REPLAY)'),
  ERR_DPOP_NONCE_REQUIRED: at(RULES, 'a proof without a nonce → 400 use_dpop_nonce with a DPoP-Nonce header (ERR_DPOP_NONCE_REQUIRED)'),
  ERR_DPOP_NONCE_INVALID: at(RULES, 'a nonce is optional while dpop.requireNonce is off, but must be valid when sent (ERR_DPOP_NONCE_INVALID)'),
  ERR_CHALLENGE_INVALID: at(RULES, 'a nonce the broker did not issue (ERR_CHALLENGE_INVALID)'),
  ERR_CHALLENGE_EXPIRED: at(RULES, 'an expired nonce (ERR_CHALLENGE_EXPIRED)'),
  ERR_CHALLENGE_REPLAYED: at(RULES, 'a nonce used twice (ERR_CHALLENGE_REPLAYED)'),
  ERR_ATTESTATION_EVIDENCE_INVALID: at(RULES, 'an attestor listed twice (ERR_ATTESTATION_EVIDENCE_INVALID)'),
  ERR_ATTESTOR_UNKNOWN: at(RULES, 'an attestor that is not enabled (ERR_ATTESTOR_UNKNOWN)'),
  ERR_ATTESTATION_REJECTED: at(RULES, 'claims the policy requires to be equal differ (ERR_POLICY_EQUALITY)'),
  ERR_ATTESTATION_INVALID: at(RULES, 'an actor token that is not a JWS (ERR_ATTESTATION_INVALID)'),
  ERR_ATTESTATION_TYP: at(RULES, 'an access token as actor token (ERR_ATTESTATION_TYP)'),
  ERR_ATTESTATION_SIGNATURE: at(RULES, 'an actor token with a tampered payload (ERR_ATTESTATION_SIGNATURE)'),
  ERR_ATTESTATION_ISSUER: at(RULES, 'an actor token of another issuer, even under this key (ERR_ATTESTATION_ISSUER)'),
  ERR_ATTESTATION_SUBJECT_MISMATCH: at(RULES, 'an actor token of another agent (ERR_ATTESTATION_SUBJECT_MISMATCH)'),
  ERR_ATTESTATION_KEY_MISMATCH: at(RULES, "an actor token whose cnf.jkt is not the proof's key (ERR_ATTESTATION_KEY_MISMATCH)"),
  // The broker never signs a contraindicated result; the test presents one signed with its key.
  ERR_ATTESTATION_CONTRAINDICATED: at(RULES, 'a contraindicated result is refused even if signed (ERR_ATTESTATION_CONTRAINDICATED)'),
  ERR_ATTESTATION_STALE: at(RULES, 'a stale attestation (ERR_ATTESTATION_STALE)'),
  ERR_POLICY_AGENT_SCOPE: at(RULES, 'a policy scoped to other agents (ERR_POLICY_AGENT_SCOPE)'),
  ERR_POLICY_ATTESTOR_MISSING: at(RULES, 'an attestor the policy requires is missing (ERR_POLICY_ATTESTOR_MISSING)'),
  ERR_POLICY_CLAIM_MISMATCH: at(RULES, 'a pinned claim differs (ERR_POLICY_CLAIM_MISMATCH)'),
  ERR_POLICY_STATUS_TOO_LOW: at(RULES, 'replayable evidence (fixed audience) is only a warning: below the policy (ERR_POLICY_STATUS_TOO_LOW)'),
  ERR_POLICY_EQUALITY: at(RULES, 'claims the policy requires to be equal differ (ERR_POLICY_EQUALITY)'),
  ERR_POLICY_CONTRAINDICATED: {
    unreachable: 'no v1 attestor (oidc-token, code-digest) ever reports contraindicated evidence; policy/evaluate.test.ts and services/attestation.test.ts cover the rule with a stub attestor',
  },
  ERR_OIDC_TOKEN_MALFORMED: at(RULES, 'a token that is not a JWT (ERR_OIDC_TOKEN_MALFORMED)'),
  ERR_OIDC_TOKEN_ISSUER: at(RULES, 'a token from an issuer not configured (ERR_OIDC_TOKEN_ISSUER)'),
  ERR_OIDC_TOKEN_ALG: at(RULES, 'a token signed with an algorithm the issuer is not allowed (ERR_OIDC_TOKEN_ALG)'),
  ERR_OIDC_TOKEN_TYP: at(RULES, 'an access token (typ at+jwt) as identity evidence (ERR_OIDC_TOKEN_TYP)'),
  ERR_OIDC_TOKEN_SIGNATURE: at(RULES, 'a token signed by a key the issuer does not publish (ERR_OIDC_TOKEN_SIGNATURE)'),
  ERR_OIDC_TOKEN_EXPIRED: at(RULES, 'an expired token (ERR_OIDC_TOKEN_EXPIRED)'),
  ERR_OIDC_TOKEN_NOT_YET_VALID: at(RULES, 'a token not valid yet (ERR_OIDC_TOKEN_NOT_YET_VALID)'),
  ERR_OIDC_TOKEN_IAT: at(RULES, 'a token issued in the future (ERR_OIDC_TOKEN_IAT)'),
  ERR_OIDC_TOKEN_AUDIENCE: at(RULES, 'a token for another audience than the challenge binding (ERR_OIDC_TOKEN_AUDIENCE)'),
  ERR_OIDC_TOKEN_REPLAYED: at(RULES, 'a token whose jti was already used (ERR_OIDC_TOKEN_REPLAYED)'),
  ERR_OIDC_ISSUER_UNAVAILABLE: at(RULES, 'issuer keys unreachable → 503, not rejected evidence (ERR_OIDC_ISSUER_UNAVAILABLE)'),
  ERR_CODE_DIGEST_MALFORMED: at(RULES, 'a code digest that is not sha256 (ERR_CODE_DIGEST_MALFORMED)'),
  ERR_KEY_ENROLMENT_INVALID: at(MULTI, 'a forged enrolment is refused (ERR_KEY_ENROLMENT_INVALID)'),
  ERR_KEY_ENROLMENT_REPLAYED: at(MULTI, 'the activated secret registers the AK; a second answer is refused (ERR_KEY_ENROLMENT_REPLAYED)'),
  ERR_ASK_AUTHORIZATION_DETAILS: at(RULES, 'authorization_details that are not JSON (ERR_ASK_AUTHORIZATION_DETAILS)'),
  ERR_ASK_UNKNOWN_USER: at(RULES, 'login_hint not an approver and an unknown user get the identical unknown_user_id (ERR_ASK_UNKNOWN_USER)'),
  ERR_ASK_BINDING_MESSAGE: at(RULES, 'a binding_message with control characters (ERR_ASK_BINDING_MESSAGE)'),
  ERR_ASK_DPOP_KEY: at(RULES, 'no DPoP key: neither a proof nor dpop_jkt (ERR_ASK_DPOP_KEY)'),
  ERR_ASK_ATTESTATION: at(RULES, 'no attestation (ERR_ASK_ATTESTATION)'),
  ERR_ASK_REQUESTED_EXPIRY: at(RULES, 'requested_expiry that is not a positive number (ERR_ASK_REQUESTED_EXPIRY)'),
  ERR_ASK_TOO_MANY_PENDING: at(RULES, 'pending requests per agent are rate-limited (ERR_ASK_TOO_MANY_PENDING)'),
  ERR_CIBA_PENDING: at(RULES, 'an undecided request → authorization_pending (ERR_CIBA_PENDING)'),
  ERR_CIBA_SLOW_DOWN: at(RULES, 'polling faster than the interval → slow_down, and the interval grows by 5 s (ERR_CIBA_SLOW_DOWN)'),
  ERR_CIBA_DENIED: at(RULES, 'a denied request → access_denied once, then invalid_grant (ERR_CIBA_DENIED)'),
  ERR_CIBA_EXPIRED: at(RULES, 'a request that expired undecided → expired_token (ERR_CIBA_EXPIRED)'),
  ERR_CIBA_INVALID_GRANT: at(RULES, 'an unknown auth_req_id → invalid_grant (ERR_CIBA_INVALID_GRANT)'),
  ERR_CIBA_DPOP_KEY: at(RULES, 'a proof by a key other than the pinned one → invalid_grant (ERR_CIBA_DPOP_KEY)'),
  ERR_GRANT_TYPE_UNSUPPORTED: at(RULES, 'grant_type=refresh_token → unsupported_grant_type (ERR_GRANT_TYPE_UNSUPPORTED)'),
  ERR_TOKEN_TYPE_UNSUPPORTED: at(RULES, 'a subject token type other than refresh_token (ERR_TOKEN_TYPE_UNSUPPORTED)'),
  ERR_MINT_TARGET: at(RULES, 'no resource → invalid_target (ERR_MINT_TARGET)'),
  ERR_MINT_SUBJECT_TOKEN: at(RULES, 'an unknown grant → invalid_request grant_invalid (ERR_MINT_SUBJECT_TOKEN)'),
  ERR_MINT_CLIENT_MISMATCH: at(RULES, "another agent's grant → client_mismatch (ERR_MINT_CLIENT_MISMATCH)"),
  ERR_MINT_ACTOR_TOKEN: at(RULES, 'no actor token (ERR_MINT_ACTOR_TOKEN)'),
  ERR_MINT_ATTESTATION_STALE: at(RULES, 'a stale attestation → attestation_stale (ERR_MINT_ATTESTATION_STALE)'),
  ERR_MINT_MANDATE_INACTIVE: at(RULES, 'a revoked mandate → mandate_revoked (ERR_MINT_MANDATE_INACTIVE)'),
  ERR_MINT_WIDENING: at(RULES, 'widened authorization_details → invalid_authorization_details (ERR_MINT_WIDENING)'),
  ERR_MINT_UNAUTHORIZED_CLIENT: at(RULES, 'an agent the audience did not opt in → unauthorized_client (ERR_MINT_UNAUTHORIZED_CLIENT)'),
  // sub-agent hops (PROTOCOL §10)
  ERR_SUB_GRANT_SUBJECT_TOKEN: at(HOPS, 'a subject token that is no delegated token of this broker (ERR_SUB_GRANT_SUBJECT_TOKEN)'),
  ERR_SUB_GRANT_DPOP_KEY: at(HOPS, 'a proof by a key other than the cnf key of the parent token (ERR_SUB_GRANT_DPOP_KEY)'),
  ERR_SUB_GRANT_PARENT_EXPIRED: at(HOPS, 'an expired parent token (ERR_SUB_GRANT_PARENT_EXPIRED)'),
  ERR_SUB_GRANT_PARENT_REVOKED: at(HOPS, 'a revoked parent token (ERR_SUB_GRANT_PARENT_REVOKED)'),
  ERR_SUB_GRANT_CHILD_UNKNOWN: at(HOPS, 'a child that is not a registered agent (ERR_SUB_GRANT_CHILD_UNKNOWN)'),
  ERR_SUB_GRANT_CHILD_INACTIVE: at(HOPS, 'a suspended child (ERR_SUB_GRANT_CHILD_INACTIVE)'),
  ERR_SUB_GRANT_CHILD_IN_CHAIN: at(HOPS, 'the parent itself, or an agent already up the chain (ERR_SUB_GRANT_CHILD_IN_CHAIN)'),
  ERR_SUB_GRANT_DEPTH: at(HOPS, 'a third hop when delegation.maxDepth is 2 (ERR_SUB_GRANT_DEPTH); the second hop nests act twice'),
  ERR_SUB_GRANT_WIDENING_AUDIENCE: at(HOPS, 'another audience (ERR_SUB_GRANT_WIDENING_AUDIENCE)'),
  ERR_SUB_GRANT_WIDENING_ACTIONS: at(HOPS, 'more actions than the parent token (ERR_SUB_GRANT_WIDENING_ACTIONS)'),
  ERR_SUB_GRANT_WIDENING_EXPIRY: at(HOPS, 'a later notAfter than the parent token (ERR_SUB_GRANT_WIDENING_EXPIRY)'),
  ERR_SUB_GRANT_WIDENING_MAX_USES: at(HOPS, 'more uses than the parent has, or has left (ERR_SUB_GRANT_WIDENING_MAX_USES)'),
  ERR_SUB_GRANT_WIDENING_TASK: at(HOPS, 'another purpose than the parent token (ERR_SUB_GRANT_WIDENING_TASK)'),
  ERR_SUB_GRANT_INVALID: at(HOPS, 'an unknown sub-grant (ERR_SUB_GRANT_INVALID)'),
  ERR_SUB_GRANT_NOT_MAY_ACT: at(HOPS, 'an agent other than may_act.sub (ERR_SUB_GRANT_NOT_MAY_ACT)'),
  ERR_SUB_GRANT_REUSED: at(HOPS, 'a sub-grant redeemed twice (ERR_SUB_GRANT_REUSED)'),
  ERR_SUB_GRANT_EXPIRED: at(HOPS, 'a sub-grant past delegation.subGrantTtl (ERR_SUB_GRANT_EXPIRED)'),
  ERR_INTROSPECT_CLIENT: at(RULES, 'a wrong secret → 401 invalid_client (ERR_INTROSPECT_CLIENT)'),
  ERR_MANDATE_NOT_FOUND: at(MANDATES, 'an unknown mandate (ERR_MANDATE_NOT_FOUND)'),
  ERR_MANDATE_STATE: at(MANDATES, 'approving twice (ERR_MANDATE_STATE)'),
  ERR_MANDATE_NOT_APPROVER: at(MANDATES, 'a human who is not the named approver may not decide (ERR_MANDATE_NOT_APPROVER)'),
  ERR_CREDENTIAL_NOT_FOUND: at('console-inventory.test.ts', 'revoking an unknown credential answers ERR_CREDENTIAL_NOT_FOUND'),
  ERR_CREDENTIAL_REVOKED: at('console-inventory.test.ts', 'revoking a credential twice answers ERR_CREDENTIAL_REVOKED'),
  ERR_CONSOLE_NOT_RESPONSIBLE: at('console-inventory.test.ts', 'a human who does not answer for the agent cannot suspend it: ERR_CONSOLE_NOT_RESPONSIBLE'),
  ERR_REVIEW_NOT_OWNER: at('reviews.test.ts', 'a human who does not own the agent is refused (ERR_REVIEW_NOT_OWNER)'),
  ERR_REVIEW_DISABLED: at('reviews.test.ts', 'reviewEvery off: nothing is listed and a review is refused (ERR_REVIEW_DISABLED)'),
  ERR_DELIVERY_NOT_FOUND: at('notifications.test.ts', 'an unknown delivery (ERR_DELIVERY_NOT_FOUND)'),
  ERR_FINDING_NOT_FOUND: at('findings-api.test.ts', 'an unknown finding (ERR_FINDING_NOT_FOUND)'),
  ERR_FINDING_STATE: at('findings-api.test.ts', 'converting or dismissing a decided finding (ERR_FINDING_STATE)'),
  ERR_FINDING_OWNER_REQUIRED: at('findings-api.test.ts', 'no active human matches the owner guess and none is named (ERR_FINDING_OWNER_REQUIRED)'),
  ERR_STATUS_LIST_NOT_FOUND: at(PUSH, 'an unknown list is 404 (ERR_STATUS_LIST_NOT_FOUND)'),
  ERR_SSF_UNAUTHENTICATED: at(PUSH, 'stream management without the audience credential (ERR_SSF_UNAUTHENTICATED)'),
  ERR_SSF_STREAM_NOT_FOUND: at(PUSH, 'a stream of another audience (ERR_SSF_STREAM_NOT_FOUND)'),
  ERR_SSF_STREAM_INVALID: at(PUSH, 'poll delivery or an http endpoint off loopback (ERR_SSF_STREAM_INVALID)'),
  ERR_SSF_SUBJECT_INVALID: at(PUSH, 'a subject this transmitter never names (ERR_SSF_SUBJECT_INVALID)'),
  ERR_SSF_SUBJECT_NOT_FOUND: at(PUSH, 'removing a subject the stream does not hold (ERR_SSF_SUBJECT_NOT_FOUND)'),
  ERR_SSF_ENDPOINT_FORBIDDEN: at(PUSH, 'an endpoint on an internal address (ERR_SSF_ENDPOINT_FORBIDDEN)'),
  ERR_SSF_STREAM_LIMIT: at(PUSH, 'more streams than an audience may hold (ERR_SSF_STREAM_LIMIT)'),
  ERR_OPS_NOT_READY: at('operability.test.ts', 'the store closed: 503 naming the store check, migrations not checked (ERR_OPS_NOT_READY)'),
  ERR_OPS_METRICS_UNAUTHENTICATED: at('operability.test.ts', 'metrics.bearerToken: no or a wrong token is 401 with a Bearer challenge (ERR_OPS_METRICS_UNAUTHENTICATED)'),
  ERR_CONSOLE_UNAUTHENTICATED: at('console-approval.test.ts', 'a console POST without the CSRF token is refused (ERR_CONSOLE_CSRF); without a session (ERR_CONSOLE_UNAUTHENTICATED)'),
  ERR_CONSOLE_CSRF: at('console-approval.test.ts', 'a console POST without the CSRF token is refused (ERR_CONSOLE_CSRF); without a session (ERR_CONSOLE_UNAUTHENTICATED)'),
  ERR_INVITE_UNKNOWN: at('console-auth.test.ts', 'an unknown invite (ERR_INVITE_UNKNOWN)'),
  ERR_INVITE_USED: at('console-auth.test.ts', 'a used invite (ERR_INVITE_USED)'),
  ERR_INVITE_EXPIRED: at('console-auth.test.ts', 'an expired invite (ERR_INVITE_EXPIRED)'),
  ERR_PASSKEY_CHALLENGE_INVALID: at('console-approval.test.ts', 'an approval replayed for a different task is refused (ERR_PASSKEY_CHALLENGE_INVALID, ERR_PASSKEY_VERIFICATION, ERR_PASSKEY_CHALLENGE_REPLAYED)'),
  ERR_PASSKEY_CHALLENGE_EXPIRED: at('console-auth.test.ts', 'a sign-in answering an expired challenge (ERR_PASSKEY_CHALLENGE_EXPIRED)'),
  ERR_PASSKEY_CHALLENGE_REPLAYED: at('console-approval.test.ts', 'an approval replayed for a different task is refused (ERR_PASSKEY_CHALLENGE_INVALID, ERR_PASSKEY_VERIFICATION, ERR_PASSKEY_CHALLENGE_REPLAYED)'),
  ERR_PASSKEY_UNKNOWN: at('console-auth.test.ts', 'a sign-in with an unregistered passkey (ERR_PASSKEY_UNKNOWN)'),
  ERR_PASSKEY_VERIFICATION: at('console-approval.test.ts', 'an approval replayed for a different task is refused (ERR_PASSKEY_CHALLENGE_INVALID, ERR_PASSKEY_VERIFICATION, ERR_PASSKEY_CHALLENGE_REPLAYED)'),
  ERR_PASSKEY_COUNTER: at('console-approval.test.ts', 'an older sign-in assertion after a newer one is refused (ERR_PASSKEY_COUNTER)'),
  ERR_PASSKEY_WRONG_HUMAN: at('console-approval.test.ts', 'a human without the approver role gets 403 (ERR_ADMIN_FORBIDDEN); an approver not named in the request too (ERR_MANDATE_NOT_APPROVER); a passkey of another human (ERR_PASSKEY_WRONG_HUMAN)'),
  ERR_OIDC_CALLBACK: at('console-oidc.test.ts', 'a callback without the signed state cookie is refused (ERR_OIDC_CALLBACK)'),
  ERR_OIDC_NO_HUMAN: at('console-oidc.test.ts', 'an IdP account whose e-mail no active human has is refused (ERR_OIDC_NO_HUMAN)'),
  ERR_OIDC_EMAIL_UNVERIFIED: at('console-oidc.test.ts', 'an IdP account without email_verified is refused even when a human has the address (ERR_OIDC_EMAIL_UNVERIFIED)'),
  ERR_RESUME_NOT_APPROVER: at('console-approval.test.ts', 'resume a suspended mandate: not before a fresh affirming attestation (ERR_RESUME_ATTESTATION), not by another human (ERR_RESUME_NOT_APPROVER), then with the passkey'),
  ERR_RESUME_ATTESTATION: at('console-approval.test.ts', 'resume a suspended mandate: not before a fresh affirming attestation (ERR_RESUME_ATTESTATION), not by another human (ERR_RESUME_NOT_APPROVER), then with the passkey'),
  ERR_INTERNAL: {
    unreachable: 'the last resort for failures nothing else names (a bug, a broken store): no valid or invalid request produces it; http/errors.test.ts covers its mapping and that 5xx bodies carry only the title',
  },
} satisfies Record<Exclude<ErrorCode, AttestorFolderCode>, Where>;

/**
 * The attestors with a folder of their own keep their codes in core/attestor-errors/<id>.ts. Each
 * code must be the subject of a test in that attestor's folder (one test per rejection path); over
 * HTTP they travel as the reasons of the audited `attestation.rejected` event, which the end-to-end
 * tests of attestation check once per attestor.
 */
const ATTESTOR_FOLDER_CODES = {
  'k8s-sa-token': K8S_SA_TOKEN_ERRORS,
  'spiffe-jwt-svid': SPIFFE_JWT_SVID_ERRORS,
  sigstore: SIGSTORE_ERRORS,
  'tpm-quote': TPM_QUOTE_ERRORS,
} as const;
type AttestorFolderCode = { [K in keyof typeof ATTESTOR_FOLDER_CODES]: keyof (typeof ATTESTOR_FOLDER_CODES)[K] }[keyof typeof ATTESTOR_FOLDER_CODES];

const TEST_DIR = new URL('.', import.meta.url).pathname;
const SRC_DIR = new URL('../src/', import.meta.url).pathname;
const codes = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (path.endsWith('.ts') && !path.endsWith('.test.ts') && !path.endsWith('core/errors.ts') && !path.includes('core/attestor-errors/')) yield path;
  }
}

/** The text of a test after its title up to the next test: what the test itself does. */
function testBody(file: string, title: string): string | null {
  const text = readFileSync(join(TEST_DIR, file), 'utf8');
  for (const quote of ["'", '"', '`']) {
    const start = text.indexOf(`test(${quote}${title}${quote}`);
    if (start < 0) continue;
    const from = start + title.length + 7;
    const next = text.indexOf('test(', from);
    return text.slice(from, next < 0 ? undefined : next);
  }
  return null;
}

const folderCodes = Object.values(ATTESTOR_FOLDER_CODES).flatMap((group) => Object.keys(group));

test('every catalogue code has an entry, and every entry is a catalogue code', () => {
  assert.deepEqual([...Object.keys(WHERE), ...folderCodes].sort(), [...codes].sort());
});

for (const [attestor, group] of Object.entries(ATTESTOR_FOLDER_CODES)) {
  const folder = join(SRC_DIR, 'attestors', attestor);
  for (const code of Object.keys(group)) {
    test(`${code} is the subject of a test in attestors/${attestor}/`, () => {
      const tests = readdirSync(folder).filter((name) => name.endsWith('.test.ts'));
      const mentioned = tests.some((name) => testTitles(join(folder, name)).some((title) => title.includes(code)));
      assert.ok(mentioned, `no test in attestors/${attestor}/ has ${code} in its title`);
    });
  }
}

/** The titles of the tests in a file (single-quoted, double-quoted or template). */
function testTitles(path: string): string[] {
  return [...readFileSync(path, 'utf8').matchAll(/\btest\((['"`])((?:\\.|(?!\1).)*)\1/g)].map((match) => match[2] ?? '');
}

test('every code is raised somewhere in the broker (unused codes are removed)', () => {
  const text = [...sources(SRC_DIR)].map((path) => readFileSync(path, 'utf8')).join('\n');
  const unused = codes.filter((code) => !text.includes(`'${code}'`));
  assert.deepEqual(unused, []);
});

for (const code of Object.keys(WHERE) as (keyof typeof WHERE)[]) {
  const where: Where = WHERE[code];
  if ('unreachable' in where) {
    test(`${code} cannot be reached over HTTP: the reason is given`, () => {
      assert.ok(where.unreachable.length > 40, code);
    });
    continue;
  }
  test(`${code} is triggered over HTTP by ${where.file}: "${where.test}"`, () => {
    const body = testBody(where.file, where.test);
    assert.ok(body !== null, `no test titled "${where.test}" in ${where.file}`);
    assert.ok(body.includes(code), `the test "${where.test}" does not mention ${code} after its title`);
  });
}
