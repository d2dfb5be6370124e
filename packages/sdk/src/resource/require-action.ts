import { VerifierError } from './errors.ts';
import type { VerifiedRequest } from './verifier.ts';

/**
 * What one call needs from the approved task.
 *
 * @example
 * ```ts
 * requireAction(result, 'records:read', { datatype: 'invoice', identifier: 'acct_42' } satisfies ActionNeeds);
 * ```
 */
export interface ActionNeeds {
  /** A data type the call touches; must be listed when the task lists `datatypes`. */
  datatype?: string;
  /** The resource the call touches; must equal the task's `identifier` when it has one. */
  identifier?: string;
}

/**
 * PROTOCOL §7: what the call needs ⊆ the token's `authorization_details`. The action must be
 * listed. `datatypes` and `identifier` narrow a task: when the approved task has them, the call's
 * datatype must be among them and its identifier equal; a task without them was approved for any.
 * Throws a 403 `insufficient_scope` `VerifierError`.
 *
 * @example
 * ```ts
 * const result = await verifier.verifyRequest(request);
 * requireAction(result, 'issues:write', { identifier: 'acme/agent' });
 * ```
 */
export function requireAction(result: Pick<VerifiedRequest, 'task'>, action: string, needs: ActionNeeds = {}): void {
  const { task } = result;
  if (!task.actions.includes(action)) throw new VerifierError('ERR_INSUFFICIENT_SCOPE', `the task does not allow ${action}`);
  if (needs.datatype !== undefined && Array.isArray(task.datatypes) && !task.datatypes.includes(needs.datatype))
    throw new VerifierError('ERR_INSUFFICIENT_SCOPE', `the task does not cover datatype ${needs.datatype}`);
  if (needs.identifier !== undefined && task.identifier !== undefined && task.identifier !== needs.identifier)
    throw new VerifierError('ERR_INSUFFICIENT_SCOPE', `the task does not cover ${needs.identifier}`);
}
