//! ferrozk's own commands, which zkCli lacks:
//!
//! - `tree [-d depth] [path]`: the subtree drawn as the `tree` tool does,
//!   children sorted, each node with its data length and an ephemeral mark.
//! - `dump path [-o file | > file]`: the subtree (data, ACLs, node type) as
//!   one versioned JSON document ([`DUMP_FORMAT`]), on stdout or in a file.
//!   `> file` is spelled as words so it works in the interactive shell,
//!   which has no redirection. The reads are not one snapshot: a tree that
//!   changes while it is dumped may be caught half-way.
//! - `load file [path]`: creates a dump's nodes under `path` (default: the
//!   dump's root), parents first, with their data and ACLs, in `multi`
//!   batches. Nothing is written if any node already exists; each batch is
//!   atomic, so a failure later on leaves the earlier batches in place (the
//!   error says how many nodes were created).
//! - `watch path`: a persistent recursive watch, whose events the shell's
//!   event printer shows (each once; switched on for the duration if
//!   `printwatches off`), until Ctrl-C or the end of the session; then the
//!   watch is removed. 3.8 servers (and ferrozk) know no
//!   `PersistentRecursive` watcher type for removeWatches, so it falls back
//!   to `Any`, which also drops one-shot watches set on that very path.
//!
//! The pure parts live in submodules: `doc` (the dump document and the plan
//! of a load) and `view` (the tree's drawing).
//!
//! Node types: ZooKeeper shows containers and TTL nodes to clients with
//! `ephemeralOwner` 0, so a dump cannot tell them from persistent nodes and
//! writes them as persistent; `load` does create `container` and `ttl`
//! entries of a hand-written document. Ephemeral nodes are written as
//! persistent ones, with a warning naming them. Sequential names are plain
//! names. ACLs are kept as they are: loading a node whose ACL denies us
//! CREATE fails for its children unless the session is authenticated as one
//! of its ids (`addauth` first).

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, Once};
use std::time::Duration;

use bytes::Bytes;
use ferrozk_client::{
    AddWatchMode, Chroot, Client, ConnectString, Error as ZkError, ErrorCode, Op, Stat,
    WatcherType, ACL,
};
use ferrozk_proto::path;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::nodes::{join, need_arg};
use super::{client, Spec};
use crate::error::CliError;
use crate::shell::{Reply, Shell};
use crate::words::Parsed;

mod doc;
mod view;

pub use doc::DUMP_FORMAT;
use doc::{batches, plan_load, pretty, DumpDoc, DumpNode, NodeKind};
use view::{plural, tree_json, tree_text, TreeNode};

/// How many node reads tree and dump keep in flight at once.
const IN_FLIGHT: usize = 128;

/// Runs `f` on every path, `IN_FLIGHT` at a time; the results are in the
/// order of `paths`.
async fn for_each_path<T, F, Fut>(c: &Client, paths: &[String], f: F) -> Vec<Result<T, ZkError>>
where
    F: Fn(Client, String) -> Fut,
    Fut: Future<Output = Result<T, ZkError>> + Send + 'static,
    T: Send + 'static,
{
    let mut out = Vec::with_capacity(paths.len());
    for chunk in paths.chunks(IN_FLIGHT) {
        let tasks: Vec<_> = chunk
            .iter()
            .map(|p| tokio::spawn(f(c.clone(), p.clone())))
            .collect();
        for t in tasks {
            out.push(
                t.await.unwrap_or_else(|e| {
                    Err(ZkError::Protocol(format!("request task failed: {e}")))
                }),
            );
        }
    }
    out
}

fn is(e: &ZkError, code: ErrorCode) -> bool {
    e.code() == Some(code)
}

/// The command's words after the flags must be exactly `want` (name
/// included), else zkCli's usage error.
fn arg_count(
    spec: &Spec,
    p: &Parsed,
    want: std::ops::RangeInclusive<usize>,
) -> Result<(), CliError> {
    if want.contains(&p.args.len()) {
        Ok(())
    } else {
        Err(CliError::Parse(spec.usage()))
    }
}

