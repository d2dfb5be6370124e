import { effectiveStatus, USABLE_STATUSES, type Mandate } from '../core/mandate.ts';
import type { Clock } from '../ports/clock.ts';
import type { Store } from '../ports/store.ts';

/** `endReason` of a mandate revoked because one above it was (PROTOCOL §10). */
export const PARENT_REVOKED = 'parent_revoked';

/** Far above any `delegation.maxDepth`: a guard against a corrupt store, never reached otherwise. */
const MAX_WALK = 64;

/**
 * The mandates above `mandate`, nearest first; empty for a human-approved mandate. A parent that
 * is missing from the store ends the walk (the foreign key makes that impossible in practice).
 *
 * @example
 * const [parent, grandparent] = await ancestorsOf(store, child);
 */
export async function ancestorsOf(store: Pick<Store, 'mandates'>, mandate: Mandate): Promise<Mandate[]> {
  const chain: Mandate[] = [];
  let hop = mandate.hop;
  while (hop && chain.length < MAX_WALK) {
    const parent = await store.mandates.get(hop.parentId);
    if (!parent) break;
    chain.push(parent);
    hop = parent.hop;
  }
  return chain;
}

/**
 * PROTOCOL §10: a sub-grant's mandate is only as good as every mandate above it. Returns the
 * first ancestor that can no longer be used (revoked, suspended, expired, …), or null.
 *
 * @example
 * const broken = await brokenAncestor(store, clock, mandate);
 * if (broken) throw new MandateError('ERR_SUB_GRANT_PARENT_REVOKED', `mandate ${broken.id} is ${broken.status}`);
 */
export async function brokenAncestor(store: Pick<Store, 'mandates' | 'agents'>, clock: Clock, mandate: Mandate): Promise<Mandate | null> {
  for (const ancestor of await ancestorsOf(store, mandate)) {
    const status = effectiveStatus(ancestor, clock.now());
    if (!USABLE_STATUSES.includes(status)) return { ...ancestor, status };
    // An exhausted parent mints nothing itself, but its agent being suspended or retired still
    // ends what it delegated (the suspension cascade walks only live mandates).
    if ((await store.agents.get(ancestor.agentId))?.status !== 'active') return { ...ancestor, status: 'suspended' };
  }
  return null;
}

/**
 * Every mandate below `rootId`, level by level (children, then grandchildren, …), each level
 * oldest first: the order a revocation cascade walks the tree.
 *
 * @example
 * for (const descendant of await descendantsOf(store, mandate.id)) console.log(descendant.hop?.depth, descendant.id);
 */
export async function descendantsOf(store: Pick<Store, 'mandates'>, rootId: string): Promise<Mandate[]> {
  const found: Mandate[] = [];
  let level = [rootId];
  for (let depth = 0; level.length > 0 && depth < MAX_WALK; depth += 1) {
    const children = (await Promise.all(level.map((id) => store.mandates.listChildren(id)))).flat();
    found.push(...children);
    level = children.map((child) => child.id);
  }
  return found;
}
