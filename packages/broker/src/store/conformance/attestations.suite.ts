import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AttestationRecord } from '../../ports/attestations.ts';
import type { Store } from '../../ports/store.ts';
import { useFixture, type MakeFixture } from './fixture.ts';
import { aHuman, anAgent } from './records.ts';

const T0 = 1_700_000_400_000;

function anAttestation(n: number, agentId: string, overrides: Partial<AttestationRecord> = {}): AttestationRecord {
  return {
    id: `att_${n}`,
    agentId,
    jkt: `jkt-${n}`,
    policy: 'ci',
    verdict: 'affirming',
    results: [
      { attestor: 'oidc-token', status: 'affirming', reportedStatus: 'affirming', claims: { repository_id: '42', runner_environment: 'github-hosted' }, measured: [], evidenceDigest: `d-${n}`, expiresAt: T0 + 300_000 },
      { attestor: 'code-digest', status: 'rejected', reason: 'ERR_CODE_DIGEST_MALFORMED', message: 'digest must be a string', evidenceDigest: `e-${n}` },
    ],
    failures: [{ attestor: 'code-digest', reason: 'ERR_CODE_DIGEST_MALFORMED' }],
    satisfiedBy: 0,
    evidenceDigest: `all-${n}`,
    createdAt: T0 + n,
    expiresAt: T0 + n + 600_000,
    ...overrides,
  };
}

async function withAgents(store: Store, ...ns: number[]): Promise<void> {
  await store.humans.insert(aHuman(1));
  for (const n of ns) await store.agents.insert(anAgent(n, ['usr_1']));
}

export function attestationRepositorySuite(makeFixture: MakeFixture): void {
  describe('AttestationRepository', () => {
    const fixture = useFixture(makeFixture);

    test('a record reads back whole from the other connection, results and failures included', async () => {
      const { a, b } = fixture();
      await withAgents(a, 1);
      const record = anAttestation(1, 'agt_1');
      await a.attestations.insert(record);
      assert.deepEqual(await b.attestations.get('att_1'), record);
      assert.equal(await b.attestations.get('att_404'), null);
    });

    test('a rejected record without a decisive alternative keeps satisfiedBy null', async () => {
      const { a, b } = fixture();
      await withAgents(a, 1);
      const record = anAttestation(1, 'agt_1', { verdict: 'rejected', satisfiedBy: null, expiresAt: T0 + 1 });
      await a.attestations.insert(record);
      assert.deepEqual(await b.attestations.get('att_1'), record);
    });

    test('listByAgent returns only that agent\'s records, newest first, at most limit', async () => {
      const { a, b } = fixture();
      await withAgents(a, 1, 2);
      for (const n of [1, 2, 3, 4]) await (n % 2 ? a : b).attestations.insert(anAttestation(n, 'agt_1'));
      await a.attestations.insert(anAttestation(5, 'agt_2'));
      assert.deepEqual((await b.attestations.listByAgent('agt_1', 3)).map((r) => r.id), ['att_4', 'att_3', 'att_2']);
      assert.deepEqual((await a.attestations.listByAgent('agt_2', 10)).map((r) => r.id), ['att_5']);
      assert.deepEqual(await a.attestations.listByAgent('agt_404', 10), []);
    });

    test('a duplicate id is refused and the first record stays', async () => {
      const { a, b } = fixture();
      await withAgents(a, 1);
      await a.attestations.insert(anAttestation(1, 'agt_1'));
      await assert.rejects(b.attestations.insert(anAttestation(1, 'agt_1', { verdict: 'rejected' })));
      assert.equal((await a.attestations.get('att_1'))?.verdict, 'affirming');
    });

    test('a record for an unknown agent is refused', async () => {
      const { a } = fixture();
      await assert.rejects(a.attestations.insert(anAttestation(1, 'agt_404')));
      assert.equal(await a.attestations.get('att_1'), null);
    });
  });
}
