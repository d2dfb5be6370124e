/** Who asked for a change, carried into its audit event. */
export interface ActionContext {
  /** The acting human's id (`usr_…`). */
  actor: string;
  /** The request id (`req_…`) the change was made under. */
  requestId: string;
}
