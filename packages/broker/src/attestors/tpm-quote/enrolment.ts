import { createHash, randomBytes, timingSafeEqual, X509Certificate } from 'node:crypto';
import { MandateError, type ErrorCode } from '../../core/errors.ts';
import type { AttestationKeyRecord, AttestationKeyRepository } from '../../ports/attestation-keys.ts';
import type { Clock } from '../../ports/clock.ts';
import { checkEkCertificate, loadEkAuthorities } from './ek-certificate.ts';
import type { TpmQuoteConfig } from './index.ts';
import { encodeCredentialFile, makeCredential } from './make-credential.ts';
import { objectName, readPublicArea, TPMA_OBJECT, type PublicArea } from './public-area.ts';
import { TPM_ALG, TPM_ECC_NIST_P256 } from './tpm-reader.ts';
import type { KeyEnrolment, KeyEnrolmentRequest, PendingKeyEnrolment } from '../../ports/key-enrolment.ts';

/** The request, challenge and pending state are the port's (ports/key-enrolment.ts): this module implements it. */
export type EnrolmentRequest = KeyEnrolmentRequest;
export type PendingEnrolment = PendingKeyEnrolment;
export type EnrolmentChallenge = Awaited<ReturnType<KeyEnrolment['begin']>>['challenge'];
export type TpmEnrolment = KeyEnrolment;

const SECRET_BYTES = 32;
const MAX_INPUT_CHARS = 8192;

/**
 * AK enrolment by credential activation (TPM 2.0 Part 1 §24; README "Enrolment"). An EK only
 * decrypts, it cannot sign for an AK, so the broker encrypts a secret that the TPM releases only
 * when the named AK is loaded beside that EK. The caller keeps `pending` server-side, for the
 * authenticated agent `pending.agentId` only, and drops it after one answer.
 *
 * @example
 * const enrolment = createEnrolment(config, { repository: store.attestationKeys, clock });
 * const { challenge, pending } = await enrolment.begin({ agentId, akPublic, ekPublic, ekCertificate });
 * const record = await enrolment.complete(pending, answerFromAgent);
 */
export function createEnrolment(config: TpmQuoteConfig, deps: { repository: AttestationKeyRepository; clock: Clock }): TpmEnrolment {
  if (config.ekCaFile === undefined) throw new Error('AK enrolment needs tpm-quote.ekCaFile (the CAs that issue EK certificates)');
  const authorities = loadEkAuthorities(config.ekCaFile);
  return {
    async begin(request) {
      const now = deps.clock.now();
      const ak = checkAkPublic(request.akPublic);
      const { ekArea, ekCert, ekDer } = readEk(request);
      checkEkCertificate(ekCert, ekArea, authorities, now);
      const enrolled = await deps.repository.listForAgent(request.agentId);
      if (enrolled.some((record) => record.akName === objectName(ak).toString('hex'))) fail('ERR_TPM_QUOTE_AK_ENROLLED', 'this attestation key is already enrolled for the agent');
      return issueChallenge(request.agentId, ak, ekCert, ekDer, now + config.enrolmentTtl);
    },
    async complete(pending, activated) {
      const now = deps.clock.now();
      if (now > pending.expiresAt) fail('ERR_TPM_QUOTE_ENROLMENT_EXPIRED', 'the enrolment challenge has expired: start again');
      // Compared as digests of equal length, in constant time: the answer is a secret.
      const answer = typeof activated === 'string' && activated.length <= MAX_INPUT_CHARS ? Buffer.from(activated, 'base64') : Buffer.alloc(0);
      if (!timingSafeEqual(sha256(answer), Buffer.from(pending.secretDigest, 'base64url'))) fail('ERR_TPM_QUOTE_ENROLMENT_SECRET', 'the activated credential is wrong: the AK is not in the TPM of this EK');
      const record = { agentId: pending.agentId, akName: pending.akName, akPublic: pending.akPublic, ekCertificateDigest: pending.ekCertificateDigest, createdAt: now };
      await deps.repository.add(record);
      return record;
    },
  };
}

/** MakeCredential over a fresh secret; only the secret's digest is kept in `pending`. */
function issueChallenge(agentId: string, ak: PublicArea, ekCert: X509Certificate, ekDer: Buffer, expiresAt: number): { challenge: EnrolmentChallenge; pending: PendingEnrolment } {
  const secret = randomBytes(SECRET_BYTES);
  const akName = objectName(ak);
  const credential = encodeCredentialFile(makeCredential(ekCert.publicKey, akName, secret)).toString('base64');
  const pending: PendingEnrolment = {
    agentId,
    akName: akName.toString('hex'),
    akPublic: ak.bytes.toString('base64'),
    ekCertificateDigest: `sha256:${sha256(ekDer).toString('hex')}`,
    secretDigest: sha256(secret).toString('base64url'),
    expiresAt,
  };
  return { challenge: { credential, akName: pending.akName, expiresAt }, pending };
}

