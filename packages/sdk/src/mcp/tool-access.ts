import { VerifierError } from '../resource/errors.ts';
import { requireAction, type ActionNeeds } from '../resource/require-action.ts';
import type { VerifiedRequest } from '../resource/verifier.ts';
import { paramsOf } from './messages.ts';
import type { ToolRule } from './options.ts';
import type { JsonRpcMessage } from './types.ts';

/**
 * A request the mandate does not cover: the 403 `insufficient_scope` error to answer with, the
 * JSON-RPC id it answers and what was missing.
 */
export interface Refusal {
  error: VerifierError;
  id: unknown;
  data: RefusalData;
}

/** What a refused request asked for, sent as the JSON-RPC error's `data`. */
export interface RefusalData {
  method: string;
  tool?: string;
  action?: string;
}

/** Tool and method rules, as configured. */
export interface AccessRules {
  tools: Record<string, string | ToolRule>;
  methods?: Record<string, string>;
}

const TOOLS_CALL = 'tools/call';

/** Own keys only: a tool named `constructor` or `__proto__` must not find Object.prototype members. */
function ruleOf<T>(rules: Record<string, T> | undefined, name: string): T | undefined {
  return rules !== undefined && Object.hasOwn(rules, name) ? rules[name] : undefined;
}

/** Names from the wire go into messages shortened; JSON and `quotable` escape the rest. */
const shown = (name: string) => (name.length > 64 ? `${name.slice(0, 64)}…` : name);

function refuseTool(mandate: VerifiedRequest, message: JsonRpcMessage, rules: AccessRules): Refusal | null {
  const params = paramsOf(message);
  const name = params.name;
  if (typeof name !== 'string') return refusal(message, `${TOOLS_CALL} names no tool`, {});
  const rule = ruleOf(rules.tools, name);
  if (rule === undefined) return refusal(message, `tool ${shown(name)} is not offered under a mandate`, { tool: shown(name) });
  const { action, datatype, identifier } = typeof rule === 'string' ? { action: rule } as ToolRule : rule;
  const args = typeof params.arguments === 'object' && params.arguments !== null ? (params.arguments as Record<string, unknown>) : {};
  const needs: ActionNeeds = { ...(datatype ? { datatype } : {}) };
  const id = identifier?.(args);
  // A rule that reads an identifier must find one: no identifier is never "any identifier".
  if (identifier !== undefined && (typeof id !== 'string' || id === '')) return refusal(message, `tool ${shown(name)} needs an identifier in its arguments`, { tool: shown(name), action });
  if (id !== undefined) needs.identifier = id;
  return check(mandate, action, needs, message, { tool: shown(name), action }, `tool ${shown(name)}`);
}

function refuseMethod(mandate: VerifiedRequest, message: JsonRpcMessage, rules: AccessRules): Refusal | null {
  const action = ruleOf(rules.methods, message.method as string);
  return action === undefined ? null : check(mandate, action, {}, message, { action }, `method ${shown(message.method as string)}`);
}

function check(mandate: VerifiedRequest, action: string, needs: ActionNeeds, message: JsonRpcMessage, data: Omit<RefusalData, 'method'>, what: string): Refusal | null {
  try {
    requireAction(mandate, action, needs);
    return null;
  } catch (error) {
    if (!(error instanceof VerifierError)) throw error;
    return refusal(message, `${what}: ${error.message}`, data);
  }
}

function refusal(message: JsonRpcMessage, text: string, data: Omit<RefusalData, 'method'>): Refusal {
  return { error: new VerifierError('ERR_INSUFFICIENT_SCOPE', text), id: message.id, data: { method: String(message.method), ...data } };
}

/**
 * The first request (or notification) of a body the mandate does not cover (PROTOCOL §7: what the call needs ⊆ the
 * token's task), or null. `tools/call` needs its tool's rule, and a tool without one is refused;
 * a method listed in `methods` needs its action. A batch is refused as a whole.
 *
 * @example
 * ```ts
 * const refused = findRefusal(mandate, [{ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'delete_item' } }], { tools: { delete_item: 'write' } });
 * ```
 */
export function findRefusal(mandate: VerifiedRequest, messages: JsonRpcMessage[], rules: AccessRules): Refusal | null {
  for (const message of messages) {
    // Notifications too: a `tools/call` without a valid id runs nothing today, and stays refused if that changes.
    if (typeof message.method !== 'string') continue;
    const refused = refuseMethod(mandate, message, rules) ?? (message.method === TOOLS_CALL ? refuseTool(mandate, message, rules) : null);
    if (refused) return refused;
  }
  return null;
}

/**
 * Whether a tool may be listed to this caller: it has a rule whose action (and datatype) the task
 * allows. Identifiers depend on a call's arguments, so they are checked at call time only.
 *
 * @example
 * ```ts
 * const visible = tools.filter((tool) => allowsTool(mandate, rules, tool.name));
 * ```
 */
export function allowsTool(mandate: VerifiedRequest, rules: AccessRules, name: string): boolean {
  const rule = ruleOf(rules.tools, name);
  if (rule === undefined) return false;
  const { action, datatype } = typeof rule === 'string' ? { action: rule, datatype: undefined } : rule;
  try {
    requireAction(mandate, action, datatype ? { datatype } : {});
    return true;
  } catch (error) {
    if (error instanceof VerifierError) return false;
    throw error;
  }
}