/// `tree [-d depth] [path]`.
pub async fn tree(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    arg_count(spec, p, 1..=2)?;
    let root = p.arg(1).unwrap_or("/");
    let depth = match p.value("d") {
        None => None,
        Some(v) => Some(v.parse::<usize>().map_err(|_| {
            CliError::Malformed(format!(
                "tree: -d takes the number of levels to show (0 or more), not \"{v}\""
            ))
        })?),
    };
    let nodes = fetch_tree(client(sh), root, depth).await?;
    let mut r = Reply::new();
    r.out = tree_text(&nodes);
    r.json = tree_json(&nodes);
    Ok(r)
}

/// Walks the subtree of `root` level by level, `depth` levels down.
async fn fetch_tree(
    c: &Client,
    root: &str,
    depth: Option<usize>,
) -> Result<Vec<TreeNode>, CliError> {
    let mut nodes = vec![TreeNode {
        path: root.to_string(),
        name: path::basename(root).to_string(),
        ..TreeNode::default()
    }];
    let mut level = vec![0];
    let mut d = 0;
    while !level.is_empty() {
        let paths: Vec<String> = level.iter().map(|&i| nodes[i].path.clone()).collect();
        let results = for_each_path(
            c,
            &paths,
            |c, p| async move { c.get_children2(&p, false).await },
        )
        .await;
        let mut next = Vec::new();
        for (&i, res) in level.iter().zip(results) {
            let mut children = match res {
                Ok((children, stat)) => {
                    nodes[i].stat = stat;
                    children
                }
                Err(e) if is(&e, ErrorCode::NoNode) && i != 0 => {
                    nodes[i].gone = true;
                    continue;
                }
                Err(e) if is(&e, ErrorCode::NoAuth) => {
                    let path = nodes[i].path.clone();
                    match c.exists(&path, false).await {
                        Ok(Some(stat)) => nodes[i].stat = stat,
                        Ok(None) if i != 0 => nodes[i].gone = true,
                        Ok(None) => return Err(CliError::from_client(e, &path)),
                        Err(e) => return Err(CliError::from_client(e, &path)),
                    }
                    nodes[i].denied = true;
                    continue;
                }
                Err(e) => return Err(CliError::from_client(e, &nodes[i].path)),
            };
            if depth.is_some_and(|max| d >= max) {
                continue;
            }
            nodes[i].expanded = true;
            children.sort();
            for name in children {
                let k = nodes.len();
                let path = join(&nodes[i].path, &name);
                nodes.push(TreeNode {
                    path,
                    name,
                    ..TreeNode::default()
                });
                nodes[i].children.push(k);
                next.push(k);
            }
        }
        level = next;
        d += 1;
    }
    Ok(nodes)
}

// ---------------------------------------------------------------- dump

/// Where `dump` writes: `-o file`, or `> file` / `>file` as the last words.
fn dump_output(spec: &Spec, p: &Parsed) -> Result<(String, Option<String>), CliError> {
    let mut args: Vec<&str> = p.args.iter().skip(1).map(String::as_str).collect();
    let mut file = None;
    match args.as_slice() {
        [.., ">", f] => {
            file = Some(f.to_string());
            args.truncate(args.len() - 2);
        }
        [.., f] if f.len() > 1 && f.starts_with('>') => {
            file = Some(f[1..].to_string());
            args.pop();
        }
        _ => {}
    }
    let [path] = args.as_slice() else {
        return Err(CliError::Parse(spec.usage()));
    };
    match (file, p.value("o")) {
        (Some(_), Some(_)) => Err(CliError::Malformed(
            "dump: give the file once, with -o file or > file".into(),
        )),
        (f, o) => Ok((path.to_string(), f.or(o.map(str::to_string)))),
    }
}

