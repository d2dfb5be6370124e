import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { digestEvidence } from '../attestors/evidence-digest.ts';
import { startLocalIssuer, type LocalIssuer } from '../attestors/oidc-token/local-issuer.ts';
import { attestorsConfigSchema, createAttestors } from '../attestors/registry.ts';
import { createAuditLog } from '../audit/audit-service.ts';
import type { Agent } from '../core/model.ts';
import { createKeyService } from '../keys/key-service.ts';
import type { AttestationPolicy, PolicyRequirement } from '../policy/evaluate.ts';
import type { AttestationRecord } from '../ports/attestations.ts';
import type { Attestor } from '../ports/attestor.ts';
import { aHuman, anAgent } from '../store/conformance/records.ts';
import { createSqliteStore, type SqliteStore } from '../store/sqlite/index.ts';
import { cryptoRandom } from '../system.ts';
import { createAttestationResultVerifier } from './attestation-result.ts';
import { createAttestationService, type EvidenceItem } from './attestation.ts';
import { createChallengeService, evidenceAudience } from './challenge.ts';

const ISSUER = 'http://localhost:7420';
const JKT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';
const DIGEST = `sha256:${'5e'.repeat(32)}`;
const dir = mkdtempSync(join(tmpdir(), 'mandate-attest-'));
let now = Date.now();
const clock = { now: () => now };
let store: SqliteStore;
let issuer: LocalIssuer;
let attest: ReturnType<typeof createAttestationService>;
let challenges: ReturnType<typeof createChallengeService>;
let verifyResult: ReturnType<typeof createAttestationResultVerifier>;
const contraindicated: AttestationRecord[] = [];

/** Test-only attestor standing in for a measuring one (TPM/IMA log, a pod's imageID): its digest is a measurement. */
const imageMeasurer: Attestor = {
  id: 'image',
  verify: async (evidence) => ({ attestor: 'image', status: 'affirming', claims: { image_digest: (evidence as { digest: string }).digest }, measured: ['image_digest'], evidenceDigest: digestEvidence(evidence) }),
};
/** Test-only attestor that always finds contraindicated evidence (a TPM quote with an unexpected PCR, say). */
const tamperProbe: Attestor = {
  id: 'probe',
  verify: async (evidence) => ({ attestor: 'probe', status: 'contraindicated', claims: {}, measured: [], evidenceDigest: digestEvidence(evidence) }),
};

const req = (attestor: string, extra: Partial<PolicyRequirement> = {}): PolicyRequirement => ({ attestor, claims: {}, minStatus: 'affirming', ...extra });
const policy = (allOf: PolicyRequirement[], extra: Partial<AttestationPolicy> = {}): AttestationPolicy => ({ freshness: 600_000, anyOf: [{ allOf }], equal: [], ...extra });
const GITHUB = req('oidc-token', { claims: { repository_id: '731337001', repository_owner_id: '4242001', runner_environment: 'github-hosted' } });
const POLICIES: Record<string, AttestationPolicy> = {
  ci: policy([GITHUB]),
  brief: policy([GITHUB], { freshness: 60_000 }),
  claimed: policy([req('code-digest', { minStatus: 'warning' })]),
  measured: policy([req('image'), req('code-digest')], { equal: [['image.image_digest', 'code-digest.digest']] }),
  scoped: policy([GITHUB], { agents: ['agt_2'] }),
};
const agents: Record<string, Agent> = Object.fromEntries(Object.keys(POLICIES).map((name, i) => [name, anAgent(i + 1, ['usr_1'], { policy: name })]));

