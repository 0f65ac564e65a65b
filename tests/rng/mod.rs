//! The fixed-seed generator the property tests (tests/props.rs, tests/oci_props.rs)
//! draw their inputs from.
#![allow(dead_code)]

/// xorshift64*: tiny, deterministic, good enough to spread inputs.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform-ish in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    /// `len` bytes: mostly from `alphabet`, sometimes any byte but NUL.
    pub fn bytes(&mut self, alphabet: &[u8], len: usize) -> Vec<u8> {
        (0..len).map(|_| if self.one_in(10) { 1 + self.below(255) as u8 } else { *self.pick(alphabet) }).collect()
    }
    /// A number with a spread of magnitudes, not only huge ones.
    pub fn magnitude(&mut self) -> u64 {
        let bits = self.below(65) as u32;
        if bits == 0 {
            0
        } else {
            self.next() >> (64 - bits)
        }
    }
}
