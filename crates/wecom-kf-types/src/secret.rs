//! A string that must never be printed: `corpsecret` and `access_token`.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A secret string (`corpsecret` or `access_token`).
///
/// `Debug` prints `<redacted>` and there is no `Display`, so it cannot reach a log line
/// or an error by accident. [`Secret::expose`] is the one way to read it, at the point
/// where it goes on the wire. Cloning is cheap.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret(Arc<str>);

impl Secret {
    /// Wrap a secret value.
    pub fn new(value: impl Into<Arc<str>>) -> Self {
        Secret(value.into())
    }

    /// The secret value, for putting on the wire. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A masked form for people: the first and last 3 characters of a long value, e.g.
    /// `abc…xyz (64 chars)`, or `*` for short ones.
    pub fn masked(&self) -> String {
        let n = self.0.chars().count();
        if n < 16 {
            return format!("*** ({n} chars)");
        }
        let head: String = self.0.chars().take(3).collect();
        let tail: String = self.0.chars().skip(n - 3).collect();
        format!("{head}…{tail} ({n} chars)")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret::new(value)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_masked_hides_the_middle() {
        let s = Secret::new("supersecretvalue-0123456789");
        assert_eq!(format!("{s:?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(&s)), "Some(<redacted>)");
        assert_eq!(s.masked(), "sup…789 (27 chars)");
        assert_eq!(Secret::new("short").masked(), "*** (5 chars)");
    }
}