before(async () => {
  store = await createSqliteStore({ path: join(dir, 'store.db') });
  issuer = await startLocalIssuer(() => now);
  const keys = createKeyService({ store: store.keys, clock, activationDelay: 0, overlap: 3_600_000 });
  await keys.ensureKey();
  await store.humans.insert(aHuman(1));
  for (const agent of Object.values(agents)) await store.agents.insert(agent);
  const audit = createAuditLog({ sink: store.audit, keys, clock, chain: 'main', issuer: ISSUER, checkpointFile: join(dir, 'checkpoints.jsonl') });
  challenges = createChallengeService({ key: randomBytes(32), clock, random: cryptoRandom, replay: store.replay, ttlMs: 120_000 });
  const config = attestorsConfigSchema.parse({ 'oidc-token': { issuers: [{ issuer: issuer.issuer, discovery: true, claims: ['repository_id', 'repository_owner_id', 'runner_environment', 'sub'] }] }, 'code-digest': {} });
  const attestors = new Map([...createAttestors(config, { replay: store.replay, clock }), ['image', imageMeasurer], ['probe', tamperProbe]]);
  attest = createAttestationService({
    attestations: store.attestations, challenges, attestors, policies: POLICIES, keys, audit, clock, random: cryptoRandom, issuer: ISSUER,
    onContraindicated: async (record) => void contraindicated.push(record),
  });
  verifyResult = createAttestationResultVerifier({ keys, issuer: ISSUER, clock });
});
after(async () => {
  await issuer.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

let requests = 0;
type Evidence = (nonce: string) => Promise<EvidenceItem[]> | EvidenceItem[];
async function attestAs(agent: Agent, evidence: Evidence, nonce = challenges.issueChallenge().nonce) {
  const requestId = `req_${++requests}`;
  return { requestId, outcome: attest({ agent, jkt: JKT, nonce, evidence: await evidence(nonce), requestId }) };
}
const githubToken = async (nonce: string, claims: Record<string, unknown> = {}): Promise<EvidenceItem> =>
  ({ attestor: 'oidc-token', evidence: await issuer.sign({ aud: evidenceAudience(nonce, JKT), ...claims }) });
const auditFor = async (requestId: string) => (await store.audit.read('main', 1, 10_000)).filter((e) => e.requestId === requestId);
const decode = (jwt: string) => jwt.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));

async function rejected(pending: Promise<unknown>, code: string): Promise<Record<string, unknown>> {
  let details: Record<string, unknown> = {};
  await assert.rejects(pending, (e: { code?: string; details?: Record<string, unknown> }) => {
    assert.equal(e.code, code, String(e));
    details = e.details ?? {};
    return true;
  });
  return details;
}

