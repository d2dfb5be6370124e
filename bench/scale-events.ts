/**
 * The scale bench's audit history: a time-ordered stream of audit records shaped like the ones the
 * broker's services write (PROTOCOL §9). Agents register as the clock passes their creation time;
 * meanwhile a pool of concurrent mandate sessions advances one step at a time, each an attestation,
 * a request, an approval, activation with the first token, more tokens (re-attesting every ten, a
 * revocation now and then) and an end: 10–50 events carrying its mandate id. Memory stays bounded
 * by the pool and the samples, whatever the event count.
 */
import { createHash } from 'node:crypto';
import type { AuditEventInput } from '../packages/broker/src/core/audit-chain.ts';
import { AGENT_POLICY, agentId, agentRows, humanId, randomB64url, randomId, registrationFacts } from './scale-rows.ts';

export const AUDIENCE = 'https://api.example.com';
/** One chain per replica (PROTOCOL §9); `main` is the bootstrap's chain. */
export const CHAINS = ['main', 'replica-2', 'replica-3', 'replica-4'] as const;
/** Mandates in progress at any time: ~2,000 at 10M events (a mandate then lives ~5 h of 30 days). */
const concurrentMandates = (events: number) => Math.min(2_000, Math.max(10, Math.floor(events / 5_000)));
/** Registrations are at most this share of the events, whatever `--agents` says. */
const MAX_REGISTRATION_SHARE = 0.2;

export interface StreamPlan {
  agents: number;
  humans: number;
  events: number;
  spanStart: number;
  spanEnd: number;
  /** How many mandate ids and jtis to keep for the lookups (reservoir samples over the whole stream). */
  sampleSize: number;
}

/** One audit record: the inputs committed together at one time on one chain. */
export interface StreamRecord {
  chain: string;
  time: number;
  inputs: AuditEventInput[];
}

export interface StreamSamples {
  mandateIds: string[];
  jtis: string[];
}

const pick = <T>(values: readonly T[]): T => values[Math.floor(Math.random() * values.length)]!;
const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/** Keeps a uniform sample of everything offered (Vitter's algorithm R). */
function reservoir(size: number) {
  const kept: string[] = [];
  let seen = 0;
  return {
    kept,
    offer(value: string) {
      seen += 1;
      if (kept.length < size) kept.push(value);
      else if (Math.random() * seen < size) kept[Math.floor(Math.random() * size)] = value;
    },
  };
}

/** Creation time of agent `index`: agents arrive evenly over the span. */
export const agentCreatedAt = (plan: StreamPlan, index: number): number =>
  plan.spanStart + 1 + Math.floor((index * (plan.spanEnd - plan.spanStart - 1)) / plan.agents);

/** Index of the human who owns (and approves for) agent `agentIndex`: agents are spread round-robin over humans. */
export const ownerOf = (plan: Pick<StreamPlan, 'humans'>, agentIndex: number): number => agentIndex % plan.humans;

