//! SplitMix64 (Steele, Lea and Flood 2014): a 64-bit finaliser that turns
//! nearby integers into well-separated, statistically independent-looking
//! seeds, and the stream generator built on it.

/// The increment of the SplitMix64 stream, `2^64 / φ` rounded to odd.
pub const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The SplitMix64 finaliser of `z` (the output function applied to the
/// stream's state after each increment).
///
/// ```
/// // the first output of the stream started at state 0
/// assert_eq!(fanaroff_core::mix64(fanaroff_core::GOLDEN_GAMMA), 0xE220_A839_7B1D_CDAF);
/// ```
#[must_use]
pub const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The SplitMix64 generator: the state advances by [`GOLDEN_GAMMA`] and
/// each output is [`mix64`] of the new state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator started at `state`.
    #[must_use]
    pub const fn new(state: u64) -> Self {
        SplitMix64 { state }
    }

    /// The next output.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN_GAMMA);
        mix64(self.state)
    }
}

impl Iterator for SplitMix64 {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        Some(self.next_u64())
    }
}
