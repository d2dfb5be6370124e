import { sql, type Kysely } from 'kysely';
import type { AuditEventInput, ChainHashing } from '../../core/audit-chain.ts';
import type { MandateStatus } from '../../core/mandate.ts';
import type { AuditAppend } from '../../ports/audit-sink.ts';
import type { CommittedIssue, CredentialRepository, IssueOutcome, IssueWrite } from '../../ports/mandates.ts';
import { isSpent, type ReplayClaim } from '../../ports/replay-cache.ts';
import type { Database } from '../schema.ts';
import { appendInTransaction } from './audit-sink.ts';
import { recordIds } from './replay-cache.ts';
import { rejectEach, turnBatcher } from '../turn-batcher.ts';
import { retried } from './retry.ts';

interface Pending {
  write: IssueWrite;
  audit: AuditAppend;
  events: readonly AuditEventInput[];
  resolve: (committed: CommittedIssue) => void;
  reject: (error: unknown) => void;
}

/** Enough to amortise one commit over a burst of mints, small enough to keep the row locks short. */
const MAX_BATCH = 128;
/**
 * A batch normally commits in milliseconds; one still running after this long most likely waits on
 * a lock (an agent or mandate row a long transaction holds, another replica's uncommitted id or
 * slot), and the next batch may start beside it rather than hold up every mint of the replica (at
 * most two batches at once: turn-batcher.ts).
 */
const OVERLAP_AFTER_MS = 1000;

/**
 * `CredentialRepository.commitIssue` on PostgreSQL (docs/audit.md "One commit per token"): one
 * batch at a time per process; the mints requested while a batch commits wait and share the next
 * transaction (every batch of a chain ends on that chain's head row lock, so two at once mostly
 * queue there, each paying its own round trips and commit), unless the running batch has taken
 * longer than OVERLAP_AFTER_MS. A batch has a fixed number of statements whatever its count:
 *
 * 0. the single-use ids of every mint, in one `INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING`
 *    in key order (the replay cache's own statement, as one): a mint whose id was seen before, was
 *    presented by an earlier mint of the batch or has expired (`isSpent`) is `replayed`; every id
 *    not seen before stays recorded whatever follows;
 * 1. the agents' and the mandates' rows, locked `FOR SHARE` in id order (a revocation or a
 *    suspension, an UPDATE of those rows, waits for this commit and then sees the new credentials;
 *    or this waits for it and sees the new status);
 * 2. the status-list slots of the live mints, in one `INSERT … ON CONFLICT DO UPDATE … WHERE`
 *    (a slot held by a live token is not taken over; two mints of the batch never claim one index);
 * 3. the credentials of the mints whose slot was claimed, in one INSERT;
 * 4. every audit event of the batch, appended to this replica's chain with one sealed head (the head
 *    row lock comes last, as in every other write path).
 *
 * A mint refused at 0, 1 or 2 stores nothing of its own but its ids; if the transaction fails, every mint of the
 * batch fails and nothing is stored. A deadlock, a serialization failure or a stale prepared plan
 * (prepared.ts) runs the batch again.
 */
export function createPostgresIssueCommit(db: Kysely<Database>, hashing: ChainHashing): NonNullable<CredentialRepository['commitIssue']> {
  const enqueue = turnBatcher<Pending>(MAX_BATCH, async (batch) => {
    // One audit log per process, so one chain in practice; each chain's mints commit apart.
    for (const chain of new Set(batch.map((p) => p.audit.chain))) {
      const mints = batch.filter((p) => p.audit.chain === chain);
      let committed: CommittedIssue[];
      try {
        committed = await retried(() => db.transaction().execute((trx) => commitBatch(trx, hashing, mints)));
      } catch (error) {
        for (const pending of mints) pending.reject(error);
        continue;
      }
      mints.forEach((pending, i) => pending.resolve(committed[i]!));
    }
  }, { oneAtATime: true, overlapAfterMs: OVERLAP_AFTER_MS, failed: rejectEach });
  return (write, audit, events) => new Promise<CommittedIssue>((resolve, reject) => enqueue({ write, audit, events, resolve, reject }));
}

/**
 * The agents' and the mandates' rows of a batch, locked `FOR SHARE` in id order (agents first, as
 * every other path), in one statement: each locking SELECT in its own materialized CTE, evaluated
 * in turn.
 */
async function lockLive(trx: Kysely<Database>, agentIds: string[], mandateIds: string[]) {
  const { rows } = await sql<{ kind: 'agent' | 'mandate'; id: string; status: string }>`
    with a as materialized (select id, status from agents where id = any(${agentIds}::text[]) order by id for share),
         m as materialized (select id, status from mandates where id = any(${mandateIds}::text[]) order by id for share)
    select 'agent' as kind, id, status from a
    union all
    select 'mandate' as kind, id, status from m`.execute(trx);
  const of = (kind: string) => new Map(rows.filter((r) => r.kind === kind).map((r) => [r.id, r.status]));
  return { agents: of('agent'), mandates: of('mandate') };
}

