/**
 * Test and benchmark support (no node:test imports): an attestation key held in software that
 * writes the same TPM2B_PUBLIC, TPMS_ATTEST and TPMT_SIGNATURE bytes as swtpm and tpm2-tools.
 * It stands in for a TPM where a real one is too slow (bench-case.ts) or could never produce the
 * structure under test (a well-signed quote whose body is malformed). It is never a trust source.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { AttestationKeyRecord } from '../../ports/attestation-keys.ts';
import { objectName, readPublicArea, TPMA_OBJECT } from './public-area.ts';
import { TPM_ALG, TPM_ECC_NIST_P256, TPM_GENERATED_VALUE, TPM_ST_ATTEST_QUOTE } from './tpm-reader.ts';

export interface SoftwareAk {
  /** TPM2B_PUBLIC, as `tpm2_createak -u` writes it. */
  publicArea: Buffer;
  name: Buffer;
  /** The registration an enrolment would have stored for `agentId`. */
  record(agentId: string, createdAt?: number): AttestationKeyRecord;
  /** TPMS_ATTEST of a quote over the given SHA-256 PCRs (index → hex) with `extraData`, and its TPMT_SIGNATURE. */
  quote(extraData: Buffer, pcrs: Readonly<Record<string, string>>, tweak?: (attest: Buffer) => Buffer): { quote: Buffer; signature: Buffer };
}

const AK_ATTRIBUTES = TPMA_OBJECT.fixedTPM | TPMA_OBJECT.fixedParent | TPMA_OBJECT.sensitiveDataOrigin | 0x40 /* userWithAuth */ | TPMA_OBJECT.restricted | TPMA_OBJECT.sign;

/**
 * @example
 * const ak = createSoftwareAk();
 * const { quote, signature } = ak.quote(evidenceExtraData(nonce, jkt), { '10': pcr10 });
 */
export function createSoftwareAk(): SoftwareAk {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const tpmt = encodePublic(publicKey);
  const name = objectName(readPublicArea(tpmt));
  let clock = 1000n;
  return {
    publicArea: Buffer.concat([u16(tpmt.length), tpmt]),
    name,
    record: (agentId, createdAt = 0) => ({ agentId, akName: name.toString('hex'), akPublic: tpmt.toString('base64'), ekCertificateDigest: `sha256:${'0'.repeat(64)}`, createdAt }),
    quote(extraData, pcrs, tweak = (attest) => attest) {
      const attest = tweak(encodeQuote(name, extraData, pcrs, (clock += 17n)));
      const p1363 = sign('sha256', attest, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const signature = Buffer.concat([u16(TPM_ALG.ECDSA), u16(TPM_ALG.SHA256), u16(32), p1363.subarray(0, 32), u16(32), p1363.subarray(32)]);
      return { quote: attest, signature };
    },
  };
}

/** TPMT_PUBLIC of an ECC P-256 restricted signing key with the ECDSA-SHA256 scheme (TPM 2.0 Part 2 §12.2.4). */
function encodePublic(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  const [x, y] = [Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')];
  const head = [u16(TPM_ALG.ECC), u16(TPM_ALG.SHA256), u32(AK_ATTRIBUTES), u16(0)];
  const parameters = [u16(TPM_ALG.NULL), u16(TPM_ALG.ECDSA), u16(TPM_ALG.SHA256), u16(TPM_ECC_NIST_P256), u16(TPM_ALG.NULL)];
  return Buffer.concat([...head, ...parameters, u16(x.length), x, u16(y.length), y]);
}

/** TPMS_ATTEST with TPMS_QUOTE_INFO over one SHA-256 bank (TPM 2.0 Part 2). */
function encodeQuote(name: Buffer, extraData: Buffer, pcrs: Readonly<Record<string, string>>, clock: bigint): Buffer {
  const indices = Object.keys(pcrs).map(Number).sort((a, b) => a - b);
  const bitmap = Buffer.alloc(3);
  for (const pcr of indices) bitmap[pcr >> 3]! |= 1 << (pcr & 7);
  const digest = createHash('sha256');
  for (const pcr of indices) digest.update(Buffer.from(pcrs[String(pcr)]!, 'hex'));
  const clockInfo = [u64(clock), u32(1), u32(0), Buffer.from([1])];
  const selection = [u32(1), u16(TPM_ALG.SHA256), Buffer.from([bitmap.length]), bitmap];
  const pcrDigest = digest.digest();
  return Buffer.concat([u32(TPM_GENERATED_VALUE), u16(TPM_ST_ATTEST_QUOTE), u16(name.length), name, u16(extraData.length), extraData, ...clockInfo, u64(0x2019102300163636n), ...selection, u16(pcrDigest.length), pcrDigest]);
}

const u16 = (value: number) => Buffer.from([value >> 8, value & 0xff]);
const u32 = (value: number) => Buffer.from([value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]);
function u64(value: bigint): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(value);
  return bytes;
}
