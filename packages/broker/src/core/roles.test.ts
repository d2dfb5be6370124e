import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADMIN_RIGHTS, hasRight } from './model.ts';
import { CONSOLE_ROLES, isConsoleRole, rightsOfRoles, ROLE_RIGHTS } from './roles.ts';

test('admin carries the admin right, which implies every other', () => {
  const rights = rightsOfRoles(['admin']);
  assert.deepEqual(rights, ['admin']);
  for (const right of ADMIN_RIGHTS) assert.ok(hasRight(rights, right));
});

test('approvers decide but cannot revoke, write agents or read the audit log', () => {
  const rights = rightsOfRoles(['approver']);
  assert.ok(hasRight(rights, 'mandates:decide'));
  for (const right of ['mandates:revoke', 'agents:write', 'audit:read', 'humans:write', 'tokens:manage'] as const) assert.ok(!hasRight(rights, right), right);
});

test('auditors only read', () => {
  assert.ok(rightsOfRoles(['auditor']).every((right) => right.endsWith(':read')));
});

test('roles combine as a union in catalogue order, each right once; unknown right names are ignored', () => {
  const rights = rightsOfRoles(['auditor', 'approver', 'owner']);
  assert.equal(new Set(rights).size, rights.length);
  assert.deepEqual(rights, ADMIN_RIGHTS.filter((right) => rights.includes(right)));
  const known = new Set<string>(ADMIN_RIGHTS);
  for (const role of CONSOLE_ROLES) assert.ok(rightsOfRoles([role]).every((right) => known.has(right)));
  assert.equal(ROLE_RIGHTS.owner.includes('mandates:review'), true, 'named even before the right exists');
});

test('isConsoleRole', () => {
  assert.ok(isConsoleRole('owner'));
  assert.ok(!isConsoleRole('root'));
});
