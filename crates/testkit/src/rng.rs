//! A deterministic pseudo-random generator. Tests want inputs that vary like
//! random ones but repeat exactly from a seed, so a failure can be replayed,
//! without pulling a `rand` dependency into every crate.

/// SplitMix64 (Steele, Lea and Flood): a 64-bit state advanced by a constant
/// and mixed. Any seed, zero included, gives a full-period sequence.
#[derive(Clone, Debug)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`0` when `n` is 0). The modulo bias is irrelevant
    /// for test inputs.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// An index into something of length `n`: a number in `0..n` (`0` when
    /// `n` is 0).
    pub fn index(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Fills `buf` with pseudo-random bytes.
    pub fn fill(&mut self, buf: &mut [u8]) {
        let mut chunks = buf.chunks_exact_mut(8);
        for chunk in &mut chunks {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        let rest = chunks.into_remainder();
        let last = self.next_u64().to_le_bytes();
        rest.copy_from_slice(&last[..rest.len()]);
    }

    /// `n` pseudo-random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = vec![0; n];
        self.fill(&mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_from_a_seed_and_stays_in_range() {
        let (mut a, mut b) = (Rng(7), Rng(7));
        assert_eq!(a.bytes(1001), b.bytes(1001));
        assert_ne!(Rng(1).next_u64(), Rng(2).next_u64());
        let mut r = Rng(0);
        assert!((0..1000).all(|_| r.below(10) < 10 && r.index(3) < 3));
        assert_eq!((r.below(0), r.index(0)), (0, 0));
        // The first output of the reference SplitMix64 for seed 0.
        assert_eq!(Rng(0).next_u64(), 0xE220_A839_7B1D_CDAF);
    }
}
