//! Deriving seeds: every random stream of a run, and every seed a run of many runs hands out,
//! comes from one parent seed through [`derive`], so a stream never depends on the host and
//! adding a stream does not move the others (turmoil and madsim derive child RNGs the same
//! way).
//!
//! Owns only the arithmetic: which streams exist, and what they are numbered, is up to whoever
//! draws from them.

/// The odd multiplier that spreads stream numbers over all 64 bits (2^64 divided by the
/// golden ratio, as in splitmix64 and Fibonacci hashing).
const SPREAD: u64 = 0x9e37_79b9_7f4a_7c15;

/// The stream the kernel draws its random numbers from: stream 0, whose seed is the run's own.
pub const KERNEL_STREAM: u64 = 0;

/// The seed of stream number `stream` of `parent`. Stream 0 is `parent` itself; each other
/// stream number gives a different seed, since multiplying by an odd number is a bijection.
#[must_use]
pub const fn derive(parent: u64, stream: u64) -> u64 {
    parent ^ stream.wrapping_mul(SPREAD)
}

/// The stream number whose seeds are `parent ^ mask`: for streams that were once named by a
/// mask of their own (the fault campaign's is the ASCII of "faults") and must keep the seeds
/// they had.
#[must_use]
pub const fn stream_with_mask(mask: u64) -> u64 {
    mask.wrapping_mul(inverse(SPREAD))
}

/// The inverse of an odd number modulo 2^64, by Newton's iteration: each step doubles the
/// correct low bits, from 3 (an odd number is its own inverse modulo 8) to more than 64.
const fn inverse(odd: u64) -> u64 {
    let mut inverse = odd;
    let mut step = 0;
    while step < 5 {
        inverse = inverse.wrapping_mul(2u64.wrapping_sub(odd.wrapping_mul(inverse)));
        step += 1;
    }
    inverse
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_zero_is_the_parent_and_other_streams_spread_it() {
        assert_eq!(derive(42, KERNEL_STREAM), 42);
        assert_eq!(derive(42, 1), 42 ^ 0x9e37_79b9_7f4a_7c15);
        assert_ne!(derive(42, 1), derive(42, 2));
    }

    #[test]
    fn a_stream_named_by_a_mask_gives_the_parent_xor_the_mask() {
        assert_eq!(SPREAD.wrapping_mul(inverse(SPREAD)), 1);
        let mask = 0x6661_756c_7473;
        for parent in [0, 1, 7, u64::MAX, 0x1234_5678_9abc_def0] {
            assert_eq!(derive(parent, stream_with_mask(mask)), parent ^ mask);
        }
    }
}
