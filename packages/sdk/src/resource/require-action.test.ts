import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentTask } from '../protocol/index.ts';
import { VerifierError } from './errors.ts';
import { requireAction } from './require-action.ts';

const task: AgentTask = { type: 'agent-task', locations: ['https://api.example.com'], actions: ['issues:read'], datatypes: ['issue'], identifier: 'acme/agent' };

function refused(fn: () => void) {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof VerifierError);
    assert.equal(error.code, 'ERR_INSUFFICIENT_SCOPE');
    assert.equal(error.status, 403);
    assert.match(error.wwwAuthenticate!, /^DPoP error="insufficient_scope"/);
    return true;
  });
}

test('requireAction passes when action, datatype and identifier are within the task', () => {
  requireAction({ task }, 'issues:read', { datatype: 'issue', identifier: 'acme/agent' });
});

test('requireAction refuses an action the task does not list', () => {
  refused(() => requireAction({ task }, 'issues:delete'));
});

test('requireAction refuses a datatype the task does not list', () => {
  refused(() => requireAction({ task }, 'issues:read', { datatype: 'secret' }));
});

test('requireAction refuses another identifier', () => {
  refused(() => requireAction({ task }, 'issues:read', { identifier: 'acme/other' }));
});

test('a task without datatypes or identifier is not narrowed by them', () => {
  requireAction({ task: { type: 'agent-task', locations: ['x'], actions: ['a'] } }, 'a', { datatype: 'any', identifier: 'any' });
});
