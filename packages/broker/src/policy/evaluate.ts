import type { ErrorCode } from '../core/errors.ts';
import type { PolicyFailure, Verdict } from '../ports/attestations.ts';
import type { AttestorResult, AttestorStatus } from '../ports/attestor.ts';
import { claimMatches, claimsEqual, parseClaimRef } from './claims.ts';

export type MinStatus = 'affirming' | 'warning';

export interface PolicyRequirement {
  attestor: string;
  /** Claim constraints: equal to the value, or to one of the listed values. */
  claims: Readonly<Record<string, string | readonly string[]>>;
  minStatus: MinStatus;
}

/** An attestation policy as the config states it (DESIGN: Concepts; PROTOCOL §3). */
export interface AttestationPolicy {
  /** How long a result stays fresh, in ms. */
  freshness: number;
  /** When set, the only agents the policy may be applied to. */
  agents?: readonly string[] | undefined;
  anyOf: ReadonlyArray<{ allOf: readonly PolicyRequirement[] }>;
  /** Pairs of `attestor.claim` that must be equal, checked in every alternative naming both attestors. */
  equal: ReadonlyArray<readonly [string, string]>;
}

/** What one attestor made of its evidence: a result, or the code it rejected the evidence with. */
export type AttestorOutcome = { ok: true; result: AttestorResult } | { ok: false; reason: ErrorCode };

export interface PolicyEvaluation {
  verdict: Verdict;
  /** Index in `anyOf` of the alternative that decided the verdict. */
  satisfiedBy?: number;
  failures: PolicyFailure[];
  /** Each verified attestor's status after the policy's upgrades (code-digest affirmed by a measurement). */
  statuses: Record<string, AttestorStatus>;
}

interface AlternativeTry {
  index: number;
  status: MinStatus | null;
  failures: PolicyFailure[];
  upgraded: Record<string, AttestorStatus>;
}

const RANK: Record<AttestorStatus, number> = { contraindicated: 0, warning: 1, affirming: 2 };

export function policyApplies(policy: AttestationPolicy, agentId: string): boolean {
  return policy.agents === undefined || policy.agents.includes(agentId);
}

/**
 * Pure: combines per-attestor outcomes into one verdict. Any contraindicated result makes the
 * verdict contraindicated; otherwise the best satisfied alternative (affirming before warning,
 * then the first) decides; none satisfied → rejected.
 */
export function evaluatePolicy(policy: AttestationPolicy, agentId: string, outcomes: ReadonlyMap<string, AttestorOutcome>): PolicyEvaluation {
  if (!policyApplies(policy, agentId)) return { verdict: 'rejected', failures: [{ reason: 'ERR_POLICY_AGENT_SCOPE' }], statuses: {} };
  const results = new Map([...outcomes].flatMap(([id, o]) => (o.ok ? [[id, o.result] as const] : [])));
  const statuses = Object.fromEntries([...results].map(([id, r]) => [id, r.status]));
  const contraindicated = [...results.keys()].filter((id) => statuses[id] === 'contraindicated');
  if (contraindicated.length > 0)
    return { verdict: 'contraindicated', failures: contraindicated.map((attestor) => ({ attestor, reason: 'ERR_POLICY_CONTRAINDICATED' })), statuses };
  const rejections: PolicyFailure[] = [...outcomes].flatMap(([attestor, o]) => (o.ok ? [] : [{ attestor, reason: o.reason }]));
  const tries = policy.anyOf.map((alternative, index) => tryAlternative(index, alternative.allOf, policy.equal, outcomes, results));
  const best = tries.filter((t) => t.status !== null).sort((x, y) => RANK[y.status!] - RANK[x.status!] || x.index - y.index)[0];
  if (!best) return { verdict: 'rejected', failures: unique([...rejections, ...tries.flatMap((t) => t.failures)]), statuses };
  return { verdict: best.status!, satisfiedBy: best.index, failures: rejections, statuses: { ...statuses, ...best.upgraded } };
}

function tryAlternative(
  index: number,
  requirements: readonly PolicyRequirement[],
  equalities: AttestationPolicy['equal'],
  outcomes: ReadonlyMap<string, AttestorOutcome>,
  results: ReadonlyMap<string, AttestorResult>,
): AlternativeTry {
  const involved = new Set(requirements.map((r) => r.attestor));
  const applicable = equalities.filter((pair) => pair.every((ref) => involved.has(parseClaimRef(ref).attestor)));
  const failures: PolicyFailure[] = [];
  const upgraded: Record<string, AttestorStatus> = {};
  for (const [left, right] of applicable) {
    const outcome = checkEquality(left, right, results);
    if (outcome === 'unequal') failures.push({ claim: `${left} == ${right}`, reason: 'ERR_POLICY_EQUALITY' });
    else Object.assign(upgraded, outcome);
  }
  const statuses = requirements.map((requirement) => checkRequirement(requirement, outcomes, upgraded, failures));
  const status = failures.length > 0 ? null : statuses.includes('warning') ? 'warning' : 'affirming';
  return { index, status, failures, upgraded };
}

/** Returns the requirement's effective status, or records why it is not met. */
function checkRequirement(
  requirement: PolicyRequirement,
  outcomes: ReadonlyMap<string, AttestorOutcome>,
  upgraded: Record<string, AttestorStatus>,
  failures: PolicyFailure[],
): AttestorStatus | null {
  const { attestor } = requirement;
  const outcome = outcomes.get(attestor);
  if (!outcome) return record(failures, { attestor, reason: 'ERR_POLICY_ATTESTOR_MISSING' });
  if (!outcome.ok) return record(failures, { attestor, reason: outcome.reason });
  const mismatch = Object.entries(requirement.claims).find(([name, expected]) => !claimMatches(outcome.result.claims[name], expected));
  if (mismatch) return record(failures, { attestor, claim: mismatch[0], reason: 'ERR_POLICY_CLAIM_MISMATCH' });
  const status = upgraded[attestor] ?? outcome.result.status;
  if (RANK[status] < RANK[requirement.minStatus]) return record(failures, { attestor, reason: 'ERR_POLICY_STATUS_TOO_LOW' });
  return status;
}

/**
 * Both claims present and equal; then PROTOCOL §3: an agent's own claim (`affirmableBy`) equal to
 * a value an affirming attestor measured is affirmed. Missing or rejected attestors are reported
 * by their requirement, not here.
 */
function checkEquality(left: string, right: string, results: ReadonlyMap<string, AttestorResult>): Record<string, AttestorStatus> | 'unequal' {
  const [a, b] = [parseClaimRef(left), parseClaimRef(right)];
  const [ra, rb] = [results.get(a.attestor), results.get(b.attestor)];
  if (!ra || !rb) return {};
  if (!claimsEqual(ra.claims[a.claim], rb.claims[b.claim])) return 'unequal';
  const upgrades: Record<string, AttestorStatus> = {};
  for (const [measurer, m, claimer, c] of [[ra, a.claim, rb, b.claim], [rb, b.claim, ra, a.claim]] as const) {
    if (measurer.status === 'affirming' && measurer.measured.includes(m) && claimer.status === 'warning' && claimer.affirmableBy?.includes(c))
      upgrades[claimer.attestor] = 'affirming';
  }
  return upgrades;
}

function record(failures: PolicyFailure[], failure: PolicyFailure): null {
  failures.push(failure);
  return null;
}

function unique(failures: PolicyFailure[]): PolicyFailure[] {
  const seen = new Set<string>();
  return failures.filter((f) => {
    const key = `${f.attestor ?? ''}|${f.claim ?? ''}|${f.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
