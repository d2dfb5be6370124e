/**
 * Named random secrets the replicas must share (HMAC keys for stateless DPoP nonces and attest
 * challenges). The first caller's value wins; everyone reads that one.
 */
export interface SecretStore {
  /** Returns the secret `name`, creating it with `fresh` (base64url) if none exists yet. */
  getOrCreate(name: string, fresh: string, at: number): Promise<string>;
  /** Every stored secret (keys at rest: sealing the plaintext ones, docs/keys-at-rest.md). */
  list(): Promise<Array<{ name: string; value: string }>>;
  /** Replaces `name`'s value only while it still equals `expected` (compare-and-set). True if it did. */
  replace(name: string, expected: string, next: string): Promise<boolean>;
}
