import { ValueTransformer } from 'typeorm';

/**
 * Times are stored as integer epoch milliseconds (`bigint`), the one type that
 * means the same on SQLite and PostgreSQL, so one migration serves both and no
 * time zone ever enters. PostgreSQL returns bigint as a string, hence Number().
 */
export const epochMs: ValueTransformer = {
  // `to` also sees query operators (IsNull(), LessThan(…)) in WHERE clauses: pass those through.
  to: (value: unknown) => (value instanceof Date ? value.getTime() : value),
  from: (value: string | number | null) => (value == null ? null : new Date(Number(value))),
};
