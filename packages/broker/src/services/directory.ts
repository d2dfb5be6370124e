import type { AuditEventInput } from '../core/audit-chain.ts';
import { MandateError } from '../core/errors.ts';
import { formatId } from '../core/ids.ts';
import type { Agent, AgentKind, AgentStatus, Human } from '../core/model.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import type { Clock } from '../ports/clock.ts';
import type { Random } from '../ports/random.ts';
import type { Store } from '../ports/store.ts';
import type { ActionContext } from './action-context.ts';
import { checkAgentRegistration, nameTaken } from './agent-registration.ts';
import { commitRevocation } from './revocation-commit.ts';

export interface DirectoryDeps {
  store: Store;
  audit: AuditLog;
  clock: Clock;
  random: Random;
  /** Attestation policies by name (config); an agent must name one of them. */
  policies: Readonly<Record<string, unknown>>;
  /** PROTOCOL §8: what an agent's or human's status change does to their mandates. */
  cascade?: MandateCascade;
}

/** Each returns how many mandates and tokens it changed: 0 once the cascade is complete. */
export interface MandateCascade {
  suspendAgentMandates(agentId: string, ctx: ActionContext): Promise<number>;
  revokeAgentMandates(agentId: string, ctx: ActionContext): Promise<number>;
  revokeHumanMandates(humanId: string, ctx: ActionContext): Promise<number>;
}

export interface AddHumanInput {
  name: string;
  email?: string | null;
}

export interface AddAgentInput {
  name: string;
  kind?: AgentKind;
  owners: string[];
  /** Defaults to the owners (PROTOCOL §4). */
  approvers?: string[];
  policy: string;
  /** Checked here: a public EC P-256 or Ed25519 JWK. */
  jwk: unknown;
  reviewDueAt?: number | null;
}

/** Humans and agents: registration and lifecycle (PROTOCOL §8). Every change is audited first. */
export interface DirectoryService {
  addHuman(input: AddHumanInput, ctx: ActionContext): Promise<Human>;
  listHumans(): Promise<Human[]>;
  getHuman(id: string): Promise<Human>;
  disableHuman(id: string, ctx: ActionContext): Promise<Human>;
  addAgent(input: AddAgentInput, ctx: ActionContext): Promise<Agent>;
  listAgents(): Promise<Agent[]>;
  getAgent(id: string): Promise<Agent>;
  suspendAgent(id: string, ctx: ActionContext): Promise<Agent>;
  retireAgent(id: string, ctx: ActionContext): Promise<Agent>;
}

export function createDirectoryService(deps: DirectoryDeps): DirectoryService {
  const { store, audit, clock } = deps;
  const getHuman = async (id: string) => (await store.humans.get(id)) ?? notFound('ERR_HUMAN_NOT_FOUND', `no human ${id}`);
  const getAgent = async (id: string) => (await store.agents.get(id)) ?? notFound('ERR_AGENT_NOT_FOUND', `no agent ${id}`);

  /** PROTOCOL §8: suspending an agent suspends its mandates; retiring ends them. Returns how much it changed. */
  const cascade = async (id: string, to: 'suspended' | 'retired', ctx: ActionContext) =>
    (to === 'suspended' ? await deps.cascade?.suspendAgentMandates(id, ctx) : await deps.cascade?.revokeAgentMandates(id, ctx)) ?? 0;

  const changeAgentStatus = async (id: string, to: 'suspended' | 'retired', ctx: ActionContext) => {
    const agent = await getAgent(id);
    const from: AgentStatus[] = to === 'suspended' ? ['active'] : ['active', 'suspended'];
    const type = `agent.${to}` as const;
    // The status, the agent's tokens (and their status-list bits), the change resource servers hear
    // of and the audit event: one commit (docs/revocation.md). Conditional in the store, so a
    // concurrent suspend and retire cannot both win (retired is final).
    const applied = from.includes(agent.status) && (await commitRevocation(deps, {
      agent: { id, from, to },
      credentials: { agentId: id },
      change: { topic: type, key: id, at: clock.now() },
    }, ({ credentialsRevoked }) => [event(type, ctx, { agent_id: id, previous_status: agent.status, credentials_revoked: credentialsRevoked })])).applied;
    if (!applied) {
      // The mandates' cascade follows that commit: asking again finishes a cascade a failure
      // interrupted (the 503 said "retry"), audited by the cascade alone. Nothing left to do: refused as before.
      if (agent.status === to && (await cascade(id, to, ctx)) > 0) return agent;
      throw new MandateError('ERR_AGENT_STATE', `agent ${id} is ${agent.status} and cannot become ${to}`, { status: agent.status });
    }
    await cascade(id, to, ctx);
    return { ...agent, status: to };
  };

  return {
    async addHuman(input, ctx) {
      const human = makeHuman(input, formatId('human', deps.random.base64url(16)), clock.now());
      await store.humans.insert(human);
      await audit.record(event('human.added', ctx, { human_id: human.id, name: human.name }));
      return human;
    },
    listHumans: () => store.humans.list(),
    getHuman,
    async disableHuman(id, ctx) {
      const human = await getHuman(id);
      await checkMayDisable(store, id, ctx);
      const now = clock.now();
      // The status and its audit events (the human's, and one per agent it leaves without an active
      // owner) commit together (docs/revocation.md). Conditional in the store: of two concurrent
      // calls one applies and audits.
      const orphans = human.status === 'disabled' ? [] : await orphanedBy(store, id);
      const applied = human.status !== 'disabled' && (await commitRevocation(deps, {
        human: { id, at: now },
        change: { topic: 'human.disabled', key: id, at: now, publish: false },
      }, disabledEvents(id, orphans, ctx))).applied;
      // A co-owner disabled at the same time was still active when `orphans` was read: the agents
      // the two leave without an owner are found now that this commit is in (each call may record
      // one such agent; better twice than never). Then PROTOCOL §8: disabling revokes every mandate
      // the human approved (they are its `sub`), each in its own audited commit, whatever became of
      // that record. Asking again finishes a cascade a failure interrupted, without auditing the
      // disabling twice.
      try {
        const missed = applied ? (await orphanedBy(store, id)).filter((agent) => !orphans.some((o) => o.id === agent.id)) : [];
        if (missed.length > 0) await audit.record(...missed.map((agent) => orphanedEvent(agent, ctx)));
      } finally {
        await deps.cascade?.revokeHumanMandates(id, ctx);
      }
      return applied ? { ...human, status: 'disabled', disabledAt: now } : getHuman(id);
    },
    async addAgent(input, ctx) {
      const checked = await checkAgentRegistration(deps, input);
      const agent: Agent = {
        id: formatId('agent', deps.random.base64url(16)),
        name: input.name,
        kind: input.kind ?? 'ai_agent',
        status: 'active',
        ...checked,
        policy: input.policy,
        reviewDueAt: input.reviewDueAt ?? null,
        createdAt: clock.now(),
        lastSeenAt: null,
      };
      await insertAgent(store, agent);
      await audit.record(event('agent.registered', ctx, registrationFacts(agent)));
      return agent;
    },
    listAgents: () => store.agents.list(),
    getAgent,
    suspendAgent: (id, ctx) => changeAgentStatus(id, 'suspended', ctx),
    retireAgent: (id, ctx) => changeAgentStatus(id, 'retired', ctx),
  };
}