/// A node as read for a dump.
struct Fetched {
    data: Option<Bytes>,
    stat: Stat,
    acl: Vec<ACL>,
    children: Vec<String>,
}

async fn fetch_node(c: Client, p: String) -> Result<Fetched, ZkError> {
    let (d, a, ch) = tokio::join!(
        c.get_data(&p, false),
        c.get_acl(&p),
        c.get_children(&p, false)
    );
    let (data, stat) = d?;
    Ok(Fetched {
        data,
        stat,
        acl: a?.0,
        children: ch?,
    })
}

/// Whether client path `p` is ZooKeeper's own `/zookeeper` subtree.
fn is_system(chroot: &Chroot, p: &str) -> bool {
    let sp = chroot.to_server(p);
    sp == "/zookeeper" || sp.starts_with("/zookeeper/")
}

/// Reads the subtree of `root` (without `/zookeeper`); returns the
/// document and the ephemeral nodes it turned into persistent ones.
async fn read_subtree(
    c: &Client,
    chroot: &Chroot,
    root: &str,
) -> Result<(DumpDoc, Vec<String>), CliError> {
    let mut nodes = Vec::new();
    let mut ephemeral = Vec::new();
    let mut level = vec![root.to_string()];
    while !level.is_empty() {
        let results = for_each_path(c, &level, fetch_node).await;
        let mut next = Vec::new();
        for (p, res) in level.iter().zip(results) {
            let f = match res {
                Ok(f) => f,
                Err(e) if is(&e, ErrorCode::NoNode) && p != root => continue,
                Err(e) => return Err(CliError::from_client(e, p)),
            };
            if f.stat.ephemeral_owner != 0 {
                ephemeral.push(p.clone());
            }
            for child in &f.children {
                let cp = join(p, child);
                if !is_system(chroot, &cp) {
                    next.push(cp);
                }
            }
            nodes.push(DumpNode {
                path: p.clone(),
                data: f.data,
                acl: f.acl,
                kind: NodeKind::Persistent,
            });
        }
        level = next;
    }
    // Depth-first, children by name: the order of `ls -R`, sorted.
    nodes.sort_by(|a, b| a.path.split('/').cmp(b.path.split('/')));
    ephemeral.sort();
    let doc = DumpDoc {
        root: root.to_string(),
        nodes,
    };
    Ok((doc, ephemeral))
}

/// `dump path [-o file | > file]`.
pub async fn dump(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    let (root, file) = dump_output(spec, p)?;
    let chroot = ConnectString::parse(&sh.host)
        .map(|c| c.chroot)
        .unwrap_or_default();
    if is_system(&chroot, &root) {
        return Err(CliError::Malformed(format!(
            "dump: {root} is in ZooKeeper's own /zookeeper subtree, which is never dumped"
        )));
    }
    let (doc, ephemeral) = read_subtree(client(sh), &chroot, &root).await?;
    let mut r = Reply::new();
    for e in &ephemeral {
        r.note(format!(
            "Warning: {e} is ephemeral; it is dumped as a persistent node"
        ));
    }
    let v = doc.to_json();
    let Some(file) = file else {
        r.out = pretty(&v);
        r.json = v;
        return Ok(r);
    };
    std::fs::write(&file, pretty(&v))
        .map_err(|e| CliError::Other(format!("cannot write {file}: {e}")))?;
    r.note(format!(
        "Dumped {} of {root} to {file}",
        plural(doc.nodes.len() as i64, "node", "nodes")
    ));
    r.json = json!({
        "file": file,
        "root": root,
        "nodes": doc.nodes.len(),
        "ephemeral": ephemeral,
    });
    Ok(r)
}

