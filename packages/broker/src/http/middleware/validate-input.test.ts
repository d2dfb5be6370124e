import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { MandateError } from '../../core/errors.ts';
import { validateInput } from './validate-input.ts';

const schema = z.strictObject({ name: z.string().min(1), owners: z.array(z.string()).min(1), jwk: z.strictObject({ x: z.string() }) });
const good = { name: 'a', owners: ['u'], jwk: { x: 'x' } };

function rejects(input: unknown, code: string, parameter: string | undefined, message: RegExp): void {
  assert.throws(() => validateInput(schema, input), (error: unknown) => {
    assert.ok(error instanceof MandateError);
    assert.equal(error.code, code);
    assert.equal(error.details.parameter, parameter);
    assert.match(error.message, message);
    return true;
  });
}

test('returns the parsed value', () => assert.deepEqual(validateInput(schema, good), good));
test('a missing parameter is named', () => rejects({ owners: ['u'], jwk: { x: 'x' } }, 'ERR_REQUEST_MISSING_PARAMETER', 'name', /^name is required$/));
test('a missing nested member is named by its path', () => rejects({ ...good, jwk: {} }, 'ERR_REQUEST_MISSING_PARAMETER', 'jwk.x', /jwk\.x is required/));
test('a missing parameter wins over an invalid one', () => rejects({ owners: 3, jwk: { x: 'x' } }, 'ERR_REQUEST_MISSING_PARAMETER', 'name', /name/));
test('a bad value is named with its index', () => rejects({ ...good, owners: [7] }, 'ERR_REQUEST_INVALID_PARAMETER', 'owners[0]', /invalid owners\[0\]: expected string/));
test('a too-short value is invalid', () => rejects({ ...good, name: '' }, 'ERR_REQUEST_INVALID_PARAMETER', 'name', /invalid name/));
test('an unknown member is invalid', () => rejects({ ...good, extra: 1 }, 'ERR_REQUEST_INVALID_PARAMETER', 'extra', /unknown parameter extra/));
test('an unknown nested member is named by its path', () => rejects({ ...good, jwk: { x: 'x', d: 'y' } }, 'ERR_REQUEST_INVALID_PARAMETER', 'jwk.d', /unknown parameter jwk\.d/));
