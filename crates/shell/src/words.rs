//! Words and flags, as zkCli reads them.
//!
//! A line splits into words with zkCli's own pattern (a word is a run of
//! non-blanks, or a `"…"` / `'…'` string whose quotes are removed), and a
//! command's words go through the rules of Apache Commons CLI's
//! `DefaultParser`, which every zkCli command uses: flags may come before,
//! between or after the arguments; `-se` is `-s -e`; `-t10` and `-t 10` give
//! `-t` the value `10`; a value may be a negative number; `--` ends the
//! flags; an unknown flag fails with `Unrecognized option: -x` and a flag
//! whose value is missing with `Missing argument for option: t`.
//! ferrozk's own long flags (`--json`, `--raw`, …) are declared per command.

use std::sync::OnceLock;

use regex::Regex;

/// zkCli's `MyCommandOptions.ARGS_PATTERN`.
fn args_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r#"\s*([^"']\S*|"[^"]*"|'[^']*')\s*"#).expect("valid pattern"))
}

/// Splits a command line into words as zkCli does.
pub fn split_line(line: &str) -> Vec<String> {
    args_pattern()
        .captures_iter(line)
        .filter_map(|c| {
            // The pattern can start a word with a blank (`  "x` gives
            // ` "x`, a blank line gives ` `); zkCli then fails with
            // `Command not found`, we drop the blanks.
            let w = c[1].trim_start();
            if w.is_empty() {
                return None;
            }
            let b = w.as_bytes();
            if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
                Some(w[1..w.len() - 1].to_string())
            } else {
                Some(w.to_string())
            }
        })
        .collect()
}

/// The flags a command takes.
#[derive(Debug, Clone, Copy)]
pub struct FlagSpec {
    /// Short flags without a value, e.g. `"swR"`.
    pub plain: &'static str,
    /// Short flags that take a value, e.g. `"v"`.
    pub valued: &'static str,
    /// Single-dash flags with a name of several letters, all taking a
    /// value (reconfig's `-members`, `-add`, `-remove`, `-file`).
    pub named: &'static [&'static str],
    /// ferrozk's long flags: name and whether it takes a value.
    pub long: &'static [(&'static str, bool)],
}

impl FlagSpec {
    /// A command without flags.
    pub const NONE: FlagSpec = FlagSpec {
        plain: "",
        valued: "",
        named: &[],
        long: &[],
    };

    fn short(&self, c: char) -> Option<bool> {
        if self.valued.contains(c) {
            Some(true)
        } else if self.plain.contains(c) {
            Some(false)
        } else {
            None
        }
    }

    fn long_flag(&self, name: &str) -> Option<bool> {
        if name == "json" {
            return Some(false);
        }
        self.long.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

/// A flag as given: its name (one letter, or a long name) and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    /// `"s"` for `-s`, `"json"` for `--json`.
    pub name: String,
    /// The value, for flags that take one.
    pub value: Option<String>,
}

/// A command's words after flag parsing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The flags, in order.
    pub flags: Vec<Flag>,
    /// The other words, the command name first (as zkCli's `getArgs()`).
    pub args: Vec<String>,
}

impl Parsed {
    /// Whether flag `name` was given.
    pub fn has(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f.name == name)
    }

    /// The value of the first `name` flag.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.flags
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.value.as_deref())
    }

    /// Argument `i` (0 is the command name).
    pub fn arg(&self, i: usize) -> Option<&str> {
        self.args.get(i).map(String::as_str)
    }
}

/// Why flag parsing failed; the text is Commons CLI's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    /// A flag the command does not have.
    #[error("Unrecognized option: {0}")]
    Unrecognized(String),
    /// A flag that takes a value had none.
    #[error("Missing argument for option: {0}")]
    MissingValue(String),
}

fn is_negative_number(s: &str) -> bool {
    s.starts_with('-') && s[1..].parse::<f64>().is_ok()
}

