//! A reader for Java `.properties` text, the syntax of `zoo.cfg`.
//!
//! Apache ZooKeeper reads its config with `java.util.Properties.load`, so a
//! file means what that method says it means. The grammar, as implemented
//! here after the JDK's `Properties.LineReader` and `load0`:
//!
//! - A *natural line* ends at `\n`, `\r` or `\r\n`. Leading space, tab and
//!   form feed are skipped; a line of only whitespace is blank.
//! - A line whose first non-blank character is `#` or `!` is a comment.
//!   Comments do not continue onto the next line.
//! - A *logical line* continues onto the next natural line when it ends in
//!   an odd number of backslashes; the last backslash, the line break and the
//!   next line's leading whitespace are dropped.
//! - The key runs to the first unescaped `=`, `:`, space, tab or form feed.
//!   Whitespace after the key is skipped, then at most one `=` or `:`, then
//!   more whitespace; the rest of the line is the value (trailing whitespace
//!   included — ZooKeeper trims it later, and so do we, in `apply`).
//! - Escapes in keys and values: `\t \n \r \f`, `\uXXXX` (UTF-16 units, so
//!   surrogate pairs combine), and `\x` for any other `x` means `x`.
//! - A repeated key replaces the earlier value (it is a hash table).
//!
//! `Properties.load(InputStream)` decodes bytes as ISO-8859-1; we decode UTF-8
//! and fall back to ISO-8859-1 only when the bytes are not valid UTF-8, so
//! ASCII files (all real zoo.cfg files) read identically.

use super::error::ConfigError;

/// One `key=value` entry, with the natural line its logical line starts on
/// (1-based), for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The unescaped key.
    pub key: String,
    /// The unescaped value, leading whitespace removed.
    pub value: String,
    /// Line number of the start of the entry.
    pub line: usize,
}

/// Decode file bytes as Java would see them (see the module docs).
pub fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// Parse properties text into entries in file order. Duplicates are kept;
/// the caller lets the last one win.
pub fn parse(text: &str) -> Result<Vec<Entry>, ConfigError> {
    logical_lines(text)
        .into_iter()
        .map(|(line, chars)| split_entry(&chars, line))
        .collect()
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{c}')
}

/// Join natural lines into logical lines, dropping blanks and comments.
/// Returns `(starting line number, raw characters with escapes intact)`.
fn logical_lines(text: &str) -> Vec<(usize, Vec<char>)> {
    let mut out = Vec::new();
    let mut buf: Vec<char> = Vec::new();
    let mut line_no = 1; // natural line being read
    let mut start_line = 1;
    let mut skip_white = true; // at the start of a natural line
    let mut continuing = false; // this natural line continues a logical one
    let mut in_comment = false;
    let mut backslash = false; // odd run of backslashes so far
    let mut chars = text.chars().peekable();

    while let Some(c) = chars.next() {
        let newline = c == '\n' || c == '\r';
        if newline && c == '\r' && chars.peek() == Some(&'\n') {
            chars.next();
        }
        if in_comment {
            if newline {
                in_comment = false;
                skip_white = true;
                line_no += 1;
            }
            continue;
        }
        if skip_white {
            if is_blank(c) {
                continue;
            }
            if newline && !continuing {
                line_no += 1;
                continue;
            }
            skip_white = false;
            if !continuing {
                start_line = line_no;
                if c == '#' || c == '!' {
                    in_comment = true;
                    continue;
                }
            }
            continuing = false;
        }
        if !newline {
            buf.push(c);
            backslash = c == '\\' && !backslash;
            continue;
        }
        line_no += 1;
        skip_white = true;
        if backslash {
            buf.pop();
            backslash = false;
            continuing = true;
            continue;
        }
        if !buf.is_empty() {
            out.push((start_line, std::mem::take(&mut buf)));
        }
    }
    if backslash {
        buf.pop(); // a backslash before end of file continues onto nothing
    }
    if !buf.is_empty() {
        out.push((start_line, buf));
    }
    out
}

/// Split one logical line into key and value and unescape both.
fn split_entry(chars: &[char], line: usize) -> Result<Entry, ConfigError> {
    let mut key_len = 0;
    let mut value_start = chars.len();
    let mut has_sep = false;
    let mut backslash = false;
    while key_len < chars.len() {
        let c = chars[key_len];
        if !backslash && (c == '=' || c == ':') {
            value_start = key_len + 1;
            has_sep = true;
            break;
        }
        if !backslash && is_blank(c) {
            value_start = key_len + 1;
            break;
        }
        backslash = c == '\\' && !backslash;
        key_len += 1;
    }
    while value_start < chars.len() {
        let c = chars[value_start];
        if !is_blank(c) {
            if !has_sep && (c == '=' || c == ':') {
                has_sep = true;
            } else {
                break;
            }
        }
        value_start += 1;
    }
    Ok(Entry {
        key: unescape(&chars[..key_len], line)?,
        value: unescape(&chars[value_start..], line)?,
        line,
    })
}