async function commitBatch(trx: Kysely<Database>, hashing: ChainHashing, batch: readonly Pending[]): Promise<CommittedIssue[]> {
  const outcomes: IssueOutcome[] = batch.map(() => 'issued');
  const replays: Array<ReplayClaim | undefined> = [];
  const refuse = (i: number, outcome: IssueOutcome, replayed?: ReplayClaim) => {
    if (outcomes[i] !== 'issued') return;
    outcomes[i] = outcome;
    replays[i] = replayed;
  };

  // 0. Single-use ids: each once per batch, then the check-and-insert of them all.
  const presented = new Set<string>();
  const fresh: Array<{ namespace: string; id: string; expires_at: number }> = [];
  batch.forEach(({ write: { singleUse, now } }, i) => {
    for (const claim of singleUse) {
      const key = `${claim.namespace}\u0000${claim.id}`;
      if (presented.has(key) || isSpent(claim, now)) {
        refuse(i, 'replayed', claim);
        continue;
      }
      presented.add(key);
      fresh.push({ namespace: claim.namespace, id: claim.id, expires_at: claim.expiresAt });
    }
  });
  if (fresh.length > 0) {
    const now = Math.min(...batch.map((p) => p.write.now));
    fresh.sort((a, b) => (a.namespace === b.namespace ? (a.id < b.id ? -1 : 1) : a.namespace < b.namespace ? -1 : 1));
    const inserted = new Set((await recordIds(trx, fresh, now)).map((r) => `${r.namespace}\u0000${r.id}`));
    batch.forEach(({ write: { singleUse } }, i) => {
      const seen = singleUse.find((c) => !inserted.has(`${c.namespace}\u0000${c.id}`));
      if (seen) refuse(i, 'replayed', seen);
    });
  }

  // 1. Live: the agent active, the mandate (if any) in one of the write's live states.
  const agentIds = [...new Set(batch.map((p) => p.write.credential.agentId))].sort();
  const mandateIds = [...new Set(batch.flatMap((p) => (p.write.credential.mandateId === null ? [] : [p.write.credential.mandateId])))].sort();
  const { agents, mandates } = await lockLive(trx, agentIds, mandateIds);
  batch.forEach(({ write: { credential, live } }, i) => {
    if (agents.get(credential.agentId) !== 'active') refuse(i, 'not_live');
    else if (credential.mandateId !== null && !live.includes((mandates.get(credential.mandateId) ?? '') as MandateStatus)) refuse(i, 'not_live');
  });

  // 2. Slots: one index once per batch; then the claim, which skips indexes held by live tokens.
  const drawn = new Set<string>();
  batch.forEach(({ write: { slot } }, i) => {
    const key = `${slot.listId}:${slot.idx}`;
    if (outcomes[i] === 'issued' && drawn.has(key)) refuse(i, 'slot_taken');
    drawn.add(key);
  });
  // In (list, index) order, as every batch: two batches of one replica overlapping (a stuck one)
  // cannot lock colliding slots crosswise.
  const claiming = batch.filter((_, i) => outcomes[i] === 'issued').sort((x, y) => Number(x.write.slot.listId) - Number(y.write.slot.listId) || x.write.slot.idx - y.write.slot.idx);
  if (claiming.length > 0) {
    const now = Math.min(...claiming.map((p) => p.write.now));
    const claimed = new Set((await trx
      .insertInto('status_list_slots')
      .values(claiming.map(({ write: { slot } }) => ({ list_id: slot.listId, idx: slot.idx, jti: slot.jti, reusable_at: slot.reusableAt })))
      .onConflict((oc) =>
        oc
          .columns(['list_id', 'idx'])
          .doUpdateSet({ jti: (eb) => eb.ref('excluded.jti'), reusable_at: (eb) => eb.ref('excluded.reusable_at') })
          .where('status_list_slots.reusable_at', '<=', now),
      )
      .returning('jti')
      .execute()).map((r) => r.jti));
    batch.forEach(({ write: { slot } }, i) => outcomes[i] === 'issued' && !claimed.has(slot.jti) && refuse(i, 'slot_taken'));
  }

  // 3. Credentials of the mints still issued.
  const issued = batch.filter((_, i) => outcomes[i] === 'issued');
  const refused = (i: number): CommittedIssue => ({ outcome: outcomes[i]!, records: [], ...(replays[i] ? { replayed: replays[i] } : {}) });
  if (issued.length === 0) return batch.map((_, i) => refused(i));
  await trx.insertInto('credentials').values(issued.map(({ write: { credential: c } }) => ({
    jti: c.jti, mandate_id: c.mandateId, agent_id: c.agentId, subject: c.subject, audience: c.audience,
    jkt: c.jkt, issued_at: c.issuedAt, expires_at: c.expiresAt, revoked_at: c.revokedAt,
  }))).execute();

  // 4. The audit events of all of them, one append: the last mint's time and seal (its log writes the checkpoint).
  const last = issued[issued.length - 1]!.audit;
  const inputs = issued.flatMap((p) => p.events);
  const records = inputs.length > 0 ? await appendInTransaction(trx, { chain: last.chain, time: last.time, seal: last.seal, hashing }, inputs) : [];
  let offset = 0;
  return batch.map((p, i) => {
    if (outcomes[i] !== 'issued') return refused(i);
    const own = records.slice(offset, offset + p.events.length);
    offset += p.events.length;
    return { outcome: 'issued', records: own };
  });
}
