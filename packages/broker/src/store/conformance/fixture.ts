import { afterEach, beforeEach } from 'node:test';
import type { Store } from '../../ports/store.ts';

/**
 * Two independent `Store` instances (separate connections) on one fresh, empty database, so a
 * suite can show that every atomicity rule holds across replicas. Audit chains are hashed with
 * `nodeChainHashing`.
 */
export interface StoreFixture {
  a: Store;
  b: Store;
  cleanup(): Promise<void>;
}

export type MakeFixture = () => Promise<StoreFixture>;

/** Inside a `describe`: a fresh fixture for every test, cleaned up after it. */
export function useFixture(make: MakeFixture): () => StoreFixture {
  let current: StoreFixture | undefined;
  beforeEach(async () => {
    current = await make();
  });
  afterEach(async () => {
    await current?.cleanup();
    current = undefined;
  });
  return () => {
    if (!current) throw new Error('store fixture used outside a test');
    return current;
  };
}

/** Runs `count` calls, alternating between the two stores, all at once. */
export function onBoth<T>(fixture: StoreFixture, count: number, call: (store: Store, i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => call(i % 2 === 0 ? fixture.a : fixture.b, i)));
}
