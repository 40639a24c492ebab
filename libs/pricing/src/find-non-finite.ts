// Bound once: global lookups are slow inside vm contexts (e.g. jest's sandbox).
const finite = Number.isFinite;

/** A non-finite output value: its row, output name and value. */
export interface NonFiniteValue {
  row: number;
  output: string;
  value: number;
}

/**
 * The first non-finite (NaN or ±Infinity) value in output columns — lowest row first, then in
 * column order — or null when all are finite.
 */
export function findNonFinite(
  columns: readonly ArrayLike<number>[],
  outputNames: readonly string[],
): NonFiniteValue | null {
  let found: NonFiniteValue | null = null;
  columns.forEach((column, k) => {
    const limit = found === null ? column.length : Math.min(column.length, found.row);
    for (let i = 0; i < limit; i++) {
      const value = column[i];
      if (!finite(value)) {
        found = { row: i, output: outputNames[k] ?? `#${k}`, value };
        return;
      }
    }
  });
  return found;
}