/** One mandate's life, one record per step. `jtis` receives every token id issued. */
function* mandateSession(agentIndex: number, plan: StreamPlan, now: () => number, jtis: (jti: string) => void, mandateId: string): Generator<AuditEventInput[]> {
  const agent = agentId(agentIndex);
  const approver = humanId(ownerOf(plan, agentIndex));
  const jkt = randomB64url(32);
  const taskS256 = randomB64url(32);
  let attestation = '';
  let evidenceDigest = '';
  const ids = { actor: agent, approver, mandateId };
  const attested = (): AuditEventInput => {
    attestation = `att_${randomB64url(16)}`;
    evidenceDigest = sha256Hex(attestation);
    return {
      type: 'attestation.verified', actor: agent, jti: attestation, evidenceDigest, requestId: randomId('request'),
      data: { attestation_id: attestation, policy: AGENT_POLICY, verdict: 'affirming', attestors: { 'code-digest': { status: 'affirming' } }, failures: [] },
    };
  };
  const issued = (): AuditEventInput => {
    const jti = randomB64url(16);
    jtis(jti);
    const exp = Math.floor(now() / 1000) + 300;
    return { type: 'token.issued', ...ids, jti, evidenceDigest, requestId: randomId('request'), data: { audience: AUDIENCE, exp, jkt, attestation, autonomous: false } };
  };
  const length = 10 + Math.floor(Math.random() * 41);
  yield [attested()];
  yield [{ type: 'mandate.requested', ...ids, evidenceDigest, requestId: randomId('request'), data: { audience: AUDIENCE, actions: ['read'], not_after: Math.floor(now() / 1000) + 86_400, task_s256: taskS256, attestation } }];
  yield [{ type: 'mandate.approved', ...ids, actor: approver, evidenceDigest, requestId: randomId('request'), data: { method: 'admin_token', task_s256: taskS256, admin_token_id: `adm_${randomB64url(16)}` } }];
  yield [{ type: 'mandate.activated', ...ids, requestId: randomId('request') }, issued()];
  let count = 4;
  while (count < length - 1) {
    if (count % 10 === 0) yield [attested()];
    const token = issued();
    yield [token];
    count += 1;
    if (count < length - 1 && Math.random() < 0.05) {
      yield [{ type: 'token.revoked', ...ids, jti: token.jti ?? null, requestId: randomId('request'), data: { by: 'agent' } }];
      count += 1;
    }
  }
  yield Math.random() < 0.5
    ? [{ type: 'mandate.exhausted', ...ids, requestId: randomId('request') }]
    : [{ type: 'mandate.revoked', ...ids, actor: approver, requestId: randomId('request'), data: { reason: 'task_done', credentials_revoked: 1 } }];
}

/**
 * The audit history in time order, exactly `plan.events` events (the last record may be cut).
 * `samples` fills as the stream is consumed.
 *
 * @example
 * const samples = { mandateIds: [], jtis: [] };
 * for (const record of auditStream(plan, samples)) insert(record);
 */
export function* auditStream(plan: StreamPlan, samples: StreamSamples): Generator<StreamRecord> {
  const mandates = reservoir(plan.sampleSize);
  const jtis = reservoir(plan.sampleSize);
  samples.mandateIds = mandates.kept;
  samples.jtis = jtis.kept;
  const span = plan.spanEnd - plan.spanStart - 1;
  const maxRegistrations = Math.floor(plan.events * MAX_REGISTRATION_SHARE);
  const agentsBy = (time: number) => Math.min(plan.agents, Math.max(1, Math.floor(((time - plan.spanStart) * plan.agents) / span)));
  const startSession = (time: number) => {
    const mandateId = randomId('mandate');
    return { mandateId, steps: mandateSession(Math.floor(Math.random() * agentsBy(time)), plan, () => clock, (jti) => jtis.offer(jti), mandateId) };
  };
  const pool: ReturnType<typeof startSession>[] = [];
  const poolSize = concurrentMandates(plan.events);
  let emitted = 0;
  let registered = 0;
  let clock = plan.spanStart;
  while (emitted < plan.events) {
    const time = plan.spanStart + 1 + Math.floor((emitted * span) / plan.events);
    clock = time;
    let inputs: AuditEventInput[];
    if (registered < maxRegistrations && registered < plan.agents && agentCreatedAt(plan, registered) <= time) {
      const rows = agentRows(registered, ownerOf(plan, registered), agentCreatedAt(plan, registered));
      inputs = [{ type: 'agent.registered', actor: humanId(ownerOf(plan, registered)), requestId: randomId('request'), data: registrationFacts(rows) }];
      registered += 1;
    } else {
      if (pool.length < poolSize) pool.push(startSession(time));
      const slot = Math.floor(Math.random() * pool.length);
      let step = pool[slot]!.steps.next();
      if (step.done) {
        // Only complete histories are sampled: a lookup then returns the 10–50 events of one mandate.
        mandates.offer(pool[slot]!.mandateId);
        pool[slot] = startSession(time);
        step = pool[slot]!.steps.next();
      }
      inputs = step.value as AuditEventInput[];
    }
    inputs = inputs.slice(0, plan.events - emitted);
    emitted += inputs.length;
    yield { chain: pick(CHAINS), time, inputs };
  }
}
