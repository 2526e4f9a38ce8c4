/**
 * PostgreSQL's own random() after setseed() (PostgreSQL 15 and later: src/common/pg_prng.c,
 * xoroshiro128** seeded by splitmix64), so the shop can draw exactly the numbers DemoData's
 * SQL draws and produce the same orders without a database.
 *
 * The 64-bit state is kept as two 32-bit halves: BigInt would make a million orders take
 * seconds instead of milliseconds.
 */
export class PgRandom {
  private s0hi = 0;
  private s0lo = 0;
  private s1hi = 0;
  private s1lo = 0;

  /** setseed(seed), seed in [-1, 1]: pg_prng_fseed scales it to 52 bits and seeds from that. */
  constructor(seed: number) {
    if (!(seed >= -1 && seed <= 1)) throw new RangeError(`setseed takes a number from -1 to 1, got ${seed}`);
    let state = BigInt.asUintN(64, BigInt(Math.trunc((2 ** 52 - 1) * seed)));
    const splitmix64 = () => {
      state = BigInt.asUintN(64, state + 0x9e3779b97f4a7c15n);
      let value = state;
      value = BigInt.asUintN(64, (value ^ (value >> 30n)) * 0xbf58476d1ce4e5b9n);
      value = BigInt.asUintN(64, (value ^ (value >> 27n)) * 0x94d049bb133111ebn);
      return value ^ (value >> 31n);
    };
    const s0 = splitmix64();
    const s1 = splitmix64();
    this.s0hi = Number(s0 >> 32n);
    this.s0lo = Number(s0 & 0xffffffffn);
    this.s1hi = Number(s1 >> 32n);
    this.s1lo = Number(s1 & 0xffffffffn);
  }

  /** The next random(): a double in [0, 1) with 52 random bits (pg_prng_double). */
  next(): number {
    const { s0hi, s0lo } = this;
    // val = rotl(s0 * 5, 7) * 9
    let [hi, lo] = times(s0hi, s0lo, 5);
    [hi, lo] = rotl(hi, lo, 7);
    [hi, lo] = times(hi, lo, 9);
    // sp1 = s1 ^ s0; s0 = rotl(s0, 24) ^ sp1 ^ (sp1 << 16); s1 = rotl(sp1, 37)
    const sp1hi = (this.s1hi ^ s0hi) >>> 0;
    const sp1lo = (this.s1lo ^ s0lo) >>> 0;
    const [r24hi, r24lo] = rotl(s0hi, s0lo, 24);
    this.s0hi = (r24hi ^ sp1hi ^ ((sp1hi << 16) | (sp1lo >>> 16))) >>> 0;
    this.s0lo = (r24lo ^ sp1lo ^ (sp1lo << 16)) >>> 0;
    // rotl by 37: swap the halves (32), then rotate by 5.
    [this.s1hi, this.s1lo] = rotl(sp1lo, sp1hi, 5);
    // (double) (val >> 12) * 2^-52
    return (hi * 2 ** 20 + (lo >>> 12)) * 2 ** -52;
  }
}

/** (hi:lo * small) mod 2^64, for the small constants xoroshiro128** multiplies by. */
function times(hi: number, lo: number, factor: number): [number, number] {
  const low = lo * factor;
  const carry = Math.floor(low / 2 ** 32);
  return [(hi * factor + carry) >>> 0, low >>> 0];
}

/** Rotate a 64-bit hi:lo left by 0 < bits < 32. */
function rotl(hi: number, lo: number, bits: number): [number, number] {
  return [((hi << bits) | (lo >>> (32 - bits))) >>> 0, ((lo << bits) | (hi >>> (32 - bits))) >>> 0];
}
