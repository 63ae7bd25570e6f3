//! The watch commands: addWatch (persistent and persistent-recursive
//! watches) and removewatches. The events the watches produce, and the
//! `*WatchRemoved` events of a removal, are printed by the session like
//! any other watch event.

use ferrozk_client::{AddWatchMode, WatcherType};
use serde_json::json;

use super::{client, Spec};
use crate::error::CliError;
use crate::shell::{Reply, Shell};
use crate::words::Parsed;

/// addWatch's mode names, as Java's `AddWatchMode.valueOf` takes them.
fn watch_mode(name: &str) -> Option<AddWatchMode> {
    match name.to_uppercase().as_str() {
        "PERSISTENT" => Some(AddWatchMode::Persistent),
        "PERSISTENT_RECURSIVE" => Some(AddWatchMode::PersistentRecursive),
        _ => None,
    }
}

fn mode_name(m: AddWatchMode) -> &'static str {
    match m {
        AddWatchMode::Persistent => "PERSISTENT",
        AddWatchMode::PersistentRecursive => "PERSISTENT_RECURSIVE",
    }
}

/// addWatch's checks: exactly one path, and a known mode (default
/// PERSISTENT_RECURSIVE); anything else is the usage.
fn add_watch_args<'a>(spec: &Spec, p: &'a Parsed) -> Result<(&'a str, AddWatchMode), CliError> {
    if p.args.len() != 2 {
        return Err(CliError::Parse(spec.usage()));
    }
    let mode = match p.value("m") {
        Some(m) => watch_mode(m).ok_or_else(|| CliError::Parse(spec.usage()))?,
        None => AddWatchMode::PersistentRecursive,
    };
    Ok((&p.args[1], mode))
}

/// `addWatch [-m mode] path`.
pub async fn add_watch(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    let (path, mode) = add_watch_args(spec, p)?;
    client(sh)
        .add_watch(path, mode)
        .await
        .map_err(|e| CliError::from_client(e, path))?;
    Ok(Reply::new().with_json(json!({ "path": path, "mode": mode_name(mode) })))
}

/// removewatches's watcher type: `-c` over `-d` over `-a`, default any.
fn watcher_type(p: &Parsed) -> WatcherType {
    if p.has("c") {
        WatcherType::Children
    } else if p.has("d") {
        WatcherType::Data
    } else {
        WatcherType::Any
    }
}

/// `removewatches path [-c|-d|-a] [-l]`.
pub async fn remove_watches(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    if p.args.len() < 2 {
        return Err(CliError::Parse(spec.usage()));
    }
    let path = p.args[1].as_str();
    let ty = watcher_type(p);
    let local = p.has("l");
    client(sh)
        .remove_watches(path, ty, local)
        .await
        .map_err(|e| CliError::from_client(e, path))?;
    Ok(Reply::new().with_json(json!({
        "path": path,
        "watcherType": format!("{ty:?}"),
        "local": local,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::find;
    use crate::words::{parse_flags, split_line};

    fn parse(line: &str) -> (Spec, Parsed) {
        let words = split_line(line);
        let spec = *find(&words[0]).unwrap();
        let p = parse_flags(&spec.flags, &words).unwrap();
        (spec, p)
    }

    #[test]
    fn add_watch_arguments() {
        let (s, p) = parse("addWatch /a");
        assert_eq!(
            add_watch_args(&s, &p).unwrap(),
            ("/a", AddWatchMode::PersistentRecursive)
        );
        let (s, p) = parse("addWatch -m persistent /a");
        assert_eq!(add_watch_args(&s, &p).unwrap().1, AddWatchMode::Persistent);
        let usage = "addWatch [-m mode] path # optional mode is one of [PERSISTENT, \
PERSISTENT_RECURSIVE] - default is PERSISTENT_RECURSIVE";
        for bad in ["addWatch", "addWatch /a /b", "addWatch -m foo /a"] {
            let (s, p) = parse(bad);
            assert_eq!(
                add_watch_args(&s, &p).unwrap_err().to_string(),
                usage,
                "{bad}"
            );
        }
    }

    #[test]
    fn remove_watches_type() {
        assert_eq!(watcher_type(&parse("removewatches /a").1), WatcherType::Any);
        assert_eq!(
            watcher_type(&parse("removewatches /a -d -c").1),
            WatcherType::Children
        );
        assert_eq!(
            watcher_type(&parse("removewatches /a -a -d").1),
            WatcherType::Data
        );
        assert_eq!(
            watcher_type(&parse("removewatches /a -a -l").1),
            WatcherType::Any
        );
    }
}
