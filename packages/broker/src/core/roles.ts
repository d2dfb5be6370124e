import { ADMIN_RIGHTS, type AdminRight } from './model.ts';

/**
 * Console roles: named sets of admin rights (docs/console.md has the table). A human carries
 * roles; a console session acts with the union of their rights. Admin tokens keep their own
 * rights, fixed when the token was made.
 */
export const CONSOLE_ROLES = ['admin', 'owner', 'approver', 'auditor'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

/**
 * Rights by role, by name: a right another part adds later (e.g. `mandates:review`) takes effect
 * once it is in ADMIN_RIGHTS; unknown names are ignored by `rightsOfRoles`.
 */
export const ROLE_RIGHTS: Readonly<Record<ConsoleRole, readonly string[]>> = {
  admin: ['admin'],
  // Owners answer for their agents: register and suspend them, decide, review and revoke their mandates.
  owner: ['humans:read', 'agents:read', 'agents:write', 'mandates:read', 'mandates:decide', 'mandates:revoke', 'mandates:review', 'findings:read'],
  approver: ['humans:read', 'agents:read', 'mandates:read', 'mandates:decide'],
  auditor: ['humans:read', 'agents:read', 'mandates:read', 'audit:read', 'keys:read', 'findings:read'],
};

export function isConsoleRole(value: string): value is ConsoleRole {
  return (CONSOLE_ROLES as readonly string[]).includes(value);
}

/** The rights a set of roles grants, each once, in catalogue order. */
export function rightsOfRoles(roles: readonly ConsoleRole[]): AdminRight[] {
  const granted = new Set(roles.flatMap((role) => ROLE_RIGHTS[role]));
  return ADMIN_RIGHTS.filter((right) => granted.has(right));
}