export function makeHuman(input: AddHumanInput, id: string, now: number): Human {
  if (input.name.trim().length === 0) throw new MandateError('ERR_REQUEST_INVALID_PARAMETER', 'name must not be blank', { parameter: 'name' });
  return { id, name: input.name, email: input.email ?? null, status: 'active', createdAt: now, disabledAt: null };
}

function event(type: AuditEventInput['type'], ctx: ActionContext, data: Record<string, unknown>): AuditEventInput {
  return { type, actor: ctx.actor, requestId: ctx.requestId, data };
}

/** The audit events of a human's disabling: `human.disabled`, and `agent.orphaned` for each agent in `orphans`. */
function disabledEvents(id: string, orphans: Agent[], ctx: ActionContext) {
  return () => [event('human.disabled', ctx, { human_id: id }), ...orphans.map((agent) => orphanedEvent(agent, ctx))];
}

function orphanedEvent(agent: Agent, ctx: ActionContext): AuditEventInput {
  return event('agent.orphaned', ctx, { agent_id: agent.id, owners: agent.owners, cause: 'owner_disabled' });
}

function notFound(code: 'ERR_HUMAN_NOT_FOUND' | 'ERR_AGENT_NOT_FOUND', message: string): never {
  throw new MandateError(code, message);
}

/** Agents (not retired) that `humanId` owns and that have no active owner left once it is disabled. */
async function orphanedBy(store: Store, humanId: string): Promise<Agent[]> {
  const agents = (await store.agents.listByOwner(humanId)).filter((agent) => agent.status !== 'retired');
  const active = new Map<string, boolean>([[humanId, false]]);
  const isActive = async (id: string) => {
    if (!active.has(id)) active.set(id, (await store.humans.get(id))?.status === 'active');
    return active.get(id)!;
  };
  const orphans: Agent[] = [];
  for (const agent of agents) {
    const owned = await Promise.all(agent.owners.map(isActive));
    if (!owned.includes(true)) orphans.push(agent);
  }
  return orphans;
}

/** The unique name is checked first; a racing registration surfaces as the store's error, re-read here. */
async function insertAgent(store: Store, agent: Agent): Promise<void> {
  try {
    await store.agents.insert(agent);
  } catch (error) {
    if (await store.agents.getByName(agent.name)) throw nameTaken(agent.name);
    throw error;
  }
}

function registrationFacts(agent: Agent): Record<string, unknown> {
  return {
    agent_id: agent.id,
    name: agent.name,
    kind: agent.kind,
    owners: agent.owners,
    approvers: agent.approvers,
    policy: agent.policy,
    jwk_thumbprint: agent.jwkThumbprint,
  };
}

/** Disabling someone who holds the `admin` right could lock every admin out: only an admin may. */
async function checkMayDisable(store: Store, humanId: string, ctx: ActionContext): Promise<void> {
  if (!ctx.callerRights || ctx.callerRights.includes('admin')) return;
  const tokens = await store.adminTokens.list();
  if (tokens.some((t) => t.humanId === humanId && t.revokedAt === null && t.rights.includes('admin')))
    throw new MandateError('ERR_ADMIN_FORBIDDEN', 'only an admin may disable a human who holds the admin right', { right: 'admin' });
}
