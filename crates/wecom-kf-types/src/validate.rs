//! Validation against the documented limits, shared by the client (before sending) and
//! the emulator (to reject with the errcode the real service uses).

use std::fmt;

use crate::ErrCode;

/// What a field must satisfy.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Limit {
    /// Present and non-empty.
    Required,
    /// Between `min` and `max` Unicode characters (inclusive).
    Chars {
        /// Fewest characters.
        min: usize,
        /// Most characters.
        max: usize,
    },
    /// Between `min` and `max` bytes of UTF-8 (inclusive).
    Bytes {
        /// Fewest bytes.
        min: u64,
        /// Most bytes.
        max: u64,
    },
    /// A number between `min` and `max` (inclusive).
    Range {
        /// Smallest value.
        min: u64,
        /// Largest value.
        max: u64,
    },
    /// Only characters matching this pattern.
    Pattern(&'static str),
    /// One of these formats (as detected from the content).
    Format(&'static str),
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Required => f.write_str("is required and must not be empty"),
            Limit::Chars { min, max } => write!(f, "must be {min} to {max} characters"),
            Limit::Bytes { min, max } => write!(f, "must be {min} to {max} bytes"),
            Limit::Range { min, max } => write!(f, "must be between {min} and {max}"),
            Limit::Pattern(p) => write!(f, "must match {p}"),
            Limit::Format(formats) => write!(f, "must be {formats}"),
        }
    }
}

/// A value that breaks a documented limit: names the field, the limit and what was given.
///
/// `errcode` is what the real service answers for the same mistake, so the emulator
/// rejects with it and the client can explain it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid `{field}`: {limit}; got {given}")]
pub struct Invalid {
    /// The field, as named on the wire (e.g. `name`, `media_id`).
    pub field: &'static str,
    /// The rule it breaks.
    pub limit: Limit,
    /// What was given, e.g. `17 characters ("…")`.
    pub given: String,
    /// What the real service answers for this mistake.
    pub errcode: ErrCode,
}

/// Validation result.
pub type Validated = Result<(), Invalid>;

/// A short, quoted preview of a value for error messages (never used for secrets).
fn preview(value: &str) -> String {
    const MAX: usize = 24;
    if value.chars().count() <= MAX {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(MAX).collect();
        format!("{head:?}…")
    }
}

/// `value` must be `min..=max` characters.
pub fn chars(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
    errcode: ErrCode,
) -> Validated {
    let n = value.chars().count();
    if n < min || n > max {
        return Err(Invalid {
            field,
            limit: if min > 0 && n == 0 {
                Limit::Required
            } else {
                Limit::Chars { min, max }
            },
            given: format!("{n} characters ({})", preview(value)),
            errcode,
        });
    }
    Ok(())
}

/// `value` must be present (non-empty) and at most `max` bytes.
pub fn required_bytes(
    field: &'static str,
    value: &str,
    max: usize,
    missing: ErrCode,
    too_long: ErrCode,
) -> Validated {
    if value.is_empty() {
        return Err(Invalid {
            field,
            limit: Limit::Required,
            given: "an empty value".into(),
            errcode: missing,
        });
    }
    max_bytes(field, value, max, too_long)
}

/// `value` must be at most `max` bytes.
pub fn max_bytes(field: &'static str, value: &str, max: usize, errcode: ErrCode) -> Validated {
    if value.len() > max {
        return Err(Invalid {
            field,
            limit: Limit::Bytes {
                min: 0,
                max: max as u64,
            },
            given: format!("{} bytes ({})", value.len(), preview(value)),
            errcode,
        });
    }
    Ok(())
}

/// `value` must be in `min..=max`.
pub fn range(field: &'static str, value: u64, min: u64, max: u64, errcode: ErrCode) -> Validated {
    if value < min || value > max {
        return Err(Invalid {
            field,
            limit: Limit::Range { min, max },
            given: value.to_string(),
            errcode,
        });
    }
    Ok(())
}

/// Every character of `value` must satisfy `allowed`, described by `pattern`.
pub fn charset(
    field: &'static str,
    value: &str,
    pattern: &'static str,
    allowed: impl Fn(char) -> bool,
    errcode: ErrCode,
) -> Validated {
    if let Some(bad) = value.chars().find(|c| !allowed(*c)) {
        return Err(Invalid {
            field,
            limit: Limit::Pattern(pattern),
            given: format!("{} (contains {bad:?})", preview(value)),
            errcode,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chars_counts_characters_not_bytes() {
        let sixteen = "客".repeat(16);
        assert!(chars("name", &sixteen, 1, 16, ErrCode(95006)).is_ok());
        let err = chars("name", &"客".repeat(17), 1, 16, ErrCode(95006)).unwrap_err();
        assert_eq!(err.field, "name");
        assert_eq!(err.limit, Limit::Chars { min: 1, max: 16 });
        assert!(
            err.to_string()
                .starts_with("invalid `name`: must be 1 to 16 characters; got 17 characters"),
            "{err}"
        );
        assert_eq!(
            chars("name", "", 1, 16, ErrCode(95006)).unwrap_err().limit,
            Limit::Required
        );
    }

    #[test]
    fn bytes_counts_bytes() {
        assert!(max_bytes("media_id", &"a".repeat(128), 128, ErrCode(40058)).is_ok());
        let err = max_bytes("media_id", &"é".repeat(65), 128, ErrCode(40058)).unwrap_err();
        assert!(err.given.starts_with("130 bytes"), "{}", err.given);
    }
}
