//! The node commands: create, delete, deleteall, set, get, ls, stat, sync,
//! getAllChildrenNumber, getEphemerals — zkCli's argument rules, output
//! and messages, plus ferrozk's `get --raw` and `-f FILE` for create/set.

use std::io::Write;

use bytes::Bytes;
use ferrozk_client::{acls, Client, CreateMode, ErrorCode, Op, Stat};
use serde_json::json;

use super::{client, Spec};
use crate::error::CliError;
use crate::format;
use crate::shell::{Reply, Shell};
use crate::words::Parsed;

/// `path` argument `i`, or the usage error zkCli's `parse` throws.
pub(crate) fn need_arg<'a>(spec: &Spec, p: &'a Parsed, i: usize) -> Result<&'a str, CliError> {
    p.arg(i).ok_or_else(|| CliError::Parse(spec.usage()))
}

/// zkCli's `retainCompatibility`: a third argument of `get`/`ls`/`stat`
/// is the old `watch` form; it becomes `-w` with a deprecation note.
fn old_watch_form(r: &mut Reply, p: &Parsed, cmd: &str, new_form: &str) -> bool {
    if p.args.len() > 2 {
        r.note(format!(
            "'{cmd} path [watch]' has been deprecated. Please use '{new_form}' instead."
        ));
        return true;
    }
    false
}

/// `get [-s] [-w] [--raw] path`.
pub async fn get(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    let path = need_arg(spec, p, 1)?;
    let mut r = Reply::new();
    let watch = p.has("w") || old_watch_form(&mut r, p, "get", "get [-s] [-w] path");
    let (data, stat) = client(sh)
        .get_data(path, watch)
        .await
        .map_err(|e| CliError::from_client(e, path))?;
    if p.has("raw") {
        // The exact bytes, nothing else: for `get --raw /a > file`.
        let mut o = std::io::stdout().lock();
        o.write_all(data.as_deref().unwrap_or_default())
            .and_then(|_| o.flush())
            .map_err(|e| CliError::Other(format!("cannot write to stdout: {e}")))?;
        return Ok(Reply::new());
    }
    r.line(format::data_text(data.as_deref()));
    if p.has("s") {
        r.out.push_str(&format::stat_text(&stat));
    }
    r.json = json!({
        "path": path,
        "data": format::data_json(data.as_deref()),
        "stat": format::stat_json(&stat),
    });
    Ok(r)
}

/// `ls [-s] [-w] [-R] path`.
pub async fn ls(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    let mut r = Reply::new();
    let watch = p.has("w") || old_watch_form(&mut r, p, "ls", "ls [-w] path");
    if p.has("?") {
        // Commons CLI's HelpFormatter output for ls's options.
        r.line("usage: ls [options] path");
        for (flag, what) in [
            ("?", "help"),
            ("R", "recurse"),
            ("s", "stat"),
            ("w", "watch"),
        ] {
            r.line(format!(" -{flag}   {what}"));
        }
    }
    // zkCli checks the argument count only when it runs (after -?'s help).
    let Some(path) = p.arg(1) else {
        print!("{}", r.out);
        return Err(CliError::Malformed(spec.usage()));
    };
    let c = client(sh);
    if p.has("R") {
        // ZKUtil.visitSubTreeDFS: the node, then each child's subtree, in
        // the order getChildren returns them.
        let mut all = Vec::new();
        let mut stack = vec![path.to_string()];
        while let Some(node) = stack.pop() {
            let children = c
                .get_children(&node, watch)
                .await
                .map_err(|e| CliError::from_client(e, &node))?;
            for child in children.iter().rev() {
                stack.push(join(&node, child));
            }
            r.line(&node);
            all.push(node);
        }
        r.json = json!({ "path": path, "nodes": all });
        return Ok(r);
    }
    let (mut children, stat): (Vec<String>, Option<Stat>) = if p.has("s") {
        let (ch, st) = c
            .get_children2(path, watch)
            .await
            .map_err(|e| CliError::from_client(e, path))?;
        (ch, Some(st))
    } else {
        let ch = c
            .get_children(path, watch)
            .await
            .map_err(|e| CliError::from_client(e, path))?;
        (ch, None)
    };
    children.sort();
    r.line(format!("[{}]", children.join(", ")));
    if let Some(st) = &stat {
        r.out.push_str(&format::stat_text(st));
    }
    r.json = json!({
        "path": path,
        "children": children,
        "stat": stat.as_ref().map(format::stat_json),
    });
    Ok(r)
}

/// `parent/child`, for the root too.
pub(crate) fn join(parent: &str, child: &str) -> String {
    if parent.ends_with('/') {
        format!("{parent}{child}")
    } else {
        format!("{parent}/{child}")
    }
}