/// Fails (before anything is written) if a node of `plan` exists.
async fn check_absent(c: &Client, plan: &[DumpNode]) -> Result<(), CliError> {
    let paths: Vec<String> = plan.iter().map(|n| n.path.clone()).collect();
    let found = for_each_path(c, &paths, |c, p| async move { c.exists(&p, false).await }).await;
    let mut existing = Vec::new();
    for (p, res) in paths.iter().zip(found) {
        match res {
            Ok(Some(_)) => existing.push(p),
            Ok(None) => {}
            Err(e) => return Err(CliError::from_client(e, p)),
        }
    }
    match existing.as_slice() {
        [] => Ok(()),
        [one] => Err(CliError::Other(format!(
            "Node already exists: {one}; nothing was loaded"
        ))),
        [first, rest @ ..] => Err(CliError::Other(format!(
            "Node already exists: {first} (and {} more); nothing was loaded",
            rest.len()
        ))),
    }
}

/// `load file [path]`.
pub async fn load(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    arg_count(spec, p, 2..=3)?;
    let file = need_arg(spec, p, 1)?;
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::Other(format!("cannot read {file}: {e}")))?;
    let bad = |e: String| CliError::Other(format!("{file} is not a ferrozk dump: {e}"));
    let v: Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let doc = DumpDoc::from_json(&v).map_err(bad)?;
    let target = p.arg(2).unwrap_or(&doc.root).to_string();
    path::validate(&target, false).map_err(|e| CliError::from_client(e.into(), &target))?;
    let mut plan = plan_load(&doc, &target).map_err(bad)?;
    // The root always exists: a dump of "/" (or a load into it) leaves it be.
    plan.retain(|n| n.path != "/");
    let c = client(sh);
    check_absent(c, &plan).await?;
    let mut created = 0;
    for batch in batches(&plan) {
        let ops = batch
            .iter()
            .map(|n| Op::Create {
                path: n.path.clone(),
                data: n.data.clone(),
                acl: n.acl.clone(),
                mode: n.kind.mode(),
            })
            .collect();
        if let Err(e) = c.multi_checked(ops).await {
            let at = match &e {
                ZkError::Multi { index, .. } => batch.get(*index).map(|n| n.path.clone()),
                _ => None,
            };
            let err = CliError::from_client(e, at.as_deref().unwrap_or(&target));
            if created == 0 {
                return Err(err);
            }
            return Err(CliError::Other(format!(
                "{err} ({} created before the failure)",
                plural(created as i64, "node was", "nodes were")
            )));
        }
        created += batch.len();
    }
    let mut r = Reply::new();
    r.note(format!(
        "Created {} under {target}",
        plural(created as i64, "node", "nodes")
    ));
    r.json = json!({ "file": file, "path": target, "created": created });
    Ok(r)
}

// ---------------------------------------------------------------- watch

/// The running `watch` command's Ctrl-C channel.
static INTERRUPT: Mutex<Option<mpsc::UnboundedSender<()>>> = Mutex::new(None);
static LISTEN: Once = Once::new();

/// Routes SIGINT, from the first `watch` on, to the running `watch`. When
/// none runs: the interactive loop has its own Ctrl-C handling, so nothing
/// is done; otherwise the process ends with status 130, as SIGINT's default
/// action would have (tokio keeps its handler installed for good, so
/// without this a later Ctrl-C would do nothing).
fn listen_for_interrupts(interactive: bool) {
    LISTEN.call_once(|| {
        tokio::spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                let tx = INTERRUPT.lock().unwrap_or_else(|e| e.into_inner()).clone();
                match tx {
                    Some(tx) => {
                        let _ = tx.send(());
                    }
                    None if interactive => {}
                    None => std::process::exit(130),
                }
            }
        });
    });
}

/// Takes Ctrl-C for as long as it lives.
struct InterruptGuard(mpsc::UnboundedReceiver<()>);

impl InterruptGuard {
    fn take(interactive: bool) -> InterruptGuard {
        let (tx, rx) = mpsc::unbounded_channel();
        *INTERRUPT.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
        listen_for_interrupts(interactive);
        InterruptGuard(rx)
    }
}

