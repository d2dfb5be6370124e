import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isStalePlan } from './prepared.ts';

test('a stale plan is recognised by its SQLSTATE and routine, whatever language the server answers in', () => {
  assert.equal(isStalePlan({ code: '0A000', routine: 'RevalidateCachedQuery', message: 'le plan en cache ne doit pas modifier le type en résultat' }), true);
  assert.equal(isStalePlan({ code: '0A000', message: 'cached plan must not change result type' }), true, 'by its message when the routine is absent');
  assert.equal(isStalePlan({ code: '0A000', routine: 'transformSelectStmt', message: 'FOR UPDATE is not allowed with aggregate functions' }), false, 'another unsupported feature');
  assert.equal(isStalePlan({ code: '40P01', routine: 'RevalidateCachedQuery' }), false);
  assert.equal(isStalePlan(new Error('cached plan must not change result type')), false, 'no SQLSTATE: not from the server');
  assert.equal(isStalePlan(undefined), false);
});
