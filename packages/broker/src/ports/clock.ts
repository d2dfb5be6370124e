/** Time source; tests pass a fixed or stepping clock. Epoch milliseconds. */
export interface Clock {
  now(): number;
}
