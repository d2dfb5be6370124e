import { z } from 'zod';
import { AGENT_TASK_TYPE } from '@mandate/sdk/protocol';
import { MandateError, type ErrorCode } from '../core/errors.ts';
import type { AgentTask } from '../core/mandate.ts';

export interface AudienceRules {
  actions: string[];
  datatypes: string[];
}

const MAX_EPOCH_SECONDS = 253402300799; // 9999-12-31

const agentTaskSchema = z.strictObject({
  type: z.literal(AGENT_TASK_TYPE),
  purpose: z.string().trim().min(1).max(500),
  locations: z.array(z.string().min(1)).length(1),
  actions: z.array(z.string().min(1).max(100)).min(1).max(50),
  datatypes: z.array(z.string().min(1).max(100)).max(50).optional(),
  identifier: z.string().min(1).max(500).optional(),
  constraints: z.strictObject({
    notAfter: z.number().int().positive().max(MAX_EPOCH_SECONDS),
    maxUses: z.number().int().min(1).max(1_000_000).optional(),
  }),
});

/**
 * RFC 9396 + PROTOCOL §4: exactly one `agent-task` object, exactly one location which is a
 * registered audience, actions and datatypes within what that audience allows, `notAfter` in the
 * future. Returns the task or throws `code` with the reason.
 */
export function parseAgentTask(
  raw: string,
  audiences: Readonly<Record<string, AudienceRules>>,
  nowSeconds: number,
  code: ErrorCode = 'ERR_ASK_AUTHORIZATION_DETAILS',
): AgentTask {
  const fail = (message: string): never => {
    throw new MandateError(code, message);
  };
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    fail('authorization_details is not JSON');
  }
  if (!Array.isArray(json) || json.length !== 1) fail('authorization_details must hold exactly one object');
  const parsed = agentTaskSchema.safeParse((json as unknown[])[0]);
  if (!parsed.success) fail(`authorization_details: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(object)'} ${i.message}`).join('; ')}`);
  const task = parsed.data as AgentTask;
  // Own keys only: `constructor` or `__proto__` must not find Object.prototype members.
  const rules = Object.hasOwn(audiences, task.locations[0]) ? audiences[task.locations[0]]! : fail('locations[0] is not a registered audience');
  const extraAction = task.actions.find((a) => !rules.actions.includes(a));
  if (extraAction) fail(`action ${extraAction} is not allowed at ${task.locations[0]}`);
  const extraType = (task.datatypes ?? []).find((d) => !rules.datatypes.includes(d));
  if (extraType) fail(`datatype ${extraType} is not allowed at ${task.locations[0]}`);
  if (task.constraints.notAfter <= nowSeconds) fail('constraints.notAfter must be in the future');
  return task;
}
