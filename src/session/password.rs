//! Session passwords, derived exactly as Apache ZooKeeper derives them.
//!
//! ZooKeeper does not store session passwords: `ZooKeeperServer.generatePasswd`
//! recomputes them from the session id as
//! `new java.util.Random(sessionId ^ 0xB3415C00L).nextBytes(byte[16])`, and a
//! reconnecting client must present the same 16 bytes. A client that moves
//! between an Apache ZooKeeper server and a ferrozk server (or a snapshot that
//! moves between them) only keeps working if we produce the same bytes, so
//! this module carries a bit-exact port of `java.util.Random`'s generator.

/// The constant ZooKeeper mixes into the seed (`ZooKeeperServer.superSecret`).
/// It is a positive Java long, so only the low 32 bits of the id change.
const SUPER_SECRET: u64 = 0xB341_5C00;

/// Length of a session password on the wire (`ConnectResponse.passwd`).
pub const PASSWORD_LEN: usize = 16;

/// The password of session `session_id`, as Apache ZooKeeper computes it.
///
/// Only the low 48 bits of the id reach `java.util.Random`'s state, so ids that
/// differ only in the high 16 bits share a password — ZooKeeper has the same
/// property, and the session id is checked separately anyway.
pub fn password(session_id: i64) -> [u8; PASSWORD_LEN] {
    let mut random = JavaRandom::new((session_id as u64 ^ SUPER_SECRET) as i64);
    let mut out = [0u8; PASSWORD_LEN];
    random.next_bytes(&mut out);
    out
}

/// A port of `java.util.Random`: a 48-bit linear congruential generator.
///
/// Only what the password derivation needs, plus `next_int` because
/// `next_bytes` is defined in terms of it. Not for anything security related —
/// neither is the original.
#[derive(Debug, Clone)]
pub struct JavaRandom {
    seed: u64,
}

impl JavaRandom {
    const MULTIPLIER: u64 = 0x5_DEEC_E66D;
    const ADDEND: u64 = 0xB;
    const MASK: u64 = (1 << 48) - 1;

    /// `new Random(seed)`: the seed is scrambled with the multiplier and
    /// truncated to 48 bits.
    pub fn new(seed: i64) -> Self {
        JavaRandom {
            seed: (seed as u64 ^ Self::MULTIPLIER) & Self::MASK,
        }
    }

    /// `Random.next(bits)`: advance the state and return its top `bits` bits
    /// (1 ≤ bits ≤ 32) as a Java `int`, i.e. sign-extended from bit 31.
    pub fn next(&mut self, bits: u32) -> i32 {
        debug_assert!((1..=32).contains(&bits), "next(bits) needs 1..=32 bits");
        self.seed = self
            .seed
            .wrapping_mul(Self::MULTIPLIER)
            .wrapping_add(Self::ADDEND)
            & Self::MASK;
        (self.seed >> (48 - bits)) as u32 as i32
    }

    /// `Random.nextInt()`: 32 uniformly distributed bits.
    pub fn next_int(&mut self) -> i32 {
        self.next(32)
    }

    /// `Random.nextBytes(bytes)`: each `nextInt()` yields four bytes, least
    /// significant first; a trailing partial int is used for its low bytes.
    pub fn next_bytes(&mut self, bytes: &mut [u8]) {
        for chunk in bytes.chunks_mut(4) {
            let word = self.next_int().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    // Expected values below were produced by running java.util.Random on
    // OpenJDK 17 (`new Random(42)`, and ZooKeeper's generatePasswd formula).

    #[test]
    fn next_int_matches_java() {
        let mut r = JavaRandom::new(42);
        assert_eq!(r.next_int(), -1170105035);
        assert_eq!(r.next_int(), 234785527);
        assert_eq!(r.next_int(), -1360544799);
    }

    #[test]
    fn next_bytes_uses_low_bytes_of_partial_int() {
        let mut r = JavaRandom::new(42);
        let mut b = [0u8; 7];
        r.next_bytes(&mut b);
        assert_eq!(hex(&b), "359d41baf78afe");
    }

    #[test]
    fn password_matches_zookeeper() {
        let cases: [(u64, &str); 5] = [
            (0, "f22acd4a97e69d6d20a49bb638eadb38"),
            (1, "054cc74a37327db215e702e20c73f005"),
            (0x0102_0304_0506_0708, "640c2dabe4411dbfaec94b38d0a26d4e"),
            (0x8123_4567_0000_0001, "054c60613732a2c715e7c3200c731d24"),
            (u64::MAX, "20f62cb5648dc2d771471c8a2486a9ee"),
        ];
        for (id, want) in cases {
            assert_eq!(hex(&password(id as i64)), want, "session 0x{id:x}");
        }
    }

    #[test]
    fn password_ignores_high_16_bits_like_java() {
        assert_eq!(password(0), password(0x0100_0000_0000_0000));
    }
}
