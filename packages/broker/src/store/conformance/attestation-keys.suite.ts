import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { AttestationKeyRecord, AttestationKeyRepository } from '../../ports/attestation-keys.ts';
import type { Store } from '../../ports/store.ts';
import { aHuman, anAgent } from './records.ts';

const T0 = 1_700_000_500_000;

/** The part of a store this suite touches; a `StoreFixture` fits once `Store` has `attestationKeys`. */
type KeyedStore = Pick<Store, 'humans' | 'agents'> & { attestationKeys: AttestationKeyRepository };
export interface AttestationKeysFixture {
  a: KeyedStore;
  b: KeyedStore;
  cleanup(): Promise<void>;
}

function anAttestationKey(n: number, agentId: string, overrides: Partial<AttestationKeyRecord> = {}): AttestationKeyRecord {
  return {
    agentId,
    akName: `000b${n.toString(16).padStart(64, '0')}`,
    akPublic: Buffer.from(`ak-public-${n}`).toString('base64'),
    ekCertificateDigest: `sha256:${n.toString(16).padStart(64, 'e')}`,
    createdAt: T0 + n,
    ...overrides,
  };
}

async function withAgents(store: KeyedStore, ...ns: number[]): Promise<void> {
  await store.humans.insert(aHuman(1));
  for (const n of ns) await store.agents.insert(anAgent(n, ['usr_1']));
}

export function attestationKeysSuite(makeFixture: () => Promise<AttestationKeysFixture>): void {
  describe('AttestationKeyRepository', () => {
    // As `useFixture` does, for the narrower fixture type: a fresh database per test.
    let current: AttestationKeysFixture | undefined;
    beforeEach(async () => {
      current = await makeFixture();
    });
    afterEach(async () => {
      await current?.cleanup();
      current = undefined;
    });
    const fixture = () => current ?? assert.fail('fixture used outside a test');

    test('a key added on one connection is listed whole on the other', async () => {
      const { a, b } = fixture();
      await withAgents(a, 1);
      const record = anAttestationKey(1, 'agt_1');
      await a.attestationKeys.add(record);
      assert.deepEqual(await b.attestationKeys.listForAgent('agt_1'), [record]);
    });

    test('listForAgent returns only that agent\'s keys, oldest first', async () => {
      const { a, b } = fixture();
      await withAgents(a, 1, 2);
      await a.attestationKeys.add(anAttestationKey(3, 'agt_1'));
      await b.attestationKeys.add(anAttestationKey(1, 'agt_1'));
      await a.attestationKeys.add(anAttestationKey(2, 'agt_2'));
      assert.deepEqual((await b.attestationKeys.listForAgent('agt_1')).map((k) => k.createdAt), [T0 + 1, T0 + 3]);
      assert.deepEqual((await a.attestationKeys.listForAgent('agt_2')).length, 1);
      assert.deepEqual(await a.attestationKeys.listForAgent('agt_404'), []);
    });

    test('the same AK twice for one agent is refused and the first record stays', async () => {
      const { a, b } = fixture();
      await withAgents(a, 1);
      await a.attestationKeys.add(anAttestationKey(1, 'agt_1'));
      await assert.rejects(b.attestationKeys.add(anAttestationKey(1, 'agt_1', { akPublic: 'b3RoZXI=' })));
      assert.equal((await a.attestationKeys.listForAgent('agt_1'))[0]?.akPublic, anAttestationKey(1, 'agt_1').akPublic);
    });

    test('a key for an unknown agent is refused', async () => {
      const { a } = fixture();
      await assert.rejects(a.attestationKeys.add(anAttestationKey(1, 'agt_404')));
    });

    test('remove deletes exactly one key and reports whether it existed', async () => {
      const { a, b } = fixture();
      await withAgents(a, 1);
      await a.attestationKeys.add(anAttestationKey(1, 'agt_1'));
      await a.attestationKeys.add(anAttestationKey(2, 'agt_1'));
      assert.equal(await b.attestationKeys.remove('agt_1', anAttestationKey(1, 'agt_1').akName), true);
      assert.equal(await b.attestationKeys.remove('agt_1', anAttestationKey(1, 'agt_1').akName), false);
      assert.deepEqual((await a.attestationKeys.listForAgent('agt_1')).map((k) => k.akName), [anAttestationKey(2, 'agt_1').akName]);
    });
  });
}
