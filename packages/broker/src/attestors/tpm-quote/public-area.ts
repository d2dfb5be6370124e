import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { TPM_ALG, TpmReader } from './tpm-reader.ts';

/** TPMA_OBJECT bits (TPM 2.0 Part 2 §8.3.2). */
export const TPMA_OBJECT = {
  fixedTPM: 1 << 1,
  fixedParent: 1 << 4,
  sensitiveDataOrigin: 1 << 5,
  restricted: 1 << 16,
  decrypt: 1 << 17,
  sign: 1 << 18,
} as const;

/** TPMT_SYM_DEF_OBJECT: algorithm, and for a real cipher its key size and mode. */
export interface SymmetricDef {
  algorithm: number;
  keyBits: number;
  mode: number;
}

/** The parts of a TPMT_PUBLIC (§12.2.4) this attestor uses. */
export interface PublicArea {
  type: number;
  nameAlg: number;
  attributes: number;
  symmetric: SymmetricDef;
  scheme: { algorithm: number; hash: number };
  /** ECC: curve id; RSA: key bits. */
  curveOrBits: number;
  /** RSA only; 0 means 65537 (TPMS_RSA_PARMS). */
  exponent: number;
  /** ECC: x and y; RSA: the modulus. */
  unique: Buffer[];
  /** The TPMT_PUBLIC bytes themselves: the name is computed over them. */
  bytes: Buffer;
}

/**
 * Reads a TPM2B_PUBLIC (as `tpm2_createak -u` / `tpm2_createek -u` write it) or a bare TPMT_PUBLIC
 * (`tpm2_readpublic -f tpmt`). A TPMT_PUBLIC starts with its type (0x0001 or 0x0023), which never
 * equals the remaining length of a real key, so the two spellings cannot be confused.
 *
 * @example
 * const ak = readPublicArea(readFileSync('ak.pub'));
 */
export function readPublicArea(bytes: Buffer): PublicArea {
  const tpmt = bytes.length >= 2 && bytes.readUInt16BE(0) === bytes.length - 2 ? bytes.subarray(2) : bytes;
  const r = new TpmReader(tpmt);
  const type = r.u16();
  if (type !== TPM_ALG.ECC && type !== TPM_ALG.RSA) throw new RangeError('only RSA and ECC public areas are supported');
  const nameAlg = r.u16();
  const attributes = r.u32();
  r.sized(); // authPolicy: not needed to verify or to name the key (the name covers it).
  const symmetric = readSymmetric(r);
  const scheme = readScheme(r);
  const rest = type === TPM_ALG.ECC ? readEccRest(r) : readRsaRest(r);
  if (!r.done) throw new RangeError('trailing bytes after TPMT_PUBLIC');
  return { type, nameAlg, attributes, symmetric, scheme, ...rest, bytes: Buffer.from(tpmt) };
}

function readSymmetric(r: TpmReader): SymmetricDef {
  const algorithm = r.u16();
  return algorithm === TPM_ALG.NULL ? { algorithm, keyBits: 0, mode: 0 } : { algorithm, keyBits: r.u16(), mode: r.u16() };
}

function readScheme(r: TpmReader): PublicArea['scheme'] {
  const algorithm = r.u16();
  return { algorithm, hash: algorithm === TPM_ALG.NULL ? 0 : r.u16() };
}

function readEccRest(r: TpmReader): Pick<PublicArea, 'curveOrBits' | 'exponent' | 'unique'> {
  const curveOrBits = r.u16();
  if (readScheme(r).algorithm !== TPM_ALG.NULL) throw new RangeError('ECC keys with a KDF are not supported');
  return { curveOrBits, exponent: 0, unique: [r.sized(), r.sized()] };
}

function readRsaRest(r: TpmReader): Pick<PublicArea, 'curveOrBits' | 'exponent' | 'unique'> {
  return { curveOrBits: r.u16(), exponent: r.u32(), unique: [r.sized()] };
}

/**
 * TPM 2.0 Part 1 §16: Name = nameAlg ‖ H_nameAlg(TPMT_PUBLIC). Only SHA-256 names are supported.
 *
 * @example
 * objectName(ak).toString('hex'); // '000b…'
 */
export function objectName(area: PublicArea): Buffer {
  if (area.nameAlg !== TPM_ALG.SHA256) throw new RangeError('only SHA-256 names are supported');
  const alg = Buffer.alloc(2);
  alg.writeUInt16BE(area.nameAlg);
  return Buffer.concat([alg, createHash('sha256').update(area.bytes).digest()]);
}

/** The P-256 public key of an ECC public area, for node:crypto. */
export function eccPublicKey(area: PublicArea): KeyObject {
  const [x, y] = area.unique as [Buffer, Buffer];
  return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: x.toString('base64url'), y: y.toString('base64url') }, format: 'jwk' });
}

/** RSA modulus and public exponent, normalised (exponent 0 means 65537). */
export function rsaNumbers(area: PublicArea): { modulus: Buffer; exponent: number } {
  return { modulus: area.unique[0] as Buffer, exponent: area.exponent === 0 ? 65537 : area.exponent };
}
