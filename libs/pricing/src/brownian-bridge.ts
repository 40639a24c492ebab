import { PricingError } from './pricing-error';

// Math functions bound once: global lookups are slow inside vm contexts (e.g. jest's sandbox).
const sqrt = Math.sqrt;

/**
 * Brownian-bridge construction of a Brownian path at the times t_i = (i + 1)/n, i = 0…n−1, on
 * [0, 1] from n standard normals: the first normal sets W(1), the next ones fill midpoints of ever
 * smaller gaps (P. Jäckel, Monte Carlo Methods in Finance, Wiley 2002, §10.8; P. Glasserman, Monte
 * Carlo Methods in Financial Engineering, Springer 2004, §3.1). With a low-discrepancy sequence
 * this puts the best-distributed coordinates on the largest-scale path features. Scale by √T for
 * the times iT/n.
 */
export class BrownianBridge {
  readonly size: number;
  private readonly bridgeIndex: Int32Array;
  private readonly leftIndex: Int32Array;
  private readonly rightIndex: Int32Array;
  private readonly leftWeight: Float64Array;
  private readonly rightWeight: Float64Array;
  private readonly stdDev: Float64Array;

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) {
      throw new PricingError(
        'INVALID_ARGUMENT',
        `Brownian bridge size must be a positive integer, got ${size}`,
      );
    }
    this.size = size;
    const n = size;
    this.bridgeIndex = new Int32Array(n);
    this.leftIndex = new Int32Array(n);
    this.rightIndex = new Int32Array(n);
    this.leftWeight = new Float64Array(n);
    this.rightWeight = new Float64Array(n);
    this.stdDev = new Float64Array(n);
    const time = (i: number): number => (i + 1) / n;
    // filled[i]: whether point i is already constructed.
    const filled = new Uint8Array(n);
    filled[n - 1] = 1;
    this.bridgeIndex[0] = n - 1;
    this.stdDev[0] = 1;
    let j = 0;
    for (let i = 1; i < n; i++) {
      while (filled[j]) j++; // first point of the next unfilled run [j, k)
      let k = j;
      while (!filled[k]) k++; // k: the constructed point to its right
      const l = j + ((k - 1 - j) >> 1); // the run's middle
      filled[l] = 1;
      this.bridgeIndex[i] = l;
      this.leftIndex[i] = j;
      this.rightIndex[i] = k;
      const tLeft = j === 0 ? 0 : time(j - 1);
      const tk = time(k);
      const tl = time(l);
      this.leftWeight[i] = (tk - tl) / (tk - tLeft);
      this.rightWeight[i] = (tl - tLeft) / (tk - tLeft);
      this.stdDev[i] = sqrt(((tl - tLeft) * (tk - tl)) / (tk - tLeft));
      j = k + 1;
      if (j >= n) j = 0;
    }
  }

  /** Writes W(t_0…t_{n−1}) into path from the normals z[0…n−1]. No allocation. */
  transform(z: ArrayLike<number>, path: Float64Array): void {
    const n = this.size;
    path[n - 1] = z[0];
    for (let i = 1; i < n; i++) {
      const j = this.leftIndex[i];
      const l = this.bridgeIndex[i];
      const right = this.rightWeight[i] * path[this.rightIndex[i]] + this.stdDev[i] * z[i];
      path[l] = j === 0 ? right : this.leftWeight[i] * path[j - 1] + right;
    }
  }
}
