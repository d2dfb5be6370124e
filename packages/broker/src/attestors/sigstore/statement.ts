/** in-toto Attestation Framework v1: the Statement layer (in-toto/attestation spec/v1/statement.md). */
export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
/** SLSA v1.0 provenance predicate (slsa.dev/spec/v1.0/provenance). */
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
/** DSSE payload type of in-toto statements (in-toto/attestation spec/v1/envelope.md). */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

const SHA256_HEX = /^[0-9a-f]{64}$/;
const MAX_CLAIM_LENGTH = 1024;

/** What the attestor reads from a statement; absent members stay undefined. */
export interface Statement {
  type: unknown;
  predicateType: unknown;
  /** The distinct sha256 subject digests, as `sha256:<lowercase hex>`. */
  subjectDigests: string[];
  /** From a SLSA provenance v1 predicate built by GitHub Actions (buildType workflow/v1). */
  provenance: { repository?: string; workflow?: string; builder?: string };
}

/**
 * Parses a DSSE payload as an in-toto statement; null when it is not a JSON object.
 *
 * @example
 * const statement = readStatement(envelope.payload);
 * if (statement?.type !== STATEMENT_V1) ...
 */
export function readStatement(payload: Buffer): Statement | null {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
  if (!isObject(value)) return null;
  return {
    type: value._type,
    predicateType: value.predicateType,
    subjectDigests: subjectDigests(value.subject),
    provenance: value.predicateType === SLSA_PROVENANCE_V1 ? provenanceClaims(value.predicate) : {},
  };
}

/** in-toto spec/v1/digest_set.md: lowercase hex; a subject without sha256 contributes nothing. */
function subjectDigests(subject: unknown): string[] {
  if (!Array.isArray(subject)) return [];
  const digests = subject.map((entry) => (isObject(entry) && isObject(entry.digest) ? entry.digest.sha256 : undefined));
  return [...new Set(digests.filter((hex): hex is string => typeof hex === 'string' && SHA256_HEX.test(hex)).map((hex) => `sha256:${hex}`))];
}

/**
 * Repository, workflow (spelled like Fulcio's Build Config URI: `<repository>/<path>@<ref>`) and
 * builder id. These are the signer's own statements: the attestor prefers the CA's extensions.
 */
function provenanceClaims(predicate: unknown): Statement['provenance'] {
  const path = (root: unknown, ...keys: string[]) => keys.reduce<unknown>((node, key) => (isObject(node) ? node[key] : undefined), root);
  const workflow = path(predicate, 'buildDefinition', 'externalParameters', 'workflow');
  const repository = text(path(workflow, 'repository'));
  const file = text(path(workflow, 'path'));
  const ref = text(path(workflow, 'ref'));
  return {
    repository,
    workflow: repository && file && ref ? `${repository}/${file}@${ref}` : undefined,
    builder: text(path(predicate, 'runDetails', 'builder', 'id')),
  };
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_CLAIM_LENGTH ? value : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
