import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AttestorResult } from '../ports/attestor.ts';
import { evaluatePolicy, type AttestationPolicy, type AttestorOutcome, type PolicyRequirement } from './evaluate.ts';

const AGENT = 'agt_AAAAAAAAAAAAAAAAAAAAAA';
const DIGEST = `sha256:${'ab'.repeat(32)}`;

const oidc = (claims: AttestorResult['claims'] = {}): AttestorResult => ({
  attestor: 'oidc-token', status: 'affirming', measured: [], evidenceDigest: 'd1',
  claims: { repository_id: '731337001', runner_environment: 'github-hosted', ...claims },
});
const codeDigest = (digest = DIGEST): AttestorResult => ({
  attestor: 'code-digest', status: 'warning', claims: { digest }, measured: [], affirmableBy: ['digest'], evidenceDigest: 'd2',
});
/** A measuring attestor stands in for TPM/IMA or a pod's imageID. */
const measure = (digest = DIGEST, status: AttestorResult['status'] = 'affirming'): AttestorResult => ({
  attestor: 'image', status, claims: { image_digest: digest }, measured: ['image_digest'], evidenceDigest: 'd3',
});

const req = (attestor: string, extra: Partial<PolicyRequirement> = {}): PolicyRequirement => ({ attestor, claims: {}, minStatus: 'affirming', ...extra });
const policy = (anyOf: PolicyRequirement[][], extra: Partial<AttestationPolicy> = {}): AttestationPolicy => ({
  freshness: 600_000, anyOf: anyOf.map((allOf) => ({ allOf })), equal: [], ...extra,
});
const outcomes = (...items: Array<AttestorResult | [string, AttestorOutcome]>) =>
  new Map<string, AttestorOutcome>(items.map((i) => (Array.isArray(i) ? i : [i.attestor, { ok: true, result: i }])));

const EQUAL: AttestationPolicy['equal'] = [['image.image_digest', 'code-digest.digest']];

