import type { AuditEventInput } from '../core/audit-chain.ts';
import { MandateError } from '../core/errors.ts';
import { defaultPurpose, proposeConversion, type ConversionChoice } from '../core/finding-conversion.ts';
import type { Human } from '../core/model.ts';
import type { AuditLog } from '../ports/audit-log.ts';
import type { Clock } from '../ports/clock.ts';
import type { FindingRecord, FindingStatus } from '../ports/findings.ts';
import type { Random } from '../ports/random.ts';
import type { Store } from '../ports/store.ts';
import type { ActionContext } from './action-context.ts';
import { nameTaken } from './agent-registration.ts';

export const FINDING_ID_PREFIX = 'fnd_';

export interface FindingsDeps {
  store: Store;
  audit: AuditLog;
  clock: Clock;
  random: Random;
  /** Registered audiences (config): a converted finding's service is proposed as one. */
  audiences: Readonly<Record<string, { actions: readonly string[] }>>;
  /** Attestation policy names (config): one is proposed when there is exactly one. */
  policies: Readonly<Record<string, unknown>>;
}

/** A scanner finding as reported (the scanner's `ScanFinding`, core/finding.ts). */
export interface FindingInput {
  kind: string;
  service: string;
  file: string;
  line: number;
  fingerprint: string;
  ownerGuess: string | null;
  reason: string;
}

export interface ConvertInput {
  agentName: string;
  /** Required when no active human's email matches the finding's owner guess. */
  owner?: string;
  purpose?: string;
  actions?: string[];
}

export interface FindingsService {
  record(inputs: readonly FindingInput[], ctx: ActionContext): Promise<Array<{ finding: FindingRecord; created: boolean }>>;
  list(status?: FindingStatus): Promise<FindingRecord[]>;
  get(id: string): Promise<FindingRecord>;
  convert(id: string, input: ConvertInput, ctx: ActionContext): Promise<FindingRecord>;
  dismiss(id: string, reason: string, ctx: ActionContext): Promise<FindingRecord>;
}

/** Findings as inventory entries: recorded (deduplicated), then converted or dismissed once; all audited. */
export function createFindingsService(deps: FindingsDeps): FindingsService {
  const { store, audit, clock } = deps;
  const get = async (id: string) => (await store.findings.get(id)) ?? notFound(id);
  const event = (type: AuditEventInput['type'], ctx: ActionContext, data: Record<string, unknown>): AuditEventInput => ({
    type, actor: ctx.actor, requestId: ctx.requestId, data,
  });
  const decide = async (finding: FindingRecord, decision: Parameters<Store['findings']['decide']>[1]) => {
    if (finding.status !== 'open' || !(await store.findings.decide(finding.id, decision))) throw stateError(finding.id, (await get(finding.id)).status);
    return get(finding.id);
  };

  return {
    async record(inputs, ctx) {
      const results = [];
      for (const input of inputs) results.push(await store.findings.record(newFinding(deps, input, ctx)));
      const created = results.filter((r) => r.created).map((r) => event('finding.recorded', ctx, recordedFacts(r.finding)));
      if (created.length > 0) await audit.record(...created);
      return results;
    },
    list: (status) => store.findings.list(status),
    get,
    async convert(id, input, ctx) {
      const finding = await get(id);
      if (finding.status !== 'open') throw stateError(id, finding.status);
      const choice = await chooseConversion(deps, finding, input);
      const conversion = proposeConversion(finding, choice) as unknown as Record<string, unknown>;
      const converted = await decide(finding, { status: 'converted', decidedAt: clock.now(), decidedBy: ctx.actor, conversion });
      await audit.record(event('finding.converted', ctx, {
        finding_id: id, fingerprint: finding.fingerprint, owner: choice.owner, owner_source: choice.ownerSource,
        agent_name: choice.agentName, audience: finding.service, actions: choice.actions,
      }));
      return converted;
    },
    async dismiss(id, reason, ctx) {
      const dismissed = await decide(await get(id), { status: 'dismissed', decidedAt: clock.now(), decidedBy: ctx.actor, dismissReason: reason });
      await audit.record(event('finding.dismissed', ctx, { finding_id: id, fingerprint: dismissed.fingerprint, reason }));
      return dismissed;
    },
  };
}

