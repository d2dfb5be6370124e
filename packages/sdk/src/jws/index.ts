/**
 * The one hand-written JWS module of Mandate: strict compact parsing (RFC 7515 §7.1, RFC 8725)
 * and signature verification with node:crypto on keys imported once and cached by the caller.
 * ES256 and EdDSA only. The broker and the resource-server verifier both use it; jose stays the
 * library for everything else (signing, JWKS fetching, JWK thumbprints on the agent side).
 *
 * @example
 * ```ts
 * import { parseJws, verifyJwsSignature, importPublicJwk } from '@mandate/sdk/jws';
 * const jws = parseJws(token);
 * verifyJwsSignature(jws, importPublicJwk(jwk));
 * ```
 *
 * @module
 */
export { JwsError, type JwsFault } from './errors.ts';
export { decodeBase64urlStrict, findDuplicateMember } from './json.ts';
export { ALLOWED_ALGS, MAX_JWS_LENGTH, completeJws, parseJws, parseJwsHeader, type AllowedAlg, type JwsHead, type ParsedJws } from './parse.ts';
export { importPublicJwk, keyFitsAlg, signatureVerifies, verifyJwsSignature } from './verify.ts';