describe('evaluatePolicy', () => {
  test('one affirming attestor meeting its claim constraints affirms', () => {
    const evaluation = evaluatePolicy(policy([[req('oidc-token', { claims: { repository_id: '731337001', runner_environment: ['github-hosted', 'self-hosted'] } })]]), AGENT, outcomes(oidc()));
    assert.deepEqual(evaluation, { verdict: 'affirming', satisfiedBy: 0, failures: [], statuses: { 'oidc-token': 'affirming' } });
  });

  test('a list claim meets a constraint when one of its elements does', () => {
    const evaluation = evaluatePolicy(policy([[req('oidc-token', { claims: { groups: 'deployers' } })]]), AGENT, outcomes(oidc({ groups: ['readers', 'deployers'] })));
    assert.equal(evaluation.verdict, 'affirming');
  });

  test('a policy scoped to other agents → rejected, ERR_POLICY_AGENT_SCOPE', () => {
    const evaluation = evaluatePolicy(policy([[req('oidc-token')]], { agents: ['agt_BBBBBBBBBBBBBBBBBBBBBB'] }), AGENT, outcomes(oidc()));
    assert.deepEqual(evaluation.failures, [{ reason: 'ERR_POLICY_AGENT_SCOPE' }]);
    assert.equal(evaluation.verdict, 'rejected');
  });

  test('a claim that differs → rejected, ERR_POLICY_CLAIM_MISMATCH naming the claim', () => {
    const evaluation = evaluatePolicy(policy([[req('oidc-token', { claims: { repository_id: '1' } })]]), AGENT, outcomes(oidc()));
    assert.deepEqual(evaluation.failures, [{ attestor: 'oidc-token', claim: 'repository_id', reason: 'ERR_POLICY_CLAIM_MISMATCH' }]);
    assert.equal(evaluation.verdict, 'rejected');
  });

  test('a claim that is absent → ERR_POLICY_CLAIM_MISMATCH', () => {
    const evaluation = evaluatePolicy(policy([[req('oidc-token', { claims: { environment: 'prod' } })]]), AGENT, outcomes(oidc()));
    assert.equal(evaluation.failures[0]?.reason, 'ERR_POLICY_CLAIM_MISMATCH');
  });

  test('a required attestor without evidence → ERR_POLICY_ATTESTOR_MISSING', () => {
    const evaluation = evaluatePolicy(policy([[req('oidc-token'), req('image')]]), AGENT, outcomes(oidc()));
    assert.deepEqual(evaluation.failures, [{ attestor: 'image', reason: 'ERR_POLICY_ATTESTOR_MISSING' }]);
  });

  test('a rejected attestor fails its requirement with its own reason', () => {
    const evaluation = evaluatePolicy(policy([[req('oidc-token')]]), AGENT, outcomes(['oidc-token', { ok: false, reason: 'ERR_OIDC_TOKEN_AUDIENCE' }]));
    assert.deepEqual(evaluation.failures, [{ attestor: 'oidc-token', reason: 'ERR_OIDC_TOKEN_AUDIENCE' }]);
    assert.equal(evaluation.verdict, 'rejected');
  });

  test('code-digest alone is a warning: below the default minStatus → ERR_POLICY_STATUS_TOO_LOW', () => {
    const evaluation = evaluatePolicy(policy([[req('code-digest')]]), AGENT, outcomes(codeDigest()));
    assert.deepEqual(evaluation.failures, [{ attestor: 'code-digest', reason: 'ERR_POLICY_STATUS_TOO_LOW' }]);
  });

  test('code-digest alone with minStatus warning → verdict warning (PROTOCOL §3: at most warning)', () => {
    const evaluation = evaluatePolicy(policy([[req('code-digest', { minStatus: 'warning' })]]), AGENT, outcomes(codeDigest()));
    assert.equal(evaluation.verdict, 'warning');
    assert.equal(evaluation.statuses['code-digest'], 'warning');
  });

  test('an equality with a measured claim of an affirming attestor upgrades code-digest to affirming', () => {
    const evaluation = evaluatePolicy(policy([[req('image'), req('code-digest')]], { equal: EQUAL }), AGENT, outcomes(measure(), codeDigest()));
    assert.equal(evaluation.verdict, 'affirming');
    assert.deepEqual(evaluation.statuses, { image: 'affirming', 'code-digest': 'affirming' });
  });

  test('equal to a claim that is not a measurement: no upgrade', () => {
    const equal: AttestationPolicy['equal'] = [['oidc-token.sha', 'code-digest.digest']];
    const evaluation = evaluatePolicy(policy([[req('oidc-token'), req('code-digest')]], { equal }), AGENT, outcomes(oidc({ sha: DIGEST }), codeDigest()));
    assert.deepEqual(evaluation.failures, [{ attestor: 'code-digest', reason: 'ERR_POLICY_STATUS_TOO_LOW' }]);
  });

  test('a measurement by a merely warning attestor does not upgrade', () => {
    const evaluation = evaluatePolicy(policy([[req('image', { minStatus: 'warning' }), req('code-digest')]], { equal: EQUAL }), AGENT, outcomes(measure(DIGEST, 'warning'), codeDigest()));
    assert.equal(evaluation.verdict, 'rejected');
  });

  test('claims required equal that differ → ERR_POLICY_EQUALITY', () => {
    const evaluation = evaluatePolicy(policy([[req('image'), req('code-digest', { minStatus: 'warning' })]], { equal: EQUAL }), AGENT, outcomes(measure(), codeDigest(`sha256:${'cd'.repeat(32)}`)));
    assert.deepEqual(evaluation.failures, [{ claim: 'image.image_digest == code-digest.digest', reason: 'ERR_POLICY_EQUALITY' }]);
    assert.equal(evaluation.verdict, 'rejected');
  });

  test('an equality only binds alternatives that name both attestors', () => {
    const evaluation = evaluatePolicy(policy([[req('oidc-token')], [req('image'), req('code-digest')]], { equal: EQUAL }), AGENT, outcomes(oidc(), measure(), codeDigest(`sha256:${'cd'.repeat(32)}`)));
    assert.equal(evaluation.verdict, 'affirming');
    assert.equal(evaluation.satisfiedBy, 0);
  });

  test('any contraindicated result → contraindicated, even from an attestor the policy does not name', () => {
    const evaluation = evaluatePolicy(policy([[req('oidc-token')]]), AGENT, outcomes(oidc(), measure(DIGEST, 'contraindicated')));
    assert.deepEqual(evaluation.failures, [{ attestor: 'image', reason: 'ERR_POLICY_CONTRAINDICATED' }]);
    assert.equal(evaluation.verdict, 'contraindicated');
  });

  test('an affirming alternative wins over an earlier warning one', () => {
    const evaluation = evaluatePolicy(policy([[req('code-digest', { minStatus: 'warning' })], [req('oidc-token')]]), AGENT, outcomes(oidc(), codeDigest()));
    assert.equal(evaluation.verdict, 'affirming');
    assert.equal(evaluation.satisfiedBy, 1);
  });

  test('a satisfied policy still reports rejected evidence', () => {
    const evaluation = evaluatePolicy(policy([[req('oidc-token')]]), AGENT, outcomes(oidc(), ['code-digest', { ok: false, reason: 'ERR_CODE_DIGEST_MALFORMED' }]));
    assert.equal(evaluation.verdict, 'affirming');
    assert.deepEqual(evaluation.failures, [{ attestor: 'code-digest', reason: 'ERR_CODE_DIGEST_MALFORMED' }]);
  });
});