describe('attest: verdicts', () => {
  test('an affirming GitHub Actions token: a signed result bound to agent and key, stored and audited, raw token kept nowhere', async () => {
    let token = '';
    const { requestId, outcome } = await attestAs(agents.ci!, async (nonce) => {
      const item = await githubToken(nonce);
      token = item.evidence as string;
      return [item];
    });
    const { token: result, record, expiresIn } = await outcome;
    const [header, claims] = decode(result);
    const iat = Math.floor(now / 1000);
    assert.equal(header.typ, 'attestation-result+jwt');
    assert.deepEqual({ ...claims, attestors: undefined }, {
      iss: ISSUER, sub: agents.ci!.id, aud: ISSUER, jti: record.id, cnf: { jkt: JKT }, iat, exp: iat + 300,
      verdict: 'affirming', policy: 'ci', evidence_digest: record.evidenceDigest, attestors: undefined,
    });
    assert.match(record.id, /^att_[A-Za-z0-9_-]{22}$/);
    assert.equal(expiresIn, 300);
    assert.deepEqual(claims.attestors['oidc-token'].claims, { iss: issuer.issuer, repository_id: '731337001', repository_owner_id: '4242001', runner_environment: 'github-hosted', sub: 'repo:acme/agent:ref:refs/heads/main' });
    assert.equal((await verifyResult(result, { agentId: agents.ci!.id, jkt: JKT })).id, record.id);
    assert.deepEqual(await store.attestations.get(record.id), record);
    const [event] = await auditFor(requestId);
    assert.deepEqual(
      { type: event?.type, actor: event?.actor, jti: event?.jti, evidenceDigest: event?.evidenceDigest, data: event?.data },
      { type: 'attestation.verified', actor: agents.ci!.id, jti: record.id, evidenceDigest: record.evidenceDigest, data: { attestation_id: record.id, policy: 'ci', verdict: 'affirming', attestors: { 'oidc-token': { status: 'affirming' } }, failures: [] } },
    );
    const signature = token.split('.')[2]!;
    assert.ok(!JSON.stringify(record).includes(signature) && !JSON.stringify(event).includes(signature));
  });

  test('a policy freshness shorter than the evidence caps exp', async () => {
    const { token } = await (await attestAs(agents.brief!, async (nonce) => [await githubToken(nonce)])).outcome;
    const [, claims] = decode(token);
    assert.equal(claims.exp - claims.iat, 60);
  });

  test('code-digest alone: verdict warning (a claim, not a measurement)', async () => {
    const { token, record } = await (await attestAs(agents.claimed!, () => [{ attestor: 'code-digest', evidence: { digest: DIGEST } }])).outcome;
    assert.equal(decode(token)[1].verdict, 'warning');
    assert.equal(record.results[0]?.status, 'warning');
  });

  test('equality with a measured claim (test attestor "image") upgrades code-digest to affirming', async () => {
    const evidence = () => [{ attestor: 'image', evidence: { digest: DIGEST } }, { attestor: 'code-digest', evidence: { digest: DIGEST } }];
    const { token, record } = await (await attestAs(agents.measured!, evidence)).outcome;
    const [, claims] = decode(token);
    assert.equal(claims.verdict, 'affirming');
    assert.deepEqual(claims.attestors['code-digest'], { status: 'affirming', claims: { digest: DIGEST } });
    assert.deepEqual(record.results.map((r) => [r.attestor, r.status, 'reportedStatus' in r ? r.reportedStatus : null]), [['image', 'affirming', 'affirming'], ['code-digest', 'affirming', 'warning']]);
  });

  test('claims required equal that differ → ERR_ATTESTATION_REJECTED (ERR_POLICY_EQUALITY), stored and audited', async () => {
    const evidence = () => [{ attestor: 'image', evidence: { digest: DIGEST } }, { attestor: 'code-digest', evidence: { digest: `sha256:${'00'.repeat(32)}` } }];
    const { requestId, outcome } = await attestAs(agents.measured!, evidence);
    const details = await rejected(outcome, 'ERR_ATTESTATION_REJECTED');
    assert.deepEqual(details.failures, [{ claim: 'image.image_digest == code-digest.digest', reason: 'ERR_POLICY_EQUALITY' }, { attestor: 'code-digest', reason: 'ERR_POLICY_STATUS_TOO_LOW' }]);
    const record = await store.attestations.get(details.attestation_id as string);
    assert.equal(record?.verdict, 'rejected');
    assert.equal(record?.expiresAt, record?.createdAt);
    const [event] = await auditFor(requestId);
    assert.equal(event?.type, 'attestation.rejected');
    assert.equal(event?.jti, null);
    assert.deepEqual(event?.data.failures, ['ERR_POLICY_EQUALITY', 'ERR_POLICY_STATUS_TOO_LOW']);
  });

  test('contraindicated (test attestor "probe") → ERR_ATTESTATION_CONTRAINDICATED, hook called, audited', async () => {
    const { requestId, outcome } = await attestAs(agents.ci!, async (nonce) => [await githubToken(nonce), { attestor: 'probe', evidence: 'quote' }]);
    const details = await rejected(outcome, 'ERR_ATTESTATION_CONTRAINDICATED');
    assert.equal(contraindicated.at(-1)?.id, details.attestation_id);
    const [event] = await auditFor(requestId);
    assert.equal(event?.type, 'attestation.rejected');
    assert.equal(event?.data.verdict, 'contraindicated');
    assert.deepEqual(event?.data.attestors, { 'oidc-token': { status: 'affirming' }, probe: { status: 'contraindicated' } });
  });

  test('a failing attestor is stored with its reason and the digest of what was sent, never the evidence', async () => {
    let token = '';
    const { outcome } = await attestAs(agents.ci!, async () => {
      token = await issuer.sign({ aud: 'https://github.com/acme' });
      return [{ attestor: 'oidc-token', evidence: token }];
    });
    const details = await rejected(outcome, 'ERR_ATTESTATION_REJECTED');
    const record = await store.attestations.get(details.attestation_id as string);
    assert.deepEqual(record?.results.map((r) => [r.status, 'reason' in r ? r.reason : null, r.evidenceDigest]), [['rejected', 'ERR_OIDC_TOKEN_AUDIENCE', digestEvidence(token)]]);
    assert.deepEqual(details.failures, [{ attestor: 'oidc-token', reason: 'ERR_OIDC_TOKEN_AUDIENCE' }]);
    assert.ok(!JSON.stringify(record).includes(token.split('.')[1]!));
  });
});

