//! The ids a service's state remembers by the dozen (event ids for dedup, the ids of
//! forgotten tasks), held without a heap allocation when they have the shapes ECS and
//! EventBridge give them: a replay of a busy account holds thousands of services, and
//! a 36-character id as a `String` costs 24 bytes plus a 48-byte allocation, where
//! these 16 bytes suffice. They are written back exactly as they were read, so the
//! stored item's format does not change.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::DeploymentId;

/// An id as read, compacted when it has a known shape.
/// Ordered as their text is when they have the same shape (packed hex digits
/// compare as the digits do), which is all a service's ids ever have.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Id {
    /// A lowercase UUID, 8-4-4-4-12 hex digits (EventBridge event ids).
    Uuid([u8; 16]),
    /// 32 lowercase hex digits (ECS task ids).
    Hex([u8; 16]),
    /// Anything else, as written.
    Text(Box<str>),
}

/// The positions of the dashes of a UUID.
const DASHES: [usize; 4] = [8, 13, 18, 23];

impl Id {
    /// The id `s`, in its compact form when it has one.
    pub(crate) fn new(s: &str) -> Self {
        let b = s.as_bytes();
        match b.len() {
            36 if DASHES.iter().all(|&i| b[i] == b'-') => {
                let digits = b.iter().enumerate().filter(|(i, _)| !DASHES.contains(i));
                packed(digits.map(|(_, d)| *d)).map_or_else(|| Self::text(s), Self::Uuid)
            }
            32 => packed(b.iter().copied()).map_or_else(|| Self::text(s), Self::Hex),
            _ => Self::text(s),
        }
    }

    fn text(s: &str) -> Self {
        Self::Text(s.into())
    }
}

/// 32 lowercase hex digits as 16 bytes; `None` for anything else.
fn packed(mut digits: impl Iterator<Item = u8>) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    for byte in &mut out {
        let hi = nibble(digits.next()?)?;
        let lo = nibble(digits.next()?)?;
        *byte = hi << 4 | lo;
    }
    digits.next().is_none().then_some(out)
}

/// A lowercase hex digit's value. Uppercase digits are not compacted: the id must
/// read back as it was written.
const fn nibble(d: u8) -> Option<u8> {
    match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        _ => None,
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (bytes, dashes): (&[u8; 16], &[usize]) = match self {
            Self::Text(t) => return f.write_str(t),
            Self::Uuid(b) => (b, &DASHES),
            Self::Hex(b) => (b, &[]),
        };
        let mut out = [0u8; 36];
        let mut n = 0;
        for byte in bytes {
            for d in [byte >> 4, byte & 0xf] {
                if dashes.contains(&n) {
                    out[n] = b'-';
                    n += 1;
                }
                out[n] = HEX[usize::from(d)];
                n += 1;
            }
        }
        // Only ASCII was written.
        f.write_str(std::str::from_utf8(&out[..n]).map_err(|_| fmt::Error)?)
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(Self::new(&s))
    }
}

/// The deployment that started a task, as a task record holds it: ECS's
/// `ecs-svc/<digits>` as its number (a record per task, a hundred thousand tasks in a
/// busy account's replay), anything else as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TaskDeployment {
    /// `ecs-svc/` and these digits, without a leading zero.
    EcsSvc(u64),
    /// Anything else, as written.
    Text(Box<str>),
}

const ECS_SVC: &str = "ecs-svc/";

impl TaskDeployment {
    pub(crate) fn new(d: &DeploymentId) -> Self {
        let s = d.as_str();
        let digits = s.strip_prefix(ECS_SVC).filter(|n| {
            n.bytes().all(|b| b.is_ascii_digit()) && (n == &"0" || !n.starts_with('0'))
        });
        match digits.and_then(|n| n.parse().ok()) {
            Some(n) => Self::EcsSvc(n),
            None => Self::Text(s.into()),
        }
    }

    /// The deployment id again, exactly as it was given.
    pub(crate) fn id(&self) -> Option<DeploymentId> {
        DeploymentId::parse(&self.to_string())
    }
}

impl fmt::Display for TaskDeployment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EcsSvc(n) => write!(f, "{ECS_SVC}{n}"),
            Self::Text(t) => f.write_str(t),
        }
    }
}

impl Serialize for TaskDeployment {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TaskDeployment {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Self::new(&DeploymentId::deserialize(d)?))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_back_as_written_whatever_their_shape() {
        for s in [
            "26622127-fa62-5e58-e996-9955fb9638f9",
            "0b3a6960223e3c7b3b094333b949d305",
            "26622127-FA62-5e58-e996-9955fb9638f9",
            "0B3A6960223E3C7B3B094333B949D305",
            "26622127-fa62-5e58-e996-9955fb9638f",
            "26622127xfa62-5e58-e996-9955fb9638f9",
            "0b3a6960223e3c7b3b094333b949d30g",
            "e1",
            "",
            "observed-by-describe-services",
        ] {
            let id = Id::new(s);
            assert_eq!(id.to_string(), s);
            assert_eq!(Id::new(&id.to_string()), id, "{s}");
            let json = serde_json::to_string(&id).unwrap();
            assert_eq!(json, serde_json::to_string(s).unwrap());
            assert_eq!(serde_json::from_str::<Id>(&json).unwrap(), id);
        }
    }

    #[test]
    fn the_usual_shapes_take_no_allocation() {
        assert!(matches!(
            Id::new("26622127-fa62-5e58-e996-9955fb9638f9"),
            Id::Uuid(_)
        ));
        assert!(matches!(
            Id::new("0b3a6960223e3c7b3b094333b949d305"),
            Id::Hex(_)
        ));
        assert!(matches!(
            Id::new("26622127-FA62-5e58-e996-9955fb9638f9"),
            Id::Text(_)
        ));
        assert_eq!(size_of::<Id>(), 24);
    }

    #[test]
    fn task_deployments_read_back_as_written() {
        for s in [
            "ecs-svc/1741588629720614956",
            "ecs-svc/0",
            "ecs-svc/0123",
            "ecs-svc/99999999999999999999999",
            "ecs-svc/",
            "ecs-svc/12a",
            "external-1",
        ] {
            let d = TaskDeployment::new(&DeploymentId::parse(s).unwrap());
            assert_eq!(d.id().unwrap().as_str(), s);
            let json = serde_json::to_string(&d).unwrap();
            assert_eq!(json, serde_json::to_string(s).unwrap());
            assert_eq!(serde_json::from_str::<TaskDeployment>(&json).unwrap(), d);
        }
        let ecs = DeploymentId::parse("ecs-svc/1741588629720614956").unwrap();
        assert!(matches!(
            TaskDeployment::new(&ecs),
            TaskDeployment::EcsSvc(_)
        ));
    }

    #[test]
    fn ids_differ_as_their_text_does() {
        let a = Id::new("26622127-fa62-5e58-e996-9955fb9638f9");
        for other in [
            "26622127-fa62-5e58-e996-9955fb9638f8",
            "26622127-FA62-5e58-e996-9955fb9638f9",
            "26622127fa625e58e9969955fb9638f9",
        ] {
            assert_ne!(a, Id::new(other), "{other}");
        }
    }
}
