import { after, before, test } from 'node:test';
import { startTestApp, type TestApp } from './support/app-fixture.ts';
import { fuzzRoutes } from './support/fuzz-routes.ts';

let t: TestApp;
before(async () => {
  t = await startTestApp();
});
after(() => t.close());

test('2,000 generated requests at every route (fixed seed): never a 5xx, always a standard body', async () => {
  await fuzzRoutes(t, 2_000, 20261123);
});