/// The data of create/set: `-f FILE`'s bytes, else the argument's UTF-8.
pub(crate) fn data_arg(p: &Parsed, arg: Option<&str>) -> Result<Option<Bytes>, CliError> {
    if let Some(file) = p.value("f") {
        let bytes =
            std::fs::read(file).map_err(|e| CliError::Other(format!("cannot read {file}: {e}")))?;
        return Ok(Some(Bytes::from(bytes)));
    }
    Ok(arg.map(|s| Bytes::copy_from_slice(s.as_bytes())))
}

/// The version of `-v`, as Java's `Integer.parseInt` (zkCli lets a bad
/// number escape as an exception; we fail the command with its text).
fn version_flag(p: &Parsed) -> Result<i32, CliError> {
    match p.value("v") {
        None => Ok(-1),
        Some(v) => v
            .parse()
            .map_err(|_| CliError::Other(format!("For input string: \"{v}\""))),
    }
}

/// `set [-s] [-v version] path data`, or `set path -f FILE`.
pub async fn set(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    let from_file = p.value("f").is_some();
    if p.args.len() < if from_file { 2 } else { 3 } {
        return Err(CliError::Parse(spec.usage()));
    }
    let path = &p.args[1];
    let data = data_arg(p, p.arg(2))?.unwrap_or_default();
    let version = version_flag(p)?;
    let stat = client(sh)
        .set_data(path, &data, version)
        .await
        .map_err(|e| CliError::from_client(e, path))?;
    let mut r = Reply::new();
    if p.has("s") {
        r.out.push_str(&format::stat_text(&stat));
    }
    r.json = json!({ "path": path, "stat": format::stat_json(&stat) });
    Ok(r)
}

/// `stat [-w] path`.
pub async fn stat(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    let path = need_arg(spec, p, 1)?;
    let mut r = Reply::new();
    let watch = p.has("w") || old_watch_form(&mut r, p, "stat", "stat [-w] path");
    let stat = client(sh)
        .exists(path, watch)
        .await
        .map_err(|e| CliError::from_client(e, path))?
        .ok_or_else(|| CliError::Keeper {
            code: ErrorCode::NoNode,
            path: path.to_string(),
        })?;
    r.out.push_str(&format::stat_text(&stat));
    r.json = json!({ "path": path, "stat": format::stat_json(&stat) });
    Ok(r)
}

/// `delete [-v version] path`.
pub async fn delete(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    let path = need_arg(spec, p, 1)?;
    let mut r = Reply::new();
    if p.args.len() > 2 {
        // zkCli warns, then parses the same words again (the extra
        // argument is ignored).
        r.note(
            "'delete path [version]' has been deprecated. Please use 'delete [-v version] path' instead.",
        );
    }
    let version = version_flag(p)?;
    client(sh)
        .delete(path, version)
        .await
        .map_err(|e| CliError::from_client(e, path))?;
    r.json = json!({ "deleted": path });
    Ok(r)
}

/// `deleteall path [-b batch size]`: the subtree listed breadth-first,
/// deleted leaves first in multis of `batch` deletes (ZKUtil.deleteRecursive).
pub async fn deleteall(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    let batch = match p.value("b") {
        None => 1000,
        Some(b) => b
            .parse::<i32>()
            .map_err(|_| CliError::Malformed("-b argument must be an int value".into()))?,
    };
    let path = need_arg(spec, p, 1)?;
    ferrozk_proto::path::validate(path, false)
        .map_err(|e| CliError::MalformedPath(e.java_message()))?;
    let c = client(sh);
    let tree = subtree_bfs(c, path).await?;
    let mut ok = true;
    let mut ops = Vec::new();
    for (i, node) in tree.iter().enumerate().rev() {
        ops.push(Op::delete(node, -1));
        let full = ops.len() as i64 == i64::from(batch) || i == 0;
        if full && c.multi_checked(std::mem::take(&mut ops)).await.is_err() {
            ok = false;
            break;
        }
    }
    let mut r = Reply::new();
    if !ok {
        r.note("Failed to delete some node(s) in the subtree!");
    }
    r.json = json!({ "path": path, "nodes": tree.len(), "complete": ok });
    Ok(r)
}

/// ZKUtil.listSubTreeBFS: `path` and its descendants, breadth-first.
pub(crate) async fn subtree_bfs(c: &Client, path: &str) -> Result<Vec<String>, CliError> {
    let mut tree = vec![path.to_string()];
    let mut next = 0;
    while next < tree.len() {
        let node = tree[next].clone();
        next += 1;
        let children = c
            .get_children(&node, false)
            .await
            .map_err(|e| CliError::from_client(e, &node))?;
        tree.extend(children.iter().map(|ch| join(&node, ch)));
    }
    Ok(tree)
}

