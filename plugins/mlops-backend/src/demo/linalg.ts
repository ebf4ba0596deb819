import { InputError } from '@backstage/errors';

/**
 * Solves A x = b for a square matrix A by Gaussian elimination with partial
 * pivoting. Throws InputError when A is singular (to working precision).
 */
export function solveLinearSystem(a: number[][], b: number[]): number[] {
  const n = a.length;
  if (n === 0 || a.some(row => row.length !== n) || b.length !== n) {
    throw new InputError(
      'solveLinearSystem needs an n×n matrix and n right-hand values',
    );
  }
  // Augmented copy, so the inputs are left alone.
  const m = a.map((row, i) => [...row, b[i]]);
  const norm = Math.max(
    ...a.map(row => row.reduce((s, v) => s + Math.abs(v), 0)),
  );
  const tiny = Number.EPSILON * n * (norm || 1);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) {
      if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    }
    if (Math.abs(m[pivot][col]) <= tiny) {
      throw new InputError(
        'The linear system is singular: the features are collinear (use a ridge penalty > 0)',
      );
    }
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = col + 1; r < n; r++) {
      const factor = m[r][col] / m[col][col];
      if (factor === 0) continue;
      for (let c = col; c <= n; c++) m[r][c] -= factor * m[col][c];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let sum = m[r][n];
    for (let c = r + 1; c < n; c++) sum -= m[r][c] * x[c];
    x[r] = sum / m[r][r];
  }
  return x;
}
