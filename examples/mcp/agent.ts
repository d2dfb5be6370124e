/**
 * The agent's side: ask a human for a mandate that covers some tools of the items MCP server,
 * then call the server through an MCP client whose every request carries the agent's DPoP-bound
 * token and a fresh proof (`createMcpFetch`). The agent client renews tokens itself, re-attesting.
 * Then hand a narrowed part of the mandate to a sub-agent, which calls the server as itself.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { AgentClient, SubGrant } from '@mandate/sdk';
import { createMcpFetch } from '@mandate/sdk/mcp';
import { ITEM_TOOLS } from './server.ts';

export type ItemTool = Extract<keyof typeof ITEM_TOOLS, string>;

/** What the agent asks for. */
export interface ToolRequest {
  /** The human asked to approve (`usr_…`), one of the agent's approvers. */
  approver: string;
  /** The MCP server's audience at the broker. */
  audience: string;
  /** The tools the task needs; the mandate asks for their actions only. */
  tools: ItemTool[];
  purpose: string;
  /** When the mandate ends. */
  notAfter: Date;
}

/** The actions (and datatypes) that cover `tools` under the server's `ITEM_TOOLS`. */
export function taskFor(tools: ItemTool[]): { actions: string[]; datatypes?: string[] } {
  const rules = tools.map((tool) => ITEM_TOOLS[tool]).map((rule) => (typeof rule === 'string' ? { action: rule } : rule));
  const datatypes = [...new Set(rules.flatMap((rule) => ('datatype' in rule ? [rule.datatype] : [])))];
  return { actions: [...new Set(rules.map((rule) => rule.action))], ...(datatypes.length > 0 ? { datatypes } : {}) };
}

/** Step 1: ask for a mandate covering `tools` (CIBA); the human decides out of band. Returns the request id. */
export async function askForTools(agent: AgentClient, request: ToolRequest): Promise<string> {
  const { authReqId } = await agent.ask({
    loginHint: request.approver,
    bindingMessage: request.purpose,
    task: { purpose: request.purpose, audience: request.audience, notAfter: request.notAfter, ...taskFor(request.tools) },
  });
  return authReqId;
}

/** Step 2: once approved, an MCP client for the server at `url` whose requests carry the agent's tokens for `audience`. */
export async function connectToItems(agent: AgentClient, options: { url: string; audience: string }): Promise<Client> {
  const fetch = createMcpFetch(agent, { resource: options.audience });
  const client = new Client({ name: 'items-agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(options.url), { fetch }));
  return client;
}

/** Step 3: call a tool and read its JSON answer. */
export async function callItemTool(client: Client, name: ItemTool, args: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const result = await client.callTool({ name, arguments: args });
  const [first] = result.content as Array<{ type: string; text?: string }>;
  return JSON.parse(first?.text ?? 'null') as Record<string, unknown>;
}

// ── Sub-agent hop ───────────────────────────────────────────────────────────────────────────
// The agent hands part of its mandate to a registered sub-agent without going back to the human
// and without sharing a token (PROTOCOL §10, docs/sub-agents.md). The sub-agent redeems it with
// its own key and fresh evidence, and calls the server as itself: the server sees it acting for
// the agent for the human (nested `act`), held to the narrowed task.

/** What the agent passes on: each member equal to or narrower than its own mandate. */
export interface SubAgentHandOff {
  /** The registered sub-agent (`agt_…`): the only one that can redeem the sub-grant, once. */
  child: string;
  /** The MCP server's audience at the broker. */
  audience: string;
  /** The tools the sub-task needs: their actions must be among the agent's own. */
  tools: ItemTool[];
  /** When the sub-agent's mandate ends: no later than the agent's own. */
  notAfter?: Date;
  /** Access tokens the sub-agent may mint, carved out of the agent's remaining uses. */
  maxUses?: number;
}

/** Step 4 (the agent): a one-time sub-grant for `child`; hand it over a channel you trust. */
export async function handToSubAgent(agent: AgentClient, handOff: SubAgentHandOff): Promise<SubGrant> {
  const { child, audience, tools, notAfter, maxUses } = handOff;
  const narrower = { ...(notAfter ? { notAfter } : {}), ...(maxUses === undefined ? {} : { maxUses }) };
  return agent.delegate({ child, audience, actions: taskFor(tools).actions, ...narrower });
}

/** Step 5 (the sub-agent): redeem the sub-grant (its own DPoP key, fresh evidence), then connect as itself. */
export async function connectAsSubAgent(subAgent: AgentClient, subGrant: SubGrant, options: { url: string }): Promise<Client> {
  await subAgent.redeem(subGrant);
  return connectToItems(subAgent, { url: options.url, audience: subGrant.resource });
}