/// Parses `words` (the command name first) by `spec`.
pub fn parse_flags(spec: &FlagSpec, words: &[String]) -> Result<Parsed, FlagError> {
    let mut p = Parsed::default();
    // The flag waiting for its value.
    let mut pending: Option<usize> = None;
    let mut only_args = false;
    let is_flag = |t: &str| -> bool {
        if let Some(l) = t.strip_prefix("--") {
            spec.long_flag(l.split('=').next().unwrap_or("")).is_some()
        } else if let Some(s) = t.strip_prefix('-') {
            spec.named.contains(&s) || s.chars().next().is_some_and(|c| spec.short(c).is_some())
        } else {
            false
        }
    };
    let take = |p: &mut Parsed, pending: &mut Option<usize>, name: String, valued: bool| {
        p.flags.push(Flag { name, value: None });
        *pending = valued.then_some(p.flags.len() - 1);
    };
    for (i, t) in words.iter().enumerate() {
        if i == 0 || only_args {
            p.args.push(t.clone());
            continue;
        }
        if let Some(at) = pending {
            if !is_flag(t) || is_negative_number(t) {
                p.flags[at].value = Some(t.clone());
                pending = None;
                continue;
            }
            return Err(FlagError::MissingValue(p.flags[at].name.clone()));
        }
        if t == "--" {
            only_args = true;
        } else if t == "-" || !t.starts_with('-') {
            p.args.push(t.clone());
        } else if let Some(long) = t.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            match spec.long_flag(name) {
                Some(valued) => {
                    take(&mut p, &mut pending, name.to_string(), valued);
                    if let (Some(v), Some(at)) = (value, pending) {
                        p.flags[at].value = Some(v);
                        pending = None;
                    }
                }
                None => return Err(FlagError::Unrecognized(t.clone())),
            }
        } else if spec.named.contains(&&t[1..]) {
            take(&mut p, &mut pending, t[1..].to_string(), true);
        } else {
            let body = &t[1..];
            if let Some((name, v)) = body.split_once('=') {
                let mut cs = name.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) if spec.short(c).is_some() => {
                        p.flags.push(Flag {
                            name: c.to_string(),
                            value: Some(v.to_string()),
                        });
                        continue;
                    }
                    _ => return Err(FlagError::Unrecognized(t.clone())),
                }
            }
            // Bursting: -se is -s -e; -t10 is -t with 10.
            for (k, c) in body.char_indices() {
                match spec.short(c) {
                    Some(valued) => {
                        take(&mut p, &mut pending, c.to_string(), valued);
                        let rest = &body[k + c.len_utf8()..];
                        if let (Some(at), false) = (pending, rest.is_empty()) {
                            p.flags[at].value = Some(rest.to_string());
                            pending = None;
                            break;
                        }
                        if pending.is_some() {
                            break;
                        }
                    }
                    None => return Err(FlagError::Unrecognized(t.clone())),
                }
            }
        }
    }
    if let Some(at) = pending {
        return Err(FlagError::MissingValue(p.flags[at].name.clone()));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Vec<String> {
        split_line(s)
    }

    const CREATE: FlagSpec = FlagSpec {
        plain: "sec",
        valued: "t",
        named: &[],
        long: &[],
    };

    #[test]
    fn words_and_quotes() {
        assert_eq!(w("  create /a  hello  "), ["create", "/a", "hello"]);
        assert_eq!(w(r#"set /a "hello world""#), ["set", "/a", "hello world"]);
        assert_eq!(w("set /a '{\"k\": 1}'"), ["set", "/a", "{\"k\": 1}"]);
        assert_eq!(
            w(r#"set /a "x"#),
            ["set", "/a", "x"],
            "an unclosed quote is dropped"
        );
        assert_eq!(w(r#"set /a a"b"#), ["set", "/a", "a\"b"]);
        assert!(w("   ").is_empty());
    }

    #[test]
    fn commons_cli_rules() {
        let p = parse_flags(&CREATE, &w("create /a -se data")).unwrap();
        assert!(p.has("s") && p.has("e"));
        assert_eq!(p.args, ["create", "/a", "data"]);
        let p = parse_flags(&CREATE, &w("create -t10 /a")).unwrap();
        assert_eq!(p.value("t"), Some("10"));
        let p = parse_flags(&CREATE, &w("create -t -5 /a")).unwrap();
        assert_eq!(p.value("t"), Some("-5"));
        let p = parse_flags(&CREATE, &w("create -- /a -s")).unwrap();
        assert_eq!(p.args, ["create", "/a", "-s"]);
        assert_eq!(
            parse_flags(&CREATE, &w("create -x /a"))
                .unwrap_err()
                .to_string(),
            "Unrecognized option: -x"
        );
        assert_eq!(
            parse_flags(&CREATE, &w("create -sx /a"))
                .unwrap_err()
                .to_string(),
            "Unrecognized option: -sx"
        );
        assert_eq!(
            parse_flags(&CREATE, &w("create /a -t"))
                .unwrap_err()
                .to_string(),
            "Missing argument for option: t"
        );
        assert_eq!(
            parse_flags(&CREATE, &w("create -t -s /a"))
                .unwrap_err()
                .to_string(),
            "Missing argument for option: t"
        );
        assert_eq!(
            parse_flags(&CREATE, &w("create /a -1"))
                .unwrap_err()
                .to_string(),
            "Unrecognized option: -1"
        );
        assert!(parse_flags(&CREATE, &w("create --json /a"))
            .unwrap()
            .has("json"));
        const RECONFIG: FlagSpec = FlagSpec {
            plain: "s",
            valued: "v",
            named: &["members", "add"],
            long: &[],
        };
        let p = parse_flags(&RECONFIG, &w("reconfig -s -add server.4=h:1:2;3")).unwrap();
        assert_eq!(p.value("add"), Some("server.4=h:1:2;3"));
        assert_eq!(
            parse_flags(&CREATE, &w("create --raw /a"))
                .unwrap_err()
                .to_string(),
            "Unrecognized option: --raw"
        );
    }
}
