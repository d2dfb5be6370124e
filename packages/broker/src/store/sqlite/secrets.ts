import type { Kysely } from 'kysely';
import type { SecretStore } from '../../ports/secrets.ts';
import type { Database } from '../schema.ts';

export function createSqliteSecrets(db: Kysely<Database>): SecretStore {
  return {
    /** Insert-if-absent, then read: two replicas racing both end up with the winner's value. */
    async getOrCreate(name, fresh, at) {
      await db.insertInto('broker_secrets').values({ name, value: fresh, created_at: at }).onConflict((oc) => oc.column('name').doNothing()).execute();
      const row = await db.selectFrom('broker_secrets').select('value').where('name', '=', name).executeTakeFirstOrThrow();
      return row.value;
    },
    async list() {
      return db.selectFrom('broker_secrets').select(['name', 'value']).orderBy('name').execute();
    },
    async replace(name, expected, next) {
      const result = await db.updateTable('broker_secrets').set({ value: next }).where('name', '=', name).where('value', '=', expected).executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
  };
}