/// `sync path`.
pub async fn sync(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    let path = need_arg(spec, p, 1)?;
    let mut r = Reply::new();
    match client(sh).sync(path).await {
        Ok(()) => {
            r.line("Sync is OK");
            r.json = json!({ "path": path, "synced": true });
        }
        Err(ferrozk_client::Error::InvalidPath(e)) => {
            return Err(CliError::MalformedPath(e.java_message()))
        }
        Err(e) => {
            // zkCli reports the sync callback's code, not an exception.
            let rc = e.code().map(|c| c.code()).unwrap_or(-1);
            r.line(format!("Sync has failed. rc={rc}"));
            r.json = json!({ "path": path, "synced": false, "rc": rc });
        }
    }
    Ok(r)
}

/// `getAllChildrenNumber path`.
pub async fn get_all_children_number(
    sh: &mut Shell,
    spec: &Spec,
    p: &Parsed,
) -> Result<Reply, CliError> {
    let path = p.arg(1).ok_or_else(|| CliError::Malformed(spec.usage()))?;
    let n = client(sh)
        .get_all_children_number(path)
        .await
        .map_err(|e| CliError::from_client(e, path))?;
    let mut r = Reply::new();
    r.line(n.to_string());
    r.json = json!({ "path": path, "allChildrenNumber": n });
    Ok(r)
}

/// `getEphemerals [path]`: the session's ephemerals (under `path`), in
/// Java's list format.
pub async fn get_ephemerals(sh: &mut Shell, _spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    let path = p.arg(1).unwrap_or("/");
    let list = client(sh)
        .get_ephemerals(path)
        .await
        .map_err(|e| CliError::from_client(e, path))?;
    let mut r = Reply::new();
    r.line(format!("[{}]", list.join(", ")));
    r.json = json!({ "path": path, "ephemerals": list });
    Ok(r)
}

/// The TTL limit of ZooKeeper's `EphemeralType.TTL` (40 bits).
const MAX_TTL: i64 = 0xFF_FFFF_FFFF;

/// `create [-s] [-e] [-c] [-t ttl] path [data] [acl]`, or with `-f FILE`
/// for the data.
pub async fn create(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    let path = need_arg(spec, p, 1)?;
    let (e, s, c, t) = (p.has("e"), p.has("s"), p.has("c"), p.has("t"));
    if c && (e || s) {
        return Err(CliError::Malformed(
            "-c cannot be combined with -s or -e. Containers cannot be ephemeral or sequential."
                .into(),
        ));
    }
    let ttl = match p.value("t") {
        Some(v) => v
            .parse::<i64>()
            .map_err(|_| CliError::Malformed("-t argument must be a long value".into()))?,
        None => 0,
    };
    if t && e {
        return Err(CliError::Malformed(
            "TTLs cannot be used with Ephemeral znodes".into(),
        ));
    }
    if t && c {
        return Err(CliError::Malformed(
            "TTLs cannot be used with Container znodes".into(),
        ));
    }
    let mode = match (e, s, c, t) {
        (true, true, _, _) => CreateMode::EphemeralSequential,
        (true, false, _, _) => CreateMode::Ephemeral,
        (false, true, _, true) => CreateMode::PersistentSequentialWithTtl(ttl),
        (false, true, _, false) => CreateMode::PersistentSequential,
        (false, false, true, _) => CreateMode::Container,
        (false, false, false, true) => CreateMode::PersistentWithTtl(ttl),
        (false, false, false, false) => CreateMode::Persistent,
    };
    if t && !(1..=MAX_TTL).contains(&ttl) {
        return Err(CliError::Malformed(format!(
            "ttl must be positive and cannot be larger than: {MAX_TTL}"
        )));
    }
    // With -f the data comes from the file and the next word is the ACL.
    let (data_word, acl_word) = if p.value("f").is_some() {
        (None, p.arg(2))
    } else {
        (p.arg(2), p.arg(3))
    };
    let data = data_arg(p, data_word)?;
    let mut r = Reply::new();
    let acl = match acl_word {
        Some(a) => super::acl::parse_acl_entries(a),
        None => acls::open_unsafe(),
    };
    if acl.is_empty() {
        // ZooKeeper.validateACL throws InvalidACLException without a path.
        r.note(crate::error::keeper_exception_message(
            ErrorCode::InvalidAcl,
            "",
        ));
        eprint!("{}", r.err);
        return Err(CliError::Keeper {
            code: ErrorCode::InvalidAcl,
            path: "null".into(),
        });
    }
    let created = client(sh)
        .create_opt(path, data.as_deref(), &acl, mode, t)
        .await;
    match created {
        Ok((new_path, _)) => {
            r.note(format!("Created {new_path}"));
            r.json = json!({ "created": new_path });
            Ok(r)
        }
        Err(err) => {
            let err = CliError::from_client(err, path);
            if err.code() == Some(ErrorCode::InvalidAcl) {
                r.note(crate::error::keeper_exception_message(
                    ErrorCode::InvalidAcl,
                    path,
                ));
            } else if err.code() == Some(ErrorCode::EphemeralOnLocalSession) {
                r.note("Unable to create ephemeral node on a local session");
            }
            eprint!("{}", r.err);
            Err(err)
        }
    }
}
