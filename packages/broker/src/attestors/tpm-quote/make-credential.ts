import { constants, createCipheriv, createHmac, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';

/** tpm2-tools credential file header (lib/files.c, `tpm2_makecredential -o`): magic, then version 1. */
export const CREDENTIAL_FILE_MAGIC = 0xbadcc0de;
const CREDENTIAL_FILE_VERSION = 1;
const SHA256_BYTES = 32;
const AES128_BYTES = 16;

/** The two outputs of TPM2_MakeCredential (TPM 2.0 Part 3 §12.6). */
export interface MadeCredential {
  /** TPM2B_ID_OBJECT contents: TPM2B_DIGEST(integrityHMAC) ‖ encIdentity. */
  credentialBlob: Buffer;
  /** TPM2B_ENCRYPTED_SECRET contents: the seed, RSA-OAEP encrypted to the EK. */
  secret: Buffer;
}

/**
 * TPM2_MakeCredential in software for an RSA EK with SHA-256 nameAlg and AES-128-CFB (the TCG
 * default EK template, EK Credential Profile template L-1): only a TPM that holds the EK private key,
 * and has an object named `objectName` loaded, can recover `credential` (TPM2_ActivateCredential).
 * TPM 2.0 Part 1 §24.4–§24.5 and Annex B (RSA-OAEP secret sharing).
 *
 * @example
 * const { credentialBlob, secret } = makeCredential(ekCertificate.publicKey, akName, randomBytes(32));
 * const file = encodeCredentialFile({ credentialBlob, secret }); // for tpm2_activatecredential -i
 */
export function makeCredential(ekKey: KeyObject, objectName: Buffer, credential: Buffer, seed = randomBytes(SHA256_BYTES)): MadeCredential {
  if (credential.length === 0 || credential.length > SHA256_BYTES) throw new RangeError('a credential is 1 to 32 bytes');
  // Annex B: the seed is OAEP-encrypted with the label "IDENTITY" (with its terminating zero).
  const secret = publicEncrypt({ key: ekKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from('IDENTITY\0') }, seed);
  // §24.4: the credential (as a TPM2B_DIGEST) is encrypted with a key bound to the object's name.
  const symKey = kdfa(seed, 'STORAGE', objectName, AES128_BYTES * 8);
  const cipher = createCipheriv('aes-128-cfb', symKey, Buffer.alloc(AES128_BYTES));
  const encIdentity = Buffer.concat([cipher.update(tpm2b(credential)), cipher.final()]);
  // §24.5: the outer HMAC covers encIdentity ‖ name, so the blob opens only for that name.
  const hmacKey = kdfa(seed, 'INTEGRITY', Buffer.alloc(0), SHA256_BYTES * 8);
  const integrity = createHmac('sha256', hmacKey).update(encIdentity).update(objectName).digest();
  return { credentialBlob: Buffer.concat([tpm2b(integrity), encIdentity]), secret };
}

/**
 * TPM 2.0 Part 1 §11.4.10.2 KDFa with SHA-256: K(i) = HMAC(key, [i]₃₂ ‖ label ‖ 0x00 ‖ context ‖ [bits]₃₂).
 *
 * @example
 * const aesKey = kdfa(seed, 'STORAGE', akName, 128);
 */
export function kdfa(key: Buffer, label: string, context: Buffer, bits: number): Buffer {
  const blocks: Buffer[] = [];
  for (let i = 1; blocks.length * SHA256_BYTES * 8 < bits; i++)
    blocks.push(createHmac('sha256', key).update(u32(i)).update(`${label}\0`).update(context).update(u32(bits)).digest());
  return Buffer.concat(blocks).subarray(0, Math.ceil(bits / 8));
}

/**
 * The file `tpm2_activatecredential -i` reads: magic 0xBADCC0DE ‖ version 1 ‖ TPM2B_ID_OBJECT ‖
 * TPM2B_ENCRYPTED_SECRET, all big-endian.
 *
 * @example
 * writeFileSync('cred.blob', encodeCredentialFile(makeCredential(ekKey, akName, secret)));
 */
export function encodeCredentialFile(made: MadeCredential): Buffer {
  return Buffer.concat([u32(CREDENTIAL_FILE_MAGIC), u32(CREDENTIAL_FILE_VERSION), tpm2b(made.credentialBlob), tpm2b(made.secret)]);
}

function tpm2b(bytes: Buffer): Buffer {
  const size = Buffer.alloc(2);
  size.writeUInt16BE(bytes.length);
  return Buffer.concat([size, bytes]);
}

function u32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return bytes;
}
