import { TPM_ALG, TpmReader } from './tpm-reader.ts';

/** TPM 2.0 Part 2 TPMS_ATTEST, with `attested` read as TPMS_QUOTE_INFO. */
export interface QuoteAttest {
  magic: number;
  type: number;
  qualifiedSigner: Buffer;
  extraData: Buffer;
  /** TPMS_CLOCK_INFO (§10.11.1). */
  clock: bigint;
  resetCount: number;
  restartCount: number;
  safe: boolean;
  firmwareVersion: bigint;
  /** TPML_PCR_SELECTION, in the order the TPM hashed the PCRs. */
  selection: PcrSelection[];
  pcrDigest: Buffer;
}

export interface PcrSelection {
  hash: number;
  /** PCR indices in ascending order (bit order of pcrSelect, §10.6.2). */
  pcrs: number[];
}

/** TPMT_SIGNATURE with an ECDSA signature (§11.3.4): r and s as the TPM wrote them. */
export interface EcdsaSignature {
  sigAlg: number;
  hash: number;
  r: Buffer;
  s: Buffer;
}

const MAX_SELECTIONS = 4;
const MAX_SIZE_OF_SELECT = 4;

/**
 * Reads a TPMS_ATTEST (the bytes `tpm2_quote -m` writes: no TPM2B size in front). Only the
 * layout is checked here; magic, type and contents are the verifier's checks.
 *
 * @example
 * const attest = readQuoteAttest(Buffer.from(evidence.quote, 'base64'));
 */
export function readQuoteAttest(bytes: Buffer): QuoteAttest {
  const r = new TpmReader(bytes);
  const head = { magic: r.u32(), type: r.u16(), qualifiedSigner: r.sized(), extraData: r.sized() };
  const clockInfo = { clock: r.u64(), resetCount: r.u32(), restartCount: r.u32(), safe: r.u8() === 1 };
  const firmwareVersion = r.u64();
  const selection = readPcrSelection(r);
  const pcrDigest = r.sized();
  if (!r.done) throw new RangeError('trailing bytes after TPMS_ATTEST');
  return { ...head, ...clockInfo, firmwareVersion, selection, pcrDigest };
}

/** TPML_PCR_SELECTION (§10.9.7): count, then per bank hash ‖ sizeofSelect ‖ bitmap. */
function readPcrSelection(r: TpmReader): PcrSelection[] {
  const count = r.u32();
  if (count > MAX_SELECTIONS) throw new RangeError('too many PCR banks');
  return Array.from({ length: count }, () => {
    const hash = r.u16();
    const size = r.u8();
    if (size > MAX_SIZE_OF_SELECT) throw new RangeError('PCR bitmap too large');
    const bitmap = r.take(size);
    const pcrs = [...bitmap].flatMap((byte, i) => [0, 1, 2, 3, 4, 5, 6, 7].filter((bit) => byte & (1 << bit)).map((bit) => i * 8 + bit));
    return { hash, pcrs };
  });
}

/**
 * Reads a TPMT_SIGNATURE (what `tpm2_quote -s` writes by default). Only ECDSA is accepted: the
 * AKs enrolled here are ECC P-256 (README "Enrolment").
 *
 * @example
 * const { r, s } = readEcdsaSignature(Buffer.from(evidence.signature, 'base64'));
 */
export function readEcdsaSignature(bytes: Buffer): EcdsaSignature {
  const reader = new TpmReader(bytes);
  const sigAlg = reader.u16();
  if (sigAlg !== TPM_ALG.ECDSA) throw new RangeError('not an ECDSA signature');
  const signature = { sigAlg, hash: reader.u16(), r: reader.sized(), s: reader.sized() };
  if (!reader.done) throw new RangeError('trailing bytes after TPMT_SIGNATURE');
  return signature;
}

/** r ‖ s, each left-padded to `size` bytes (IEEE P1363), as node:crypto takes with `dsaEncoding: 'ieee-p1363'`. */
export function toP1363(signature: EcdsaSignature, size = 32): Buffer | null {
  const pad = (n: Buffer) => (n.length > size ? null : Buffer.concat([Buffer.alloc(size - n.length), n]));
  const r = pad(signature.r);
  const s = pad(signature.s);
  return r && s ? Buffer.concat([r, s]) : null;
}
