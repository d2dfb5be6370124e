import { sql, type Kysely } from 'kysely';
import type { AuditEventInput, AuditRecord, ChainHashing } from '../../core/audit-chain.ts';
import type { MandateStatus } from '../../core/mandate.ts';
import type { AuditAppend } from '../../ports/audit-sink.ts';
import type { CommittedIssue, CredentialRepository, IssueOutcome, IssueWrite } from '../../ports/mandates.ts';
import { isSpent, type ReplayClaim } from '../../ports/replay-cache.ts';
import type { Database } from '../schema.ts';
import { appendLocked, lockHead, type LockedHead } from './audit-sink.ts';
import { recordIdsStatement, type RecordedId } from './replay-cache.ts';
import { claimSlotsStatement } from './status-lists.ts';
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
 * a lock (an agent, mandate or approver row a long transaction holds, another replica's uncommitted id or
 * slot), and the next batch may start beside it rather than hold up every mint of the replica (at
 * most two batches at once: turn-batcher.ts).
 */
const OVERLAP_AFTER_MS = 1000;

/**
 * `CredentialRepository.commitIssue` on PostgreSQL (docs/audit.md "One commit per token"): one
 * batch at a time per process; the mints requested while a batch commits wait and share the next
 * transaction (every batch of a chain ends on that chain's head row lock, so two at once mostly
 * queue there, each paying its own round trips and commit), unless the running batch has taken
 * longer than OVERLAP_AFTER_MS. A batch is normally five statements whatever its count (`begin`,
 * three, `commit`; a batch whose mints are all refused at 1 or 2 stops there, and a chain's first
 * batch creates its head row after 2):
 *
 * 1. the single-use ids of every mint, in one `INSERT … ON CONFLICT DO UPDATE … WHERE … RETURNING`
 *    in key order (the replay cache's own statement, for many ids): a mint whose id was seen
 *    before, was presented by an earlier mint of the batch or has expired (`isSpent`) is
 *    `replayed`; every id not seen before stays recorded whatever follows. Then, in the same
 *    statement, the agents', the mandates' and the approvers' rows, locked `FOR SHARE` in id order
 *    (a revocation, a suspension or a human's disabling, an UPDATE of those rows, waits for this
 *    commit and then sees the new credentials; or this waits for it and sees the new status);
 * 2. the status-list slots of the live mints, in one `INSERT … ON CONFLICT DO UPDATE … WHERE` (a
 *    slot held by a live token is not taken over; two mints of the batch never claim one index),
 *    then, in the same statement, this replica's chain head locked `FOR UPDATE`: the head row lock
 *    comes last, as in every other write path;
 * 3. the credentials of the mints whose slot was claimed, every audit event of the batch (appended
 *    to the chain after the locked head) and the new sealed head, in one statement.
 *
 * Statements 1 and 2 have a fixed text (arrays, not rows), so PostgreSQL plans each once per
 * connection (prepared.ts); their parts are CTEs read in turn by a `union all`, in the order above.
 * A mint refused at 1 or 2 stores nothing of its own but its ids; if the transaction fails, every mint of the
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

/** Step 1 (see above): the ids recorded (those new, or taking over an expired entry) and the rows' statuses. */
async function claimAndLock(trx: Kysely<Database>, ids: RecordedId[], agentIds: string[], mandateIds: string[], humanIds: string[], now: number) {
  const { rows } = await sql<{ kind: 'id' | 'agent' | 'mandate' | 'human'; k: string; v: string }>`
    with i as (${recordIdsStatement(ids, now)}),
         a as materialized (select id, status from agents where id = any(${agentIds}::text[]) order by id for share),
         m as materialized (select id, status from mandates where id = any(${mandateIds}::text[]) order by id for share),
         u as materialized (select id, status from humans where id = any(${humanIds}::text[]) order by id for share)
    select 'id' as kind, namespace as k, id as v from i
    union all select 'agent', id, status from a
    union all select 'mandate', id, status from m
    union all select 'human', id, status from u`.execute(trx);
  const of = (kind: string) => new Map(rows.filter((r) => r.kind === kind).map((r) => [r.k, r.v]));
  const recorded = new Set(rows.filter((r) => r.kind === 'id').map((r) => `${r.k}\u0000${r.v}`));
  return { recorded, agents: of('agent'), mandates: of('mandate'), humans: of('human') };
}

/**
 * Step 2 (see above): the jtis whose slot was claimed, and the chain's head as locked (null when
 * the chain has no head row yet: its first append creates it).
 */
