//! ZooKeeper's path rules (`PathUtils.validatePath`).
//!
//! A path is absolute, has no empty, "." or ".." components, no trailing
//! slash (except the root), and none of the characters ZooKeeper forbids.
//! ZooKeeper checks characters as Java UTF-16 code units, so any character
//! outside the Basic Multilingual Plane (a surrogate pair in Java) is invalid.

/// Why a path was rejected; the message is ZooKeeper's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Invalid path string \"{path}\" caused by {reason}")]
pub struct InvalidPath {
    /// The offending path.
    pub path: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl InvalidPath {
    /// The message of the `IllegalArgumentException` Java's
    /// `PathUtils.validatePath` throws: the first checks (empty, not
    /// absolute, trailing slash) give the reason alone.
    pub fn java_message(&self) -> String {
        match self.reason {
            "Path length must be > 0"
            | "Path must start with / character"
            | "Path must not end with / character" => self.reason.to_string(),
            // The checks of single characters name the index too; found
            // again here rather than stored, to keep the error small.
            _ => match [false, true]
                .iter()
                .find_map(|&seq| match validate_at(&self.path, seq) {
                    Err((reason, Some(i))) if reason == self.reason => Some(i),
                    _ => None,
                }) {
                Some(i) => format!("{self} @{i}"),
                None => self.to_string(),
            },
        }
    }
}

fn forbidden(c: char) -> bool {
    let c = c as u32;
    (0x01..=0x1f).contains(&c)
        || (0x7f..=0x9f).contains(&c)
        || (0xd800..=0xf8ff).contains(&c)
        || (0xfff0..=0xffff).contains(&c)
        || c > 0xffff
}

/// Validates `path`; for sequential creates ZooKeeper validates `path + "1"`,
/// which is what `sequential` does (so "/a/" is fine for a sequential create).
pub fn validate(path: &str, sequential: bool) -> Result<(), InvalidPath> {
    // ZooKeeper validates the name with the sequence suffix in place; a
    // trailing '1' stands for it. Paths are nearly always ASCII: check their
    // bytes without collecting chars (this allocation was ~10% of a write's
    // prep in callgrind).
    validate_at(path, sequential).map_err(|(reason, _)| InvalidPath {
        path: path.to_string(),
        reason,
    })
}

/// [`validate`], with the index of the offending character where a check
/// names one.
fn validate_at(path: &str, sequential: bool) -> Result<(), (&'static str, Option<u32>)> {
    if path.is_ascii() {
        check(path.as_bytes(), sequential, |b| b as char)
    } else {
        let chars: Vec<char> = path.chars().collect();
        check(&chars, sequential, |c| c)
    }
}

/// `PathUtils.validatePath` over `items` (plus a trailing '1' when
/// `sequential`).
fn check<T: Copy>(
    items: &[T],
    sequential: bool,
    ch: impl Fn(T) -> char,
) -> Result<(), (&'static str, Option<u32>)> {
    let len = items.len() + usize::from(sequential);
    let at = |i: usize| if i < items.len() { ch(items[i]) } else { '1' };
    if len == 0 {
        return Err(("Path length must be > 0", None));
    }
    if at(0) != '/' {
        return Err(("Path must start with / character", None));
    }
    if len == 1 {
        return Ok(());
    }
    if at(len - 1) == '/' {
        return Err(("Path must not end with / character", None));
    }
    let mut last = '/';
    for i in 1..len {
        let c = at(i);
        let next_is_end = i + 1 == len || at(i + 1) == '/';
        if c == '\0' {
            return Err(("null character not allowed", Some(i as u32)));
        } else if c == '/' && last == '/' {
            return Err(("empty node name specified", Some(i as u32)));
        } else if c == '.' && last == '.' {
            if at(i - 2) == '/' && next_is_end {
                return Err(("relative paths not allowed", Some(i as u32)));
            }
        } else if c == '.' {
            if at(i - 1) == '/' && next_is_end {
                return Err(("relative paths not allowed", Some(i as u32)));
            }
        } else if forbidden(c) {
            return Err(("invalid character", Some(i as u32)));
        }
        last = c;
    }
    Ok(())
}

/// The parent of a valid non-root path ("/a/b" → "/a", "/a" → "/").
pub fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// The last component of a valid non-root path.
pub fn basename(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[i + 1..],
        None => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_paths() {
        for p in [
            "/",
            "/a",
            "/a/b",
            "/a.b",
            "/..a",
            "/a..",
            "/.a/b.",
            "/zookeeper/quota",
            "/ü",
        ] {
            assert!(validate(p, false).is_ok(), "{p}");
        }
    }

    #[test]
    fn rejects_what_zookeeper_rejects() {
        for p in [
            "",
            "a",
            "/a/",
            "//",
            "/a//b",
            "/.",
            "/..",
            "/a/./b",
            "/a/../b",
            "/a\0b",
            "/a\u{1}",
            "/\u{1F600}",
            "/\u{fff0}",
        ] {
            assert!(validate(p, false).is_err(), "{p:?}");
        }
    }

    #[test]
    fn sequential_allows_trailing_slash() {
        assert!(validate("/a/", true).is_ok());
        assert!(validate("/", true).is_ok());
        assert!(validate("/a//", true).is_err());
    }

    #[test]
    fn parent_and_basename() {
        assert_eq!(parent("/a"), "/");
        assert_eq!(parent("/a/b/c"), "/a/b");
        assert_eq!(basename("/a/b/c"), "c");
    }
}
