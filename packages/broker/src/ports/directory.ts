import type { AdminToken, Agent, AgentStatus, Human } from '../core/model.ts';

/** Humans, agents and admin tokens. */
export interface HumanRepository {
  insert(human: Human): Promise<void>;
  get(id: string): Promise<Human | null>;
  list(): Promise<Human[]>;
  disable(id: string, at: number): Promise<boolean>;
}

export interface AgentRepository {
  insert(agent: Agent): Promise<void>;
  get(id: string): Promise<Agent | null>;
  getByName(name: string): Promise<Agent | null>;
  list(): Promise<Agent[]>;
  /** Agents that list `humanId` as an owner. */
  listByOwner(humanId: string): Promise<Agent[]>;
  /**
   * Sets the status only while it is one of `from` (one conditional write, so of concurrent
   * changes exactly one wins); false for an unknown id or another status.
   */
  setStatus(id: string, status: AgentStatus, from: readonly AgentStatus[]): Promise<boolean>;
  /** Moves an active agent's `lastSeenAt` forward to `at` (never back; a suspended or retired agent's stays). */
  touch(id: string, at: number): Promise<void>;
}

export interface AdminTokenRepository {
  insert(token: AdminToken): Promise<void>;
  get(id: string): Promise<AdminToken | null>;
  list(): Promise<AdminToken[]>;
  revoke(id: string, at: number): Promise<boolean>;
}
