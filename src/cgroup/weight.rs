//! `--cpu-shares` (v1 `cpu.shares`, 2..262144) to v2 `cpu.weight` (1..10000) by the
//! log-quadratic conversion crun, runc and youki use today:
//!
//! ```text
//! l = log2(shares);  exponent = (l² + 125·l) / 612 − 7/34;  weight = ⌈10^exponent⌉
//! ```
//!
//! which maps 2→1, 1024→100 (the two defaults) and 262144→10000, where the old linear
//! formula turned the default 1024 into 39. tinyctr is `no_std` without libm, so this is
//! done in fixed point: the weight is the least `w` with `log2(w) ≥ exponent·log2(10)`,
//! found by binary search with an integer log2. The unit test checks every input against
//! the floating-point formula.

/// Fractional bits of the fixed-point logarithms.
const F: u32 = 48;
const ONE: i128 = 1 << F;
/// log2(10) in Q48 (3.32192809488736234787...).
const LOG2_10: i128 = 935_039_633_142_894; // round(log2(10) * 2^48)
/// Allowed rounding error, about 2^-36: far above the error of `log2_q` and far below
/// the distance between `exponent·log2(10)` and the log2 of any integer weight,
/// except where they are equal (shares 2, 1024, 262144), which must map to that
/// integer exactly.
const EPS: i128 = 1 << (F - 36);

/// log2(x) in Q48 for x ≥ 1, bit by bit: normalise x to [1, 2), then each squaring
/// of the mantissa yields the next fractional bit.
fn log2_q(x: u64) -> i128 {
    let int = 63 - x.leading_zeros();
    // Mantissa in Q48, in [1, 2).
    let mut m: u128 = ((x as u128) << F) >> int;
    let mut frac: i128 = 0;
    for i in 1..=F {
        m = (m * m) >> F;
        if m >= 2 << F {
            m >>= 1;
            frac |= 1 << (F - i);
        }
    }
    ((int as i128) << F) + frac
}

/// The v2 `cpu.weight` for v1 `cpu.shares`.
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares <= 2 {
        return 1;
    }
    if shares >= 262_144 {
        return 10_000;
    }
    let l = log2_q(shares);
    // exponent·612 = l² + 125·l − 126, in Q48; target = exponent·log2(10).
    // Below 2^60: the division by 612 fits in 64 bits (no 128-bit division routine).
    let e612 = (((l * l) >> F) + 125 * l - 126 * ONE) as i64;
    let target = ((e612 / 612) as i128 * LOG2_10) >> F;
    // Least w in [1, 10000] with log2(w) >= target (minus the rounding allowance).
    let (mut lo, mut hi) = (1u64, 10_000u64);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if log2_q(mid) >= target - EPS {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(shares: u64) -> u64 {
        if shares <= 2 {
            return 1;
        }
        if shares >= 262_144 {
            return 10_000;
        }
        let l = (shares as f64).log2();
        let exponent = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
        10f64.powf(exponent).ceil() as u64
    }

    #[test]
    fn known_points() {
        for (s, w) in [(2, 1), (3, 2), (512, 59), (1024, 100), (2048, 174), (262_144, 10_000), (100_000, 4_340)] {
            assert_eq!(shares_to_weight(s), w, "shares {s}");
        }
    }

    #[test]
    fn log2_is_precise() {
        for x in [1u64, 2, 3, 10, 100, 1000, 1024, 262_143, 10_000] {
            let err = (log2_q(x) as f64 / ONE as f64 - (x as f64).log2()).abs();
            assert!(err < 1e-12, "log2({x}) off by {err}");
        }
        assert!((LOG2_10 as f64 / ONE as f64 - 10f64.log2()).abs() < 1e-14);
    }

    /// Every valid input agrees with the floating-point formula (the formula rounds
    /// 1024 to exactly 100 there too), and the mapping never decreases.
    #[test]
    fn matches_float_formula_and_is_monotonic() {
        let mut last = 0;
        for s in 2..=262_144u64 {
            let w = shares_to_weight(s);
            let f = float(s);
            // The floating formula itself lands a hair above an integer at 1024
            // (pow gives 100.00000000000001 on some libms): accept only that point.
            assert!(w == f || (s == 1024 && w == 100), "shares {s}: fixed {w}, float {f}");
            assert!(w >= last, "not monotonic at {s}");
            last = w;
        }
    }
}
