//! TOML config files: the zoo.cfg keys, written as TOML.
//!
//! Tables flatten with dots, so `[autopurge] purgeInterval = 1` is
//! `autopurge.purgeInterval=1` and `server.1 = "h:2888:3888"` (a dotted key)
//! is `server.1`. Scalars become their TOML text (`true`, `2000`, strings
//! unquoted); an array of scalars becomes a comma-separated list, which is
//! what `4lw.commands.whitelist` wants. A key containing `_` is matched to a
//! known key ignoring case and underscores, so `tick_time`,
//! `[autopurge] snap_retain_count` and `skip_acl` work too.

use super::error::ConfigError;
use super::keys::{KNOWN_KEYS, KNOWN_PREFIXES};

/// Parse TOML text into `(key, value)` pairs, sorted by key within each table.
pub fn flatten(text: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::Toml {
            message: e.to_string().trim_end().to_owned(),
        })?;
    let mut out = Vec::new();
    walk(&table, "", &mut out)?;
    Ok(out)
}

fn walk(
    table: &toml::Table,
    prefix: &str,
    out: &mut Vec<(String, String)>,
) -> Result<(), ConfigError> {
    for (k, v) in table {
        let key = format!("{prefix}{k}");
        match v {
            toml::Value::Table(inner) => walk(inner, &format!("{key}."), out)?,
            other => {
                let value = scalar_or_list(&key, other)?;
                out.push((canonical(&key), value));
            }
        }
    }
    Ok(())
}

fn scalar_or_list(key: &str, value: &toml::Value) -> Result<String, ConfigError> {
    match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Array(items) => {
            let parts: Result<Vec<String>, ConfigError> = items
                .iter()
                .map(|item| match item {
                    toml::Value::Array(_) | toml::Value::Table(_) => Err(ConfigError::Toml {
                        message: format!("{key}: expected a value or a list of values"),
                    }),
                    scalar => scalar_or_list(key, scalar),
                })
                .collect();
            Ok(parts?.join(","))
        }
        // Integers, floats, booleans, datetimes: their TOML text. The key's
        // own parser then says whether that is acceptable.
        other => Ok(other.to_string()),
    }
}

/// Map a snake_case spelling to the known key it stands for.
fn canonical(key: &str) -> String {
    if !key.contains('_') {
        return key.to_owned();
    }
    let norm = |s: &str| s.replace('_', "").to_ascii_lowercase();
    let wanted = norm(key);
    if let Some(known) = KNOWN_KEYS.iter().find(|k| norm(k) == wanted) {
        return (*known).to_owned();
    }
    for prefix in KNOWN_PREFIXES {
        let (head, rest) = key.split_once('.').unwrap_or((key, ""));
        if norm(head) == norm(prefix.trim_end_matches('.')) {
            return format!("{prefix}{rest}");
        }
    }
    key.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        flatten(text).unwrap()
    }

    fn p(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn scalars_become_their_text() {
        assert_eq!(
            pairs("tickTime = 2000\ndataDir = \"/d\"\nsyncEnabled = false"),
            vec![
                p("dataDir", "/d"),
                p("syncEnabled", "false"),
                p("tickTime", "2000")
            ]
        );
    }

    #[test]
    fn tables_flatten_with_dots() {
        assert_eq!(
            pairs("[autopurge]\npurgeInterval = 1"),
            vec![p("autopurge.purgeInterval", "1")]
        );
        assert_eq!(pairs("server.1 = \"h:1:2\""), vec![p("server.1", "h:1:2")]);
        assert_eq!(
            pairs("[server]\n2 = \"h:1:2\""),
            vec![p("server.2", "h:1:2")]
        );
    }

    #[test]
    fn arrays_join_with_commas() {
        assert_eq!(
            pairs("\"4lw.commands.whitelist\" = [\"ruok\", \"stat\"]"),
            vec![p("4lw.commands.whitelist", "ruok,stat")]
        );
    }

    #[test]
    fn snake_case_aliases_map_to_known_keys() {
        assert_eq!(pairs("tick_time = 1"), vec![p("tickTime", "1")]);
        assert_eq!(pairs("skip_acl = \"yes\""), vec![p("skipACL", "yes")]);
        assert_eq!(
            pairs("[autopurge]\nsnap_retain_count = 4"),
            vec![p("autopurge.snapRetainCount", "4")]
        );
        assert_eq!(
            pairs("[metrics_provider]\nclassName = \"x\""),
            vec![p("metricsProvider.className", "x")]
        );
        assert_eq!(pairs("some_unknown = 1"), vec![p("some_unknown", "1")]);
    }

    #[test]
    fn nested_arrays_are_rejected_with_key() {
        let err = flatten("x = [[1]]").unwrap_err();
        assert!(err.to_string().contains('x'), "{err}");
    }

    #[test]
    fn syntax_errors_are_reported() {
        assert!(matches!(
            flatten("tickTime = "),
            Err(ConfigError::Toml { .. })
        ));
    }
}
