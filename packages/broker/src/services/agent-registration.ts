import { parseAgentJwk } from '../core/agent-key.ts';
import { clip } from '../core/clip.ts';
import { MandateError } from '../core/errors.ts';
import { isIdOf } from '../core/ids.ts';
import type { PublicJwk } from '../core/model.ts';
import { importPublicJwk } from '../proof/jws.ts';
import { thumbprint } from '../proof/jwk-thumbprint.ts';
import type { Store } from '../ports/store.ts';
import type { AddAgentInput } from './directory.ts';

export interface CheckedRegistration {
  owners: string[];
  approvers: string[];
  jwk: PublicJwk;
  jwkThumbprint: string;
}

interface RegistrationDeps {
  store: Store;
  policies: Readonly<Record<string, unknown>>;
}

/** The rules of agent registration, each ending in its own error. */
export async function checkAgentRegistration(deps: RegistrationDeps, input: AddAgentInput): Promise<CheckedRegistration> {
  if (input.owners.length === 0) throw new MandateError('ERR_AGENT_OWNER_REQUIRED', 'owners must name at least one human', { parameter: 'owners' });
  const owners = checkHumanIds('owners', input.owners);
  const approvers = input.approvers === undefined ? owners : checkHumanIds('approvers', input.approvers);
  await requireActiveHumans(deps.store, [...new Set([...owners, ...approvers])]);
  requirePolicy(deps.policies, input.policy);
  const jwk = parseAgentJwk(input.jwk);
  requireRealKey(jwk);
  if (await deps.store.agents.getByName(input.name)) throw nameTaken(input.name);
  return { owners, approvers, jwk, jwkThumbprint: thumbprint(jwk) };
}

/** PROTOCOL §1: only `usr_…` ids name humans, so an agent id can never be an owner. */
function checkHumanIds(parameter: 'owners' | 'approvers', ids: readonly string[]): string[] {
  if (ids.length === 0) throw invalidParameter(parameter, `${parameter} must name at least one human`);
  const bad = ids.find((id) => !isIdOf('human', id));
  if (bad !== undefined) throw invalidParameter(parameter, `${parameter} must hold human ids (usr_…); got "${clip(bad)}"`);
  const duplicate = ids.find((id, i) => ids.indexOf(id) !== i);
  if (duplicate !== undefined) throw invalidParameter(parameter, `${parameter} lists ${duplicate} twice`);
  return [...ids];
}

async function requireActiveHumans(store: Store, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    const human = await store.humans.get(id);
    if (!human) throw new MandateError('ERR_AGENT_HUMAN_UNKNOWN', `${id} is not a known human`, { human_id: id });
    if (human.status !== 'active') throw new MandateError('ERR_AGENT_HUMAN_DISABLED', `${id} is disabled`, { human_id: id });
  }
}

function requirePolicy(policies: Readonly<Record<string, unknown>>, policy: string): void {
  if (!Object.hasOwn(policies, policy))
    throw new MandateError('ERR_AGENT_POLICY_UNKNOWN', `no attestation policy named "${clip(policy)}" in the config`, { policy: clip(policy) });
}

/** The shape was checked; importing proves the coordinates are a point on the curve. */
function requireRealKey(jwk: PublicJwk): void {
  try {
    importPublicJwk(jwk as unknown as Record<string, unknown>);
  } catch {
    throw new MandateError('ERR_AGENT_JWK_INVALID', 'jwk is not a valid public key (not a point on the curve)', { reason: 'point' });
  }
}

export const nameTaken = (name: string) => new MandateError('ERR_AGENT_NAME_TAKEN', `an agent named "${clip(name)}" already exists`, { name });

function invalidParameter(parameter: string, message: string): MandateError {
  return new MandateError('ERR_REQUEST_INVALID_PARAMETER', message, { parameter });
}
