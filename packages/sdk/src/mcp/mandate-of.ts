import type { VerifiedRequest } from '../resource/verifier.ts';
import type { McpAuthInfo } from './types.ts';

/**
 * The verified Mandate request behind an MCP call, from the `authInfo` the guard put on it: the
 * agent, the human it acts for, the approved task. Undefined when the call did not pass the guard.
 * Tool handlers use it for checks that depend on arguments, or to record who acted.
 *
 * @example
 * ```ts
 * server.registerTool('delete_item', { inputSchema: { id: z.string() } }, async ({ id }, extra) => {
 *   const mandate = mandateOf(extra.authInfo);
 *   if (!mandate) throw new Error('not called through the Mandate guard');
 *   requireAction(mandate, 'write', { identifier: id });
 *   return { content: [{ type: 'text', text: `deleted ${id} for ${mandate.subject}` }] };
 * });
 * ```
 */
export function mandateOf(authInfo: Pick<McpAuthInfo, 'extra'> | undefined): VerifiedRequest | undefined {
  const mandate = authInfo?.extra?.mandate as VerifiedRequest | undefined;
  return typeof mandate?.agentId === 'string' && typeof mandate.task === 'object' ? mandate : undefined;
}
