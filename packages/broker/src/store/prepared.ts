import type { Compilable, CompiledQuery } from 'kysely';

/** Stands in for a named value while the query is built; never a value a caller could send (NUL). */
const MARK = '\u0000param:';

type Param<A> = <K extends keyof A & string>(name: K) => A[K];

/**
 * A Kysely query of fixed shape, built and compiled once, on first use: each call then only binds
 * its values in place of the named parameters (`param('id')`). Building and compiling a query costs
 * about 20 µs, more than running it on SQLite, and the mint path runs a dozen (bench/README.md, "Where a mint's time goes").
 * Only for queries whose SQL does not depend on the values (no `in` lists, no optional clauses).
 *
 * @example
 * const byId = prepared<{ id: string }, HumansRow>((param) => db.selectFrom('humans').selectAll().where('id', '=', param('id')));
 * const row = (await db.executeQuery(byId({ id }))).rows[0];
 */
export function prepared<A extends object, R = unknown>(build: (param: Param<A>) => Compilable<R>): (args: A) => CompiledQuery<R> {
  let compiled: CompiledQuery<R> | undefined;
  let slots: Array<{ name: string } | { value: unknown }> = [];
  return (args) => {
    if (!compiled) {
      compiled = build(((name: string) => `${MARK}${name}`) as Param<A>).compile();
      slots = compiled.parameters.map((value) => (typeof value === 'string' && value.startsWith(MARK) ? { name: value.slice(MARK.length) } : { value }));
    }
    const parameters = slots.map((slot) => {
      if (!('name' in slot)) return slot.value;
      const value = (args as Record<string, unknown>)[slot.name];
      if (value === undefined) throw new TypeError(`prepared query: no value for parameter ${slot.name}`);
      return value;
    });
    return { ...compiled, parameters };
  };
}