async function claimSlotsAndLockHead(trx: Kysely<Database>, slots: Array<IssueWrite['slot']>, chain: string, now: number) {
  const { rows } = await sql<{ kind: 'slot' | 'head'; k: string; n: number | null }>`
    with s as (${claimSlotsStatement(slots, now)}),
         h as materialized (select seq, hash from audit_heads where chain = ${chain} for update)
    select 'slot' as kind, jti as k, null::bigint as n from s
    union all select 'head', hash, seq from h`.execute(trx);
  const headRow = rows.find((r) => r.kind === 'head');
  const head: LockedHead | null = headRow ? { seq: Number(headRow.n), hash: headRow.k } : null;
  return { claimed: new Set(rows.filter((r) => r.kind === 'slot').map((r) => r.k)), head };
}

async function commitBatch(trx: Kysely<Database>, hashing: ChainHashing, batch: readonly Pending[]): Promise<CommittedIssue[]> {
  const outcomes: IssueOutcome[] = batch.map(() => 'issued');
  const replays: Array<ReplayClaim | undefined> = [];
  const refuse = (i: number, outcome: IssueOutcome, replayed?: ReplayClaim) => {
    if (outcomes[i] !== 'issued') return;
    outcomes[i] = outcome;
    replays[i] = replayed;
  };
  const refused = (i: number): CommittedIssue => ({ outcome: outcomes[i]!, records: [], ...(replays[i] ? { replayed: replays[i] } : {}) });

  // 1. Single-use ids: each once per batch, then the check-and-insert of them all with the locks.
  const presented = new Set<string>();
  const fresh: RecordedId[] = [];
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
  fresh.sort((a, b) => (a.namespace === b.namespace ? (a.id < b.id ? -1 : 1) : a.namespace < b.namespace ? -1 : 1));
  const agentIds = [...new Set(batch.map((p) => p.write.credential.agentId))].sort();
  const mandateIds = [...new Set(batch.flatMap((p) => (p.write.credential.mandateId === null ? [] : [p.write.credential.mandateId])))].sort();
  const humanIds = [...new Set(batch.flatMap((p) => (p.write.approverId === null ? [] : [p.write.approverId])))].sort();
  const locked = await claimAndLock(trx, fresh, agentIds, mandateIds, humanIds, Math.min(...batch.map((p) => p.write.now)));
  batch.forEach(({ write: { singleUse } }, i) => {
    const seen = singleUse.find((c) => !locked.recorded.has(`${c.namespace}\u0000${c.id}`));
    if (seen) refuse(i, 'replayed', seen);
  });

  // Live: the agent active, the mandate (if any) in one of the write's live states, its approver active.
  const { agents, mandates, humans } = locked;
  batch.forEach(({ write: { credential, live, approverId } }, i) => {
    if (agents.get(credential.agentId) !== 'active') refuse(i, 'not_live');
    else if (credential.mandateId !== null && !live.includes((mandates.get(credential.mandateId) ?? '') as MandateStatus)) refuse(i, 'not_live');
    else if (approverId !== null && humans.get(approverId) !== 'active') refuse(i, 'approver_disabled');
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
  if (claiming.length === 0) return batch.map((_, i) => refused(i));
  const chain = batch[0]!.audit.chain;
  const { claimed, head } = await claimSlotsAndLockHead(trx, claiming.map((p) => p.write.slot), chain, Math.min(...claiming.map((p) => p.write.now)));
  batch.forEach(({ write: { slot } }, i) => outcomes[i] === 'issued' && !claimed.has(slot.jti) && refuse(i, 'slot_taken'));

  // 3. Credentials of the mints still issued, their audit events (the last mint's time and seal: its
  // log writes the checkpoint) and the new head. The chain's first batch creates its head row now.
  const issued = batch.filter((_, i) => outcomes[i] === 'issued');
  if (issued.length === 0) return batch.map((_, i) => refused(i));
  const credentials = issued.map(({ write: { credential: c } }) => ({
    jti: c.jti, mandate_id: c.mandateId, agent_id: c.agentId, subject: c.subject, audience: c.audience,
    jkt: c.jkt, issued_at: c.issuedAt, expires_at: c.expiresAt, revoked_at: c.revokedAt,
  }));
  const last = issued[issued.length - 1]!.audit;
  const inputs = issued.flatMap((p) => p.events);
  let records: AuditRecord[] = [];
  if (inputs.length > 0) records = await appendLocked(trx, { chain, time: last.time, seal: last.seal, hashing }, inputs, head ?? (await lockHead(trx, chain)), credentials);
  else await trx.insertInto('credentials').values(credentials).execute();
  let offset = 0;
  return batch.map((p, i) => {
    if (outcomes[i] !== 'issued') return refused(i);
    const own = records.slice(offset, offset + p.events.length);
    offset += p.events.length;
    return { outcome: 'issued', records: own };
  });
}
