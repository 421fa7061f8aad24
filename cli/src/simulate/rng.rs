//! Deterministic randomness: SplitMix64, seeded from `Params::seed`.
//!
//! Why not `fastrand`: its output is an implementation detail that may change between
//! releases, and simulated streams end up in golden files and bug reports. SplitMix64 is
//! ten lines, has no state beyond a `u64`, and will print the same stream forever.
//! Independent streams are used for deployment ids, other identities (task, ENI ids)
//! and timing, so that ids do not shift when a timing rule or the desired count changes.

/// Salt that separates the identity stream from the timing stream of the same seed.
const IDENTITY_SALT: u64 = 0x1D5E_ED5A_17ED_0001;
/// Salt of the deployment-id stream: D0, D1, D2 keep their ids when other params change.
const DEPLOYMENT_SALT: u64 = 0xDE91_0E11_5EED_0003;
/// Salt of the ECS-native stream (service-deployment and hook ids, sub-millisecond
/// digits): rolling scenarios never draw from it.
const HOOK_SALT: u64 = 0x400C_5EED_0000_0004;
/// Salt for event ids, which are a pure function of (seed, counter).
const EVENT_SALT: u64 = 0x0E7E_A7B1_D5A1_7002;

/// A SplitMix64 generator.
#[derive(Debug, Clone)]
pub(super) struct Rng(u64);

impl Rng {
    /// The timing stream of `seed`.
    pub(super) fn timing(seed: u64) -> Self {
        Self(seed)
    }

    /// The identity stream of `seed` (tasks, ENIs, subnets, image digests).
    pub(super) fn identity(seed: u64) -> Self {
        Self(seed ^ IDENTITY_SALT)
    }

    /// The deployment-id stream of `seed`.
    pub(super) fn deployments(seed: u64) -> Self {
        Self(seed ^ DEPLOYMENT_SALT)
    }

    /// The ECS-native stream of `seed` (service-deployment and hook ids).
    pub(super) fn hooks(seed: u64) -> Self {
        Self(seed ^ HOOK_SALT)
    }

    /// `len` characters of the url-safe base64 alphabet (hook ids).
    pub(super) fn base64url(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        self.pick(ALPHABET, len)
    }

    /// `len` letters and digits (the opaque service-deployment id).
    pub(super) fn alphanumeric(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        self.pick(ALPHABET, len)
    }

    fn pick(&mut self, alphabet: &[u8], len: usize) -> String {
        let n = alphabet.len() as u64;
        (0..len)
            .map(|_| char::from(alphabet[(self.next_u64() % n) as usize]))
            .collect()
    }

    /// The next 64 random bits.
    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// A value in `lo..=hi` (the modulo bias is irrelevant at these spans).
    pub(super) fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// A duration in milliseconds, drawn from `lo_s..=hi_s` seconds.
    pub(super) fn secs(&mut self, lo_s: u64, hi_s: u64) -> u64 {
        self.between(lo_s * 1_000, hi_s * 1_000)
    }

    /// `true` with probability one half.
    pub(super) fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }

    /// `len` lowercase hex digits.
    pub(super) fn hex(&mut self, len: usize) -> String {
        let mut out = String::with_capacity(len + 16);
        while out.len() < len {
            out.push_str(&format!("{:016x}", self.next_u64()));
        }
        out.truncate(len);
        out
    }

    /// A UUID-shaped string (8-4-4-4-12 hex digits).
    pub(super) fn uuid(&mut self) -> String {
        uuid_from(self.next_u64(), self.next_u64())
    }

    /// An ECS deployment id: `ecs-svc/` and 19 digits, as in real events.
    pub(super) fn deployment_id(&mut self) -> String {
        format!(
            "ecs-svc/{}",
            self.between(1_000_000_000_000_000_000, 9_999_999_999_999_999_999)
        )
    }
}

/// The event id for the `counter`-th event of the stream of `seed`.
pub(super) fn event_id(seed: u64, counter: u64) -> String {
    let a = mix(seed ^ EVENT_SALT ^ counter.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    uuid_from(a, mix(a ^ counter))
}

fn uuid_from(hi: u64, lo: u64) -> String {
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

/// The SplitMix64 finalizer.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_shapes_ecs_uses() {
        let mut rng = Rng::identity(7);
        let id = rng.deployment_id();
        let digits = id.strip_prefix("ecs-svc/").unwrap_or_default();
        assert_eq!(digits.len(), 19, "{id}");
        assert!(digits.bytes().all(|b| b.is_ascii_digit()));
        assert_eq!(rng.hex(32).len(), 32);
        let uuid = event_id(7, 0);
        let groups: Vec<usize> = uuid.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert_ne!(event_id(7, 0), event_id(7, 1));
        assert_ne!(event_id(7, 0), event_id(8, 0));
    }

    #[test]
    fn between_stays_in_bounds() {
        let mut rng = Rng::timing(1);
        for _ in 0..1000 {
            let v = rng.between(3, 5);
            assert!((3..=5).contains(&v));
        }
    }
}
