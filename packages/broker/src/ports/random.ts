/** Randomness source for ids and secrets (a CSPRNG in production). */
export interface Random {
  /** `byteLength` random bytes as base64url. */
  base64url(byteLength: number): string;
}
