//! `4lw.commands.whitelist`: which four-letter-word commands a client may run.
//!
//! ZooKeeper (`FourLetterCommands.isEnabled`) splits the value on commas,
//! trims each name, treats `*` as "every known command", and then always adds
//! `srvr` (its own `zkServer.sh status` uses it) and, in read-only mode,
//! `isro`. Unset, only those are enabled.

use std::collections::BTreeSet;

/// Every four-letter word ZooKeeper 3.8 knows (`FourLetterCommands`'
/// table, without the telnet close sequence, which is no text). `icfg`
/// and `sysp` are AdminServer commands only in 3.8.
pub const KNOWN_COMMANDS: [&str; 18] = [
    "conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "hash", "isro", "mntr", "ruok", "srst",
    "srvr", "stat", "stmk", "wchc", "wchp", "wchs",
];

/// The set of enabled four-letter words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FourLetterWords {
    /// `*`: every known command.
    All,
    /// Exactly these.
    Only(BTreeSet<String>),
}

impl Default for FourLetterWords {
    /// ZooKeeper's default: `srvr` only.
    fn default() -> Self {
        FourLetterWords::Only(BTreeSet::from(["srvr".to_owned()]))
    }
}

impl FourLetterWords {
    /// Parse a whitelist value. Names that are not ZooKeeper commands are kept
    /// (ZooKeeper keeps them too) and returned separately so the caller can
    /// warn about them.
    pub fn parse(value: &str) -> (Self, Vec<String>) {
        let mut set = BTreeSet::new();
        let mut unknown = Vec::new();
        for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if name == "*" {
                return (FourLetterWords::All, Vec::new());
            }
            if !KNOWN_COMMANDS.contains(&name) {
                unknown.push(name.to_owned());
            }
            set.insert(name.to_owned());
        }
        (FourLetterWords::Only(set), unknown)
    }

    /// Enable one more command (a no-op for `All`).
    pub fn enable(&mut self, command: &str) {
        if let FourLetterWords::Only(set) = self {
            set.insert(command.to_owned());
        }
    }

    /// Whether `command` may run.
    pub fn allows(&self, command: &str) -> bool {
        match self {
            FourLetterWords::All => KNOWN_COMMANDS.contains(&command),
            FourLetterWords::Only(set) => set.contains(command),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_allows_only_srvr() {
        let w = FourLetterWords::default();
        assert!(w.allows("srvr"));
        assert!(!w.allows("ruok"));
    }

    #[test]
    fn list_is_comma_separated_and_trimmed() {
        let (w, unknown) = FourLetterWords::parse(" ruok , stat,,mntr ");
        assert!(unknown.is_empty());
        for c in ["ruok", "stat", "mntr"] {
            assert!(w.allows(c), "{c}");
        }
        assert!(!w.allows("dump"));
    }

    #[test]
    fn star_enables_every_known_command() {
        let (w, _) = FourLetterWords::parse("ruok, *");
        assert_eq!(w, FourLetterWords::All);
        assert!(w.allows("dump"));
        assert!(!w.allows("nope"));
    }

    #[test]
    fn star_is_found_among_other_names_and_hash_is_a_word() {
        let (w, _) = FourLetterWords::parse("bogus ,  * ");
        assert!(w.allows("hash") && w.allows("stmk"));
        assert!(!w.allows("icfg"), "not a 3.8 four-letter word");
    }

    #[test]
    fn unknown_names_are_reported() {
        let (_, unknown) = FourLetterWords::parse("ruok,bogus");
        assert_eq!(unknown, vec!["bogus".to_owned()]);
    }
}
