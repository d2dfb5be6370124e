import type { AdminRight } from '../core/model.ts';

/** Who asked for a change, carried into its audit event. */
export interface ActionContext {
  /** The acting human's id (`usr_…`). */
  actor: string;
  /** The request id (`req_…`) the change was made under. */
  requestId: string;
  /** The caller's admin rights, when the change comes through the admin API. */
  callerRights?: readonly AdminRight[];
}
