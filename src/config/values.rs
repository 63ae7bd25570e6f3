//! Parsers for single values, each returning an error that names the key,
//! the value and what was expected.

use super::error::ConfigError;

/// An unsigned integer of type `T` (`Integer.parseInt`, minus negatives,
/// which no ZooKeeper setting we honour gives a meaning to).
pub fn number<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, ConfigError> {
    let digits = value.strip_prefix('+').unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ConfigError::invalid(
            key,
            value,
            "a non-negative whole number",
        ));
    }
    digits
        .parse::<T>()
        .map_err(|_| ConfigError::invalid(key, value, "a smaller whole number (out of range)"))
}

/// A TCP port, 1–65535.
pub fn port(key: &str, value: &str) -> Result<u16, ConfigError> {
    match number::<u16>(key, value) {
        Ok(p) if p > 0 => Ok(p),
        _ => Err(ConfigError::invalid(
            key,
            value,
            "a port number from 1 to 65535",
        )),
    }
}

/// `true`/`false`, any case: `QuorumPeerConfig.parseBoolean`, which rejects
/// anything else rather than reading it as false.
pub fn boolean(key: &str, value: &str) -> Result<bool, ConfigError> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(ConfigError::invalid(key, value, "true or false"))
    }
}

/// `yes`/`no`, the spelling of ZooKeeper's `forceSync` and `skipACL`.
/// `true`/`false` are accepted too (TOML writes booleans that way); other
/// values are errors, where ZooKeeper would silently read them one way.
pub fn yes_no(key: &str, value: &str) -> Result<bool, ConfigError> {
    if value.eq_ignore_ascii_case("yes") || value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("no") || value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(ConfigError::invalid(key, value, "yes or no"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_accepts_digits_and_plus() {
        assert_eq!(number::<u32>("k", "2000").unwrap(), 2000);
        assert_eq!(number::<u32>("k", "+7").unwrap(), 7);
    }

    #[test]
    fn number_rejects_negative_and_junk_naming_key() {
        for bad in ["-1", "", "1.5", "0x10", "ten"] {
            let err = number::<u32>("tickTime", bad).unwrap_err();
            assert!(err.to_string().contains("tickTime"), "{err}");
        }
    }

    #[test]
    fn number_rejects_overflow() {
        assert!(number::<u32>("k", "4294967296").is_err());
    }

    #[test]
    fn port_rejects_zero_and_overflow() {
        assert_eq!(port("clientPort", "2181").unwrap(), 2181);
        assert!(port("clientPort", "0").is_err());
        assert!(port("clientPort", "65536").is_err());
    }

    #[test]
    fn boolean_is_case_insensitive_and_strict() {
        assert!(boolean("k", "TRUE").unwrap());
        assert!(!boolean("k", "False").unwrap());
        let err = boolean("syncEnabled", "yes").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid value \"yes\" for syncEnabled: expected true or false"
        );
    }

    #[test]
    fn yes_no_accepts_both_spellings() {
        assert!(yes_no("forceSync", "yes").unwrap());
        assert!(!yes_no("forceSync", "NO").unwrap());
        assert!(yes_no("forceSync", "true").unwrap());
        assert!(yes_no("forceSync", "maybe").is_err());
    }
}