describe('attest: request rejections, audited, nothing stored', () => {
  const storedCount = async (agent: Agent) => (await store.attestations.listByAgent(agent.id, 1000)).length;

  test('a stale challenge → ERR_CHALLENGE_EXPIRED', async () => {
    const before = await storedCount(agents.ci!);
    const { nonce } = challenges.issueChallenge();
    now += 120_000;
    const { requestId, outcome } = await attestAs(agents.ci!, async (n) => [await githubToken(n)], nonce);
    await rejected(outcome, 'ERR_CHALLENGE_EXPIRED');
    assert.deepEqual((await auditFor(requestId)).map((e) => [e.type, e.data.reason]), [['attestation.rejected', 'ERR_CHALLENGE_EXPIRED']]);
    assert.equal(await storedCount(agents.ci!), before);
  });

  test('a replayed challenge → ERR_CHALLENGE_REPLAYED', async () => {
    const { nonce } = challenges.issueChallenge();
    await (await attestAs(agents.ci!, async (n) => [await githubToken(n)], nonce)).outcome;
    await rejected((await attestAs(agents.ci!, async (n) => [await githubToken(n)], nonce)).outcome, 'ERR_CHALLENGE_REPLAYED');
  });

  test('an unknown attestor → ERR_ATTESTOR_UNKNOWN, and the challenge is not spent', async () => {
    const { nonce } = challenges.issueChallenge();
    const { requestId, outcome } = await attestAs(agents.ci!, () => [{ attestor: 'tpm-quote', evidence: 'AAAA' }], nonce);
    await rejected(outcome, 'ERR_ATTESTOR_UNKNOWN');
    assert.equal((await auditFor(requestId))[0]?.data.reason, 'ERR_ATTESTOR_UNKNOWN');
    await (await attestAs(agents.ci!, async (n) => [await githubToken(n)], nonce)).outcome;
  });

  test('a policy scoped to another agent → ERR_POLICY_AGENT_SCOPE', async () => {
    await rejected((await attestAs(agents.scoped!, async (n) => [await githubToken(n)])).outcome, 'ERR_POLICY_AGENT_SCOPE');
    assert.equal(await storedCount(agents.scoped!), 0);
  });

  test('an empty list or one attestor twice → ERR_ATTESTATION_EVIDENCE_INVALID', async () => {
    await rejected((await attestAs(agents.ci!, () => [])).outcome, 'ERR_ATTESTATION_EVIDENCE_INVALID');
    const twice = async (n: string) => [await githubToken(n), await githubToken(n)];
    await rejected((await attestAs(agents.ci!, twice)).outcome, 'ERR_ATTESTATION_EVIDENCE_INVALID');
  });
});
