/**
 * ADWIN (Bifet & Gavaldà, SDM 2007), a line-for-line port of river's
 * `AdaptiveWindowing` (`river/drift/adwin_c.pyx`) with river's defaults:
 * delta 0.002, clock 32, max_buckets 5, min_window_length 5, grace_period 10.
 * As river's `drift.ADWIN`, the detector starts afresh on the update after
 * the one that detected a change.
 */

interface BucketRow {
  totals: number[];
  variances: number[];
}

export interface AdwinOptions {
  delta?: number;
  clock?: number;
  maxBuckets?: number;
  minWindowLength?: number;
  gracePeriod?: number;
}

/** The state ADWIN keeps, to store between checks. */
export interface AdwinState {
  rows: BucketRow[];
  total: number;
  variance: number;
  width: number;
  tick: number;
  nDetections: number;
  driftDetected: boolean;
}

export class Adwin {
  readonly delta: number;
  readonly clock: number;
  readonly maxBuckets: number;
  readonly minWindowLength: number;
  readonly gracePeriod: number;
  private rows: BucketRow[] = [{ totals: [], variances: [] }];
  private total = 0;
  private variance = 0;
  private width = 0;
  private tick = 0;
  private nDetections = 0;
  private detected = false;

  constructor(options: AdwinOptions = {}, state?: AdwinState) {
    this.delta = options.delta ?? 0.002;
    this.clock = options.clock ?? 32;
    this.maxBuckets = options.maxBuckets ?? 5;
    this.minWindowLength = options.minWindowLength ?? 5;
    this.gracePeriod = options.gracePeriod ?? 10;
    if (state) {
      this.rows = state.rows.map(r => ({
        totals: [...r.totals],
        variances: [...r.variances],
      }));
      this.total = state.total;
      this.variance = state.variance;
      this.width = state.width;
      this.tick = state.tick;
      this.nDetections = state.nDetections;
      this.detected = state.driftDetected;
    }
  }

  get driftDetected(): boolean {
    return this.detected;
  }
  /** The window's length. */
  get windowWidth(): number {
    return this.width;
  }
  /** The window's mean. */
  get estimation(): number {
    return this.width === 0 ? 0 : this.total / this.width;
  }
  get detections(): number {
    return this.nDetections;
  }

  state(): AdwinState {
    return {
      rows: this.rows.map(r => ({
        totals: [...r.totals],
        variances: [...r.variances],
      })),
      total: this.total,
      variance: this.variance,
      width: this.width,
      tick: this.tick,
      nDetections: this.nDetections,
      driftDetected: this.detected,
    };
  }

  update(x: number): this {
    if (this.detected) {
      // river's ADWIN.update: a new helper after a detection (the count of
      // detections is the wrapper's, kept here).
      const n = this.nDetections;
      this.rows = [{ totals: [], variances: [] }];
      this.total = 0;
      this.variance = 0;
      this.width = 0;
      this.tick = 0;
      this.nDetections = n;
    }
    this.insert(x);
    this.detected = this.detectChange();
    return this;
  }

  private insert(value: number): void {
    const row0 = this.rows[0];
    row0.totals.push(value);
    row0.variances.push(0);
    this.width += 1;
    if (this.width > 1) {
      const d = value - this.total / (this.width - 1);
      this.variance += ((this.width - 1) * d * d) / this.width;
    }
    this.total += value;
    this.compress();
  }

  private compress(): void {
    for (let idx = 0; idx < this.rows.length; idx++) {
      const row = this.rows[idx];
      if (row.totals.length !== this.maxBuckets + 1) break;
      if (idx + 1 >= this.rows.length)
        this.rows.push({ totals: [], variances: [] });
      const next = this.rows[idx + 1];
      const n = 2 ** idx;
      const mu1 = row.totals[0] / n;
      const mu2 = row.totals[1] / n;
      const total12 = row.totals[0] + row.totals[1];
      const v12 =
        row.variances[0] +
        row.variances[1] +
        (n * n * (mu1 - mu2) * (mu1 - mu2)) / (n + n);
      next.totals.push(total12);
      next.variances.push(v12);
      row.totals.splice(0, 2);
      row.variances.splice(0, 2);
      if (next.totals.length <= this.maxBuckets) break;
    }
  }

  private deleteElement(): number {
    const last = this.rows.length - 1;
    const row = this.rows[last];
    const n = 2 ** last;
    const u = row.totals[0];
    const mu = u / n;
    const v = row.variances[0];
    this.width -= n;
    this.total -= u;
    const muWindow = this.total / this.width;
    this.variance -=
      v +
      (n * this.width * (mu - muWindow) * (mu - muWindow)) / (n + this.width);
    row.totals.shift();
    row.variances.shift();
    if (row.totals.length === 0) this.rows.pop();
    return n;
  }

  private detectChange(): boolean {
    let changeDetected = false;
    this.tick += 1;
    if (this.tick % this.clock === 0 && this.width > this.gracePeriod) {
      let reduceWidth = true;
      while (reduceWidth) {
        reduceWidth = false;
        let exit = false;
        let n0 = 0;
        let n1 = this.width;
        let u0 = 0;
        let u1 = this.total;
        let v0 = 0;
        let v1 = this.variance;
        for (let idx = this.rows.length - 1; idx >= 0 && !exit; idx--) {
          const row = this.rows[idx];
          const n2 = 2 ** idx;
          // river leaves each row's newest bucket out of the cut points.
          for (let k = 0; k < row.totals.length - 1; k++) {
            const u2 = row.totals[k];
            const mu2 = u2 / n2;
            if (n0 > 0) {
              const mu0 = u0 / n0;
              v0 +=
                row.variances[k] +
                (n0 * n2 * (mu0 - mu2) * (mu0 - mu2)) / (n0 + n2);
            }
            if (n1 > 0) {
              const mu1 = u1 / n1;
              v1 -=
                row.variances[k] +
                (n1 * n2 * (mu1 - mu2) * (mu1 - mu2)) / (n1 + n2);
            }
            n0 += n2;
            n1 -= n2;
            u0 += u2;
            u1 -= u2;
            const deltaMean = u0 / n0 - u1 / n1;
            if (
              n1 >= this.minWindowLength &&
              n0 >= this.minWindowLength &&
              this.evaluateCut(n0, n1, deltaMean)
            ) {
              reduceWidth = true;
              changeDetected = true;
              if (this.width > 0) {
                n0 -= this.deleteElement();
                exit = true;
                break;
              }
            }
          }
        }
      }
    }
    if (changeDetected) this.nDetections += 1;
    return changeDetected;
  }

  private evaluateCut(n0: number, n1: number, deltaMean: number): boolean {
    const deltaPrime = Math.log((2 * Math.log(this.width)) / this.delta);
    const mRecip =
      1 / (n0 - this.minWindowLength + 1) + 1 / (n1 - this.minWindowLength + 1);
    const epsilon =
      Math.sqrt(2 * mRecip * (this.variance / this.width) * deltaPrime) +
      (2 / 3) * deltaPrime * mRecip;
    return Math.abs(deltaMean) > epsilon;
  }
}
