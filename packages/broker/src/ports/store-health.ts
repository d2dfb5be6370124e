/** What readiness (`GET /readyz`) asks of a store about its schema. */
export interface MigrationStatus {
  /** Migrations this version knows that the store has not applied. */
  pending: string[];
  /** Migrations the store has applied that this version does not know (a newer replica ran them). */
  unknown: string[];
}