impl Drop for InterruptGuard {
    fn drop(&mut self) {
        *INTERRUPT.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Waits for Ctrl-C (true) or the end of the session (false).
async fn wait_for_end(sh: &Shell) -> bool {
    let mut guard = InterruptGuard::take(sh.interactive());
    loop {
        tokio::select! {
            _ = guard.0.recv() => return true,
            _ = tokio::time::sleep(Duration::from_millis(200)) => {
                if !sh.alive() {
                    return false;
                }
            }
        }
    }
}

/// Removes the watch: PersistentRecursive where the server knows that type
/// (3.9), else Any, which is how 3.8 servers (and ferrozk) remove it.
async fn remove_recursive_watch(c: &Client, p: &str) -> Result<(), ZkError> {
    match c
        .remove_watches(p, WatcherType::PersistentRecursive, false)
        .await
    {
        Err(e) if is(&e, ErrorCode::MarshallingError) || is(&e, ErrorCode::BadArguments) => {
            c.remove_watches(p, WatcherType::Any, false).await
        }
        r => r,
    }
}

/// `watch path`: every event under `path` is printed by the shell's event
/// printer (once: the server sends one notification per change to a
/// session), which is switched on for the duration if `printwatches off`.
pub async fn watch(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    arg_count(spec, p, 2..=2)?;
    let path = need_arg(spec, p, 1)?.to_string();
    let c = client(sh).clone();
    c.add_watch(&path, AddWatchMode::PersistentRecursive)
        .await
        .map_err(|e| CliError::from_client(e, &path))?;
    let printing = sh.print_watches.swap(true, Ordering::SeqCst);
    // Said now, not with the reply: the command runs until interrupted.
    eprintln!("Watching {path} and everything under it; press Ctrl-C to stop");
    let interrupted = wait_for_end(sh).await;
    let removed = if interrupted {
        let r = remove_recursive_watch(&c, &path).await;
        // The removal event is queued before the reply completed: print it
        // while printwatches is still on.
        sh.flush_events().await;
        r
    } else {
        Ok(())
    };
    sh.print_watches.store(printing, Ordering::SeqCst);
    if !interrupted {
        return Err(CliError::Other(format!(
            "Stopped watching {path}: the session ended ({})",
            sh.state_name()
        )));
    }
    let mut r = Reply::new();
    match removed {
        Ok(()) => r.note(format!("Stopped watching {path}")),
        Err(e) if is(&e, ErrorCode::NoWatcher) => r.note(format!("Stopped watching {path}")),
        Err(e) => r.note(format!(
            "Stopped watching {path}, but the watch may remain: {}",
            CliError::from_client(e, &path)
        )),
    }
    r.json = json!({ "path": path, "watching": false });
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::find;
    use crate::words::{parse_flags, split_line};

    fn parsed(line: &str) -> (Spec, Parsed) {
        let words = split_line(line);
        let spec = *find(&words[0]).unwrap();
        let p = parse_flags(&spec.flags, &words).unwrap();
        (spec, p)
    }

    #[test]
    fn dump_writes_where_asked() {
        let out = |line: &str| {
            let (spec, p) = parsed(line);
            dump_output(&spec, &p).map_err(|e| e.to_string())
        };
        assert_eq!(out("dump /a"), Ok(("/a".into(), None)));
        assert_eq!(
            out("dump /a > f.json"),
            Ok(("/a".into(), Some("f.json".into())))
        );
        assert_eq!(
            out("dump /a >f.json"),
            Ok(("/a".into(), Some("f.json".into())))
        );
        assert_eq!(out("dump -o f /a"), Ok(("/a".into(), Some("f".into()))));
        assert_eq!(
            out("dump /a > 'my file'"),
            Ok(("/a".into(), Some("my file".into())))
        );
        assert_eq!(out("dump"), Err("dump path [> file]".into()));
        assert_eq!(out("dump > f"), Err("dump path [> file]".into()));
        assert_eq!(out("dump /a /b"), Err("dump path [> file]".into()));
        assert!(out("dump -o g /a > f").unwrap_err().contains("once"));
    }
}
