import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkChain, GENESIS_HASH, type AuditEventInput, type ChainHead } from '../../core/audit-chain.ts';
import type { HeadSealer } from '../../ports/audit-sink.ts';
import { nodeChainHashing } from '../chain-hashing.ts';
import { onBoth, useFixture, type MakeFixture } from './fixture.ts';

/** A stand-in for the JWS signer that remembers every head it sealed. */
function recordingSealer(): { seal: HeadSealer; sealed: Map<string, string> } {
  const sealed = new Map<string, string>();
  const seal: HeadSealer = (h: ChainHead, time: number) => {
    const jws = `sealed:${h.chain}:${h.seq}:${h.hash}`;
    sealed.set(`${h.chain}:${h.seq}:${time}`, jws);
    return jws;
  };
  return { seal, sealed };
}

const events = (n: number, tag: string): AuditEventInput[] =>
  Array.from({ length: n }, (_, i) => ({ type: 'token.issued', actor: `agt_${tag}`, jti: `${tag}-${i}`, data: { i, tag } }));

export function auditSinkSuite(makeFixture: MakeFixture): void {
  describe('AuditSink', () => {
    const fixture = useFixture(makeFixture);

    test('an empty append stores nothing and seals nothing', async () => {
      const { a } = fixture();
      const { seal, sealed } = recordingSealer();
      assert.deepEqual(await a.audit.append('main', [], 1, seal), []);
      assert.equal(sealed.size, 0);
      assert.equal(await a.audit.head('main'), null);
      assert.deepEqual(await a.audit.chains(), []);
    });

    test('the first append starts at seq 1 after the genesis hash and stores every field', async () => {
      const { a, b } = fixture();
      const { seal } = recordingSealer();
      const input: AuditEventInput = { type: 'mandate.approved', actor: 'usr_1', approver: 'usr_1', mandateId: 'mdt_1', jti: 'j', evidenceDigest: 'sha256:ab', requestId: 'req_1', data: { scope: ['x'], n: 1 } };
      const records = await a.audit.append('main', [input, { type: 'token.issued', actor: null }], 1000, seal);
      assert.deepEqual(records.map((r) => [r.seq, r.time]), [[1, 1000], [2, 1000]]);
      assert.equal(records[0]!.prevHash, GENESIS_HASH);
      assert.deepEqual(records[1], { ...records[1]!, approver: null, mandateId: null, jti: null, evidenceDigest: null, requestId: null, data: {} });
      assert.deepEqual(await b.audit.read('main', 1, 10), records);
      assert.deepEqual(checkChain(records, nodeChainHashing), []);
    });

    test('20 concurrent appends to one chain from two connections stay gap-free and linked', async () => {
      const f = fixture();
      const { seal, sealed } = recordingSealer();
      const batches = await onBoth(f, 20, (store, i) => store.audit.append('main', events(1 + (i % 3), `b${i}`), 5000 + i, seal));
      for (const batch of batches) {
        batch.forEach((r, k) => assert.equal(r.seq, batch[0]!.seq + k, 'a batch occupies consecutive seqs'));
      }
      const stored = await f.b.audit.read('main', 1, 1000);
      const total = batches.reduce((n, batch) => n + batch.length, 0);
      assert.deepEqual(stored.map((r) => r.seq), Array.from({ length: total }, (_, i) => i + 1));
      assert.deepEqual(checkChain(stored, nodeChainHashing), []);
      assert.deepEqual(stored, batches.flat().sort((x, y) => x.seq - y.seq));
      // One seal per commit: PostgreSQL commits each append alone; SQLite's group commit seals once per batch.
      assert.ok(sealed.size >= 1 && sealed.size <= 20, `${sealed.size} seals for 20 appends`);
      const last = stored.at(-1)!;
      const head = await f.a.audit.head('main');
      assert.deepEqual(head, { chain: 'main', seq: total, hash: last.hash, jws: sealed.get(`main:${total}:${last.time}`) });
    });

    test('one append of 6,000 events (more than 65,535 parameters as rows of 13) is stored whole, awkward text intact', async () => {
      const { a, b } = fixture();
      const { seal } = recordingSealer();
      const awkward = 'quote " backslash \\ braces {} comma , null NULL é 🙂';
      const inputs = events(6_000, 'big').map((input, i) => ({ ...input, requestId: i % 2 === 0 ? awkward : null, data: { text: awkward, i } }));
      const records = await a.audit.append('main', inputs, 7000, seal);
      assert.equal(records.length, 6_000);
      const stored = await b.audit.read('main', 1, 10_000);
      assert.deepEqual(stored, records);
      assert.deepEqual([stored[0]!.requestId, stored[1]!.requestId, stored[5_999]!.data], [awkward, null, { text: awkward, i: 5_999 }]);
      assert.deepEqual(checkChain(stored, nodeChainHashing), []);
    });

    test('when sealing fails nothing is stored and the chain continues from the old head', async () => {
      const { a, b } = fixture();
      const { seal } = recordingSealer();
      await a.audit.append('main', events(2, 'ok'), 1, seal);
      const failing: HeadSealer = () => { throw new Error('signer down'); };
      await assert.rejects(b.audit.append('main', events(3, 'lost'), 2, failing), { message: 'signer down' });
      assert.equal((await a.audit.head('main'))?.seq, 2);
      const [next] = await b.audit.append('main', events(1, 'next'), 3, seal);
      assert.equal(next?.seq, 3);
      assert.deepEqual(checkChain(await a.audit.read('main', 1, 100), nodeChainHashing), []);
    });

    test('read starts at fromSeq and honours the limit', async () => {
      const { a, b } = fixture();
      const { seal } = recordingSealer();
      await a.audit.append('main', events(10, 'r'), 1, seal);
      assert.deepEqual((await b.audit.read('main', 4, 3)).map((r) => r.seq), [4, 5, 6]);
      assert.deepEqual((await b.audit.read('main', 9, 100)).map((r) => r.seq), [9, 10]);
      assert.deepEqual(await b.audit.read('main', 11, 100), []);
      assert.deepEqual(await b.audit.read('other', 1, 100), []);
    });

    test('chains are independent: each has its own seq, head and genesis', async () => {
      const { a, b } = fixture();
      const { seal } = recordingSealer();
      await a.audit.append('zeta', events(2, 'z'), 1, seal);
      await b.audit.append('alpha', events(1, 'a'), 2, seal);
      await a.audit.append('zeta', events(1, 'z2'), 3, seal);
      assert.deepEqual(await b.audit.chains(), ['alpha', 'zeta']);
      assert.equal((await a.audit.head('alpha'))?.seq, 1);
      assert.equal((await a.audit.head('zeta'))?.seq, 3);
      assert.equal((await b.audit.read('alpha', 1, 10))[0]?.prevHash, GENESIS_HASH);
    });

    test('heads lists every sealed head by chain name, as another connection sees it (cross-checkpoints)', async () => {
      const { a, b } = fixture();
      const { seal } = recordingSealer();
      assert.ok(a.audit.heads && b.audit.heads, 'both stores list heads');
      assert.deepEqual(await b.audit.heads(), []);
      await a.audit.append('zeta', events(2, 'z'), 1, seal);
      await a.audit.append('alpha', events(1, 'a'), 2, seal);
      const expected = await Promise.all(['alpha', 'zeta'].map(async (chain) => {
        const head = (await a.audit.head(chain))!;
        return { chain, seq: head.seq, hash: head.hash };
      }));
      assert.deepEqual(await b.audit.heads(), expected);
    });

    test('tail returns the newest events across chains, oldest first', async () => {
      const { a, b } = fixture();
      const { seal } = recordingSealer();
      await a.audit.append('x', events(2, 'x1'), 100, seal);
      await b.audit.append('y', events(1, 'y1'), 200, seal);
      await a.audit.append('x', events(1, 'x2'), 300, seal);
      await b.audit.append('y', events(2, 'y2'), 300, seal);
      const tail = await b.audit.tail(4);
      assert.deepEqual(tail.map((r) => `${r.chain}${r.seq}@${r.time}`), ['y1@200', 'x3@300', 'y2@300', 'y3@300']);
      assert.equal((await a.audit.tail(100)).length, 6);
    });

    test('byJti finds the events naming a jti, across chains, oldest first', async () => {
      const { a, b } = fixture();
      const { seal } = recordingSealer();
      await a.audit.append('x', [{ type: 'token.issued', actor: 'agt_1', jti: 'j-1' }, { type: 'token.issued', actor: 'agt_1', jti: 'j-2' }], 100, seal);
      await b.audit.append('y', [{ type: 'token.revoked', actor: 'usr_1', jti: 'j-1' }], 200, seal);
      assert.deepEqual((await b.audit.byJti('j-1')).map((r) => `${r.chain}${r.seq}:${r.type}`), ['x1:token.issued', 'y1:token.revoked']);
      assert.deepEqual(await a.audit.byJti('j-3'), []);
    });

    test('window returns the events of [from, to), oldest first, at most limit', async () => {
      const { a, b } = fixture();
      const { seal } = recordingSealer();
      for (const time of [100, 200, 300, 400]) await a.audit.append('x', events(2, `t${time}`), time, seal);
      assert.deepEqual((await b.audit.window(200, 400, 10)).map((r) => `${r.seq}@${r.time}`), ['3@200', '4@200', '5@300', '6@300']);
      assert.equal((await b.audit.window(0, 1000, 3)).length, 3);
      assert.deepEqual(await b.audit.window(500, 600, 10), []);
    });
  });
}