/// Java's `loadConvert`: resolve backslash escapes.
fn unescape(chars: &[char], line: usize) -> Result<String, ConfigError> {
    let mut units: Vec<u16> = Vec::with_capacity(chars.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        let c = if c != '\\' || i == chars.len() {
            c
        } else {
            let e = chars[i];
            i += 1;
            match e {
                'u' => {
                    let hex: String = chars.get(i..i + 4).unwrap_or(&[]).iter().collect();
                    let unit = (hex.len() == 4)
                        .then(|| u16::from_str_radix(&hex, 16).ok())
                        .flatten()
                        .ok_or_else(|| ConfigError::Syntax {
                            line,
                            message: "malformed \\uxxxx escape".into(),
                        })?;
                    i += 4;
                    units.push(unit);
                    continue;
                }
                't' => '\t',
                'r' => '\r',
                'n' => '\n',
                'f' => '\u{c}',
                other => other,
            }
        };
        let mut tmp = [0u16; 2];
        units.extend_from_slice(c.encode_utf16(&mut tmp));
    }
    Ok(String::from_utf16_lossy(&units))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text)
            .unwrap()
            .into_iter()
            .map(|e| (e.key, e.value))
            .collect()
    }

    fn one(key: &str, value: &str) -> Vec<(String, String)> {
        vec![(key.to_owned(), value.to_owned())]
    }

    #[test]
    fn equals_colon_and_space_separate_key_from_value() {
        assert_eq!(pairs("a=1"), one("a", "1"));
        assert_eq!(pairs("a:1"), one("a", "1"));
        assert_eq!(pairs("a 1"), one("a", "1"));
        assert_eq!(pairs("a \t = \t1"), one("a", "1"));
        assert_eq!(
            pairs("a = = 1"),
            one("a", "= 1"),
            "only one separator is eaten"
        );
    }

    #[test]
    fn value_keeps_trailing_whitespace_and_later_separators() {
        assert_eq!(
            pairs("server.1=h:2888:3888 "),
            one("server.1", "h:2888:3888 ")
        );
    }

    #[test]
    fn key_without_value_is_empty() {
        assert_eq!(pairs("flag"), one("flag", ""));
        assert_eq!(pairs("flag="), one("flag", ""));
    }

    #[test]
    fn comments_and_blank_lines_are_skipped() {
        let text = "# c\n  ! c2\n\n   \n\tk=v\n#x=y";
        assert_eq!(pairs(text), one("k", "v"));
    }

    #[test]
    fn hash_after_key_is_part_of_value() {
        assert_eq!(pairs("k=v # not a comment"), one("k", "v # not a comment"));
    }

    #[test]
    fn comment_lines_do_not_continue() {
        assert_eq!(pairs("# c \\\nk=v"), one("k", "v"));
    }

    #[test]
    fn backslash_newline_continues_and_drops_leading_whitespace() {
        assert_eq!(pairs("k=a,\\\n    b,\\\r\n  c"), one("k", "a,b,c"));
    }

    #[test]
    fn continuation_line_starting_with_hash_is_not_a_comment() {
        assert_eq!(pairs("k=a\\\n#b"), one("k", "a#b"));
    }

    #[test]
    fn even_backslashes_do_not_continue() {
        assert_eq!(
            pairs("k=a\\\\\nj=b"),
            vec![("k".into(), "a\\".into()), ("j".into(), "b".into())]
        );
    }

    #[test]
    fn cr_and_crlf_end_lines() {
        assert_eq!(
            pairs("a=1\rb=2\r\nc=3"),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "2".into()),
                ("c".into(), "3".into())
            ]
        );
    }

    #[test]
    fn escapes_are_resolved() {
        assert_eq!(pairs("k\\=x=a\\tb\\u0041\\q"), one("k=x", "a\tbAq"));
        assert_eq!(pairs("my\\ key=v"), one("my key", "v"));
        assert_eq!(pairs("k=\\uD83D\\uDE00"), one("k", "\u{1F600}"));
    }

    #[test]
    fn malformed_unicode_escape_names_the_line() {
        let err = parse("a=1\nk=\\u12G4").unwrap_err();
        assert!(matches!(err, ConfigError::Syntax { line: 2, .. }), "{err}");
    }

    #[test]
    fn trailing_backslash_at_eof_is_dropped() {
        assert_eq!(pairs("k=v\\"), one("k", "v"));
        assert_eq!(pairs("\\\n\n"), vec![], "a lone backslash makes no entry");
    }

    #[test]
    fn entries_record_their_starting_line() {
        let lines: Vec<usize> = parse("# c\n\na=1\\\n 2\nb=3")
            .unwrap()
            .iter()
            .map(|e| e.line)
            .collect();
        assert_eq!(lines, vec![3, 5]);
    }

    #[test]
    fn invalid_utf8_decodes_as_latin1() {
        assert_eq!(decode(b"k=caf\xe9"), "k=caf\u{e9}");
        assert_eq!(decode("k=café".as_bytes()), "k=café");
    }
}