function newFinding(deps: FindingsDeps, input: FindingInput, ctx: ActionContext): FindingRecord {
  return {
    id: FINDING_ID_PREFIX + deps.random.base64url(16),
    ...input,
    status: 'open',
    createdAt: deps.clock.now(),
    recordedBy: ctx.actor,
    decidedAt: null,
    decidedBy: null,
    dismissReason: null,
    conversion: null,
  };
}

/** The owner, the actions and the policy of the proposal; each rule ends in its own error. */
async function chooseConversion(deps: FindingsDeps, finding: FindingRecord, input: ConvertInput): Promise<ConversionChoice> {
  const { owner, ownerSource } = input.owner === undefined ? await ownerFromGuess(deps, finding) : { owner: await activeHuman(deps, input.owner), ownerSource: 'named' as const };
  if (await deps.store.agents.getByName(input.agentName)) throw nameTaken(input.agentName);
  const audience = Object.hasOwn(deps.audiences, finding.service) ? deps.audiences[finding.service] : undefined;
  const actions = input.actions ?? defaultActions(audience?.actions);
  const unknown = audience ? actions.filter((a) => !audience.actions.includes(a)) : [];
  if (unknown.length > 0)
    throw new MandateError('ERR_REQUEST_INVALID_PARAMETER', `actions not registered for ${finding.service}: ${unknown.join(', ')}`, { parameter: 'actions' });
  const policies = Object.keys(deps.policies);
  return {
    agentName: input.agentName, owner, ownerSource, actions,
    purpose: input.purpose ?? defaultPurpose(finding),
    audienceConfigured: audience !== undefined,
    policy: policies.length === 1 ? policies[0]! : null,
  };
}

/** Least privilege first: `read` when the audience has it, else its first action. */
function defaultActions(registered: readonly string[] | undefined): string[] {
  if (!registered || registered.includes('read')) return ['read'];
  return [registered[0]!];
}

/** The owner guess is an email (from a JWT or the git author); exactly one active human must match it. */
async function ownerFromGuess(deps: FindingsDeps, finding: FindingRecord): Promise<{ owner: string; ownerSource: 'owner_guess' }> {
  const guess = finding.ownerGuess?.trim().toLowerCase();
  const matches = guess ? (await deps.store.humans.list()).filter((h: Human) => h.status === 'active' && h.email?.toLowerCase() === guess) : [];
  if (matches.length !== 1)
    throw new MandateError('ERR_FINDING_OWNER_REQUIRED', `no single active human has the email "${finding.ownerGuess ?? ''}": name the owner`, {
      parameter: 'owner', owner_guess: finding.ownerGuess,
    });
  return { owner: matches[0]!.id, ownerSource: 'owner_guess' };
}

async function activeHuman(deps: FindingsDeps, id: string): Promise<string> {
  const human = await deps.store.humans.get(id);
  if (!human) throw new MandateError('ERR_AGENT_HUMAN_UNKNOWN', `${id} is not a known human`, { human_id: id });
  if (human.status !== 'active') throw new MandateError('ERR_AGENT_HUMAN_DISABLED', `${id} is disabled`, { human_id: id });
  return human.id;
}

function recordedFacts(f: FindingRecord): Record<string, unknown> {
  return { finding_id: f.id, kind: f.kind, service: f.service, file: f.file, line: f.line, fingerprint: f.fingerprint, owner_guess: f.ownerGuess };
}

function notFound(id: string): never {
  throw new MandateError('ERR_FINDING_NOT_FOUND', `no finding ${id}`);
}

function stateError(id: string, status: FindingStatus): MandateError {
  return new MandateError('ERR_FINDING_STATE', `finding ${id} is ${status}; only an open finding can be converted or dismissed`, { finding_status: status });
}