/** Attributes that make a key an AK that only the TPM holds and that signs only TPM-made data, one error each. */
const REQUIRED_ATTRIBUTES: ReadonlyArray<[bit: number, set: boolean, code: ErrorCode, message: string]> = [
  [TPMA_OBJECT.restricted, true, 'ERR_TPM_QUOTE_AK_NOT_RESTRICTED', 'the AK must be restricted: it could sign forged quotes'],
  [TPMA_OBJECT.sign, true, 'ERR_TPM_QUOTE_AK_NOT_SIGNING', 'the AK must be a signing key'],
  [TPMA_OBJECT.fixedTPM, true, 'ERR_TPM_QUOTE_AK_NOT_FIXED_TPM', 'the AK must be fixedTPM: it could be duplicated to another TPM'],
  [TPMA_OBJECT.fixedParent, true, 'ERR_TPM_QUOTE_AK_NOT_FIXED_PARENT', 'the AK must be fixedParent'],
  [TPMA_OBJECT.sensitiveDataOrigin, true, 'ERR_TPM_QUOTE_AK_NOT_TPM_GENERATED', 'the AK must be generated in the TPM (sensitiveDataOrigin)'],
  [TPMA_OBJECT.decrypt, false, 'ERR_TPM_QUOTE_AK_DECRYPT', 'the AK must not be a decryption key'],
];

/**
 * Reads the AK public area and refuses anything that is not a restricted, TPM-bound ECDSA P-256
 * signing key with SHA-256 names.
 *
 * @example
 * const ak = checkAkPublic(readFileSync('ak.pub').toString('base64'));
 */
export function checkAkPublic(akPublic: unknown): PublicArea {
  const ak = readArea(akPublic, 'ERR_TPM_QUOTE_AK_MALFORMED', 'akPublic');
  for (const [bit, set, code, message] of REQUIRED_ATTRIBUTES) if (((ak.attributes & bit) !== 0) !== set) fail(code, message);
  const eccP256 = ak.type === TPM_ALG.ECC && ak.curveOrBits === TPM_ECC_NIST_P256 && ak.unique.every((coordinate) => coordinate.length === 32);
  const ecdsaSha256 = ak.scheme.algorithm === TPM_ALG.ECDSA && ak.scheme.hash === TPM_ALG.SHA256 && ak.nameAlg === TPM_ALG.SHA256;
  if (!eccP256 || !ecdsaSha256) fail('ERR_TPM_QUOTE_AK_ALGORITHM', 'the AK must be ECC NIST P-256 with the ECDSA-SHA256 scheme and SHA-256 names');
  return ak;
}

/** The default RSA 2048 EK template (TCG EK Credential Profile, template L-1): what makeCredential supports. */
function readEk(request: EnrolmentRequest): { ekArea: PublicArea; ekCert: X509Certificate; ekDer: Buffer } {
  const ekArea = readArea(request.ekPublic, 'ERR_TPM_QUOTE_EK_MALFORMED', 'ekPublic');
  const storage = (ekArea.attributes & TPMA_OBJECT.restricted) !== 0 && (ekArea.attributes & TPMA_OBJECT.decrypt) !== 0;
  const aes128Cfb = ekArea.symmetric.algorithm === TPM_ALG.AES && ekArea.symmetric.keyBits === 128 && ekArea.symmetric.mode === TPM_ALG.CFB;
  if (ekArea.type !== TPM_ALG.RSA || ekArea.curveOrBits !== 2048 || ekArea.nameAlg !== TPM_ALG.SHA256 || !storage || !aes128Cfb)
    fail('ERR_TPM_QUOTE_EK_UNSUPPORTED', 'only an RSA 2048 EK with SHA-256 names and AES-128-CFB (the default EK template) is supported');
  const ekDer = decode(request.ekCertificate) ?? fail('ERR_TPM_QUOTE_EK_MALFORMED', 'ekCertificate must be base64 DER');
  try {
    return { ekArea, ekCert: new X509Certificate(ekDer), ekDer };
  } catch {
    fail('ERR_TPM_QUOTE_EK_MALFORMED', 'ekCertificate is not an X.509 certificate');
  }
}

function readArea(value: unknown, code: ErrorCode, member: string): PublicArea {
  const bytes = decode(value) ?? fail(code, `${member} must be base64 of a TPM2B_PUBLIC`);
  try {
    return readPublicArea(bytes);
  } catch (error) {
    fail(code, `${member}: ${error instanceof RangeError ? error.message : 'not a TPM public area'}`);
  }
}

function decode(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_INPUT_CHARS) return undefined;
  const bytes = Buffer.from(value, 'base64');
  return bytes.length > 0 ? bytes : undefined;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest();

function fail(code: ErrorCode, message: string): never {
  throw new MandateError(code, message);
}
