//! The documents of `dump` and `load`: the node model, its JSON form
//! ([`DUMP_FORMAT`]), and the plan of a load (relocation, parents first,
//! `multi` batches). Pure, so it is tested without a server.

use std::collections::HashSet;

use base64::Engine;
use bytes::Bytes;
use ferrozk_client::{CreateMode, Id, ACL};
use ferrozk_proto::ops::perms;
use ferrozk_proto::path;
use serde_json::{json, Value};

use crate::commands::nodes::join;
use crate::format;
/// The `format` field of the documents `dump` writes and `load` reads.
pub const DUMP_FORMAT: &str = "ferrozk-dump/1";
/// A load batch holds at most this many creates...
const BATCH_OPS: usize = 1000;
/// ...and about this many bytes, well below ZooKeeper's default 1 MB
/// `jute.maxbuffer` for the request.
const BATCH_BYTES: usize = 512 * 1024;

/// How a node is (re)created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NodeKind {
    Persistent,
    Container,
    /// With its TTL in ms.
    Ttl(i64),
}

impl NodeKind {
    pub(super) fn mode(self) -> CreateMode {
        match self {
            NodeKind::Persistent => CreateMode::Persistent,
            NodeKind::Container => CreateMode::Container,
            NodeKind::Ttl(ms) => CreateMode::PersistentWithTtl(ms),
        }
    }
}

/// One node of a dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DumpNode {
    pub(super) path: String,
    /// `None`: the node's data is null (not empty).
    pub(super) data: Option<Bytes>,
    pub(super) acl: Vec<ACL>,
    pub(super) kind: NodeKind,
}

/// A dump: the subtree of `root`, every node's path absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DumpDoc {
    pub(super) root: String,
    pub(super) nodes: Vec<DumpNode>,
}

fn node_json(n: &DumpNode) -> Value {
    let mut v = json!({ "path": n.path });
    v["type"] = json!(match n.kind {
        NodeKind::Persistent => "persistent",
        NodeKind::Container => "container",
        NodeKind::Ttl(_) => "ttl",
    });
    if let NodeKind::Ttl(ms) = n.kind {
        v["ttl"] = json!(ms);
    }
    v["data"] = format::data_json(n.data.as_deref());
    v["acl"] = format::acl_json(&n.acl);
    v
}

impl DumpDoc {
    /// `{"format","root","nodes":[{"path","type","data","acl"},…]}`; data
    /// is `null`, `{"text": …}` or `{"base64": …}`, ACL entries are
    /// `{"scheme","id","perms":"cdrwa"}`.
    pub(super) fn to_json(&self) -> Value {
        json!({
            "format": DUMP_FORMAT,
            "root": self.root,
            "nodes": self.nodes.iter().map(node_json).collect::<Vec<_>>(),
        })
    }

    /// Reads a document `to_json` wrote (or a hand-written one): checks the
    /// format, every path, and that every node is under the root.
    pub(super) fn from_json(v: &Value) -> Result<DumpDoc, String> {
        let obj = v.as_object().ok_or("the document is not a JSON object")?;
        match obj.get("format").and_then(Value::as_str) {
            Some(DUMP_FORMAT) => {}
            Some(other) => {
                return Err(format!(
                    "its format is \"{other}\"; this version reads \"{DUMP_FORMAT}\""
                ))
            }
            None => return Err(format!("it has no \"format\": \"{DUMP_FORMAT}\" field")),
        }
        let root = obj
            .get("root")
            .and_then(Value::as_str)
            .ok_or("it has no \"root\" path")?;
        path::validate(root, false).map_err(|e| format!("root: {e}"))?;
        let list = obj
            .get("nodes")
            .and_then(Value::as_array)
            .ok_or("it has no \"nodes\" list")?;
        let mut nodes = Vec::with_capacity(list.len());
        for (i, n) in list.iter().enumerate() {
            let node = node_from_json(n).map_err(|e| format!("node {i}: {e}"))?;
            if relocate(&node.path, root, root).is_none() {
                return Err(format!("node {} is not under the root {root}", node.path));
            }
            nodes.push(node);
        }
        Ok(DumpDoc {
            root: root.to_string(),
            nodes,
        })
    }
}

fn node_from_json(v: &Value) -> Result<DumpNode, String> {
    let path = v
        .get("path")
        .and_then(Value::as_str)
        .ok_or("no \"path\"")?
        .to_string();
    path::validate(&path, false).map_err(|e| e.to_string())?;
    let at = |msg: String| format!("{path}: {msg}");
    let kind = match v.get("type").map(|t| t.as_str().ok_or(t)) {
        None | Some(Ok("persistent")) => NodeKind::Persistent,
        Some(Ok("container")) => NodeKind::Container,
        Some(Ok("ttl")) => match v.get("ttl").and_then(Value::as_i64) {
            Some(ms) if ms > 0 => NodeKind::Ttl(ms),
            _ => return Err(at("a \"ttl\" node needs \"ttl\": milliseconds (> 0)".into())),
        },
        Some(Ok(other)) => {
            return Err(at(format!(
                "unknown type \"{other}\" (persistent, container or ttl)"
            )))
        }
        Some(Err(t)) => return Err(at(format!("\"type\" is {t}, not a string"))),
    };
    let data = data_from_json(v.get("data").unwrap_or(&Value::Null)).map_err(at)?;
    let acl = v
        .get("acl")
        .and_then(Value::as_array)
        .ok_or_else(|| at("no \"acl\" list".into()))?
        .iter()
        .map(acl_from_json)
        .collect::<Result<Vec<_>, _>>()
        .map_err(at)?;
    Ok(DumpNode {
        path,
        data,
        acl,
        kind,
    })
}

/// `null`, `{"text": …}` or `{"base64": …}` (as `format::data_json`).
fn data_from_json(v: &Value) -> Result<Option<Bytes>, String> {
    if v.is_null() {
        return Ok(None);
    }
    if let Some(t) = v.get("text").and_then(Value::as_str) {
        return Ok(Some(Bytes::copy_from_slice(t.as_bytes())));
    }
    if let Some(b) = v.get("base64").and_then(Value::as_str) {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b)
            .map_err(|e| format!("bad base64 data: {e}"))?;
        return Ok(Some(Bytes::from(bytes)));
    }
    Err(format!(
        "\"data\" must be null, {{\"text\": …}} or {{\"base64\": …}}, not {v}"
    ))
}

/// `{"scheme","id","perms"}`; perms are letters (`"cdrwa"`) or the number.
fn acl_from_json(v: &Value) -> Result<ACL, String> {
    let field = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("ACL entry {v} has no \"{k}\""))
    };
    let perms = match v.get("perms") {
        Some(Value::String(s)) => perms_from_letters(s)?,
        Some(Value::Number(n)) => n
            .as_i64()
            .filter(|p| (0..=perms::ALL as i64).contains(p))
            .ok_or_else(|| format!("bad perms {n}"))? as i32,
        _ => return Err(format!("ACL entry {v} has no \"perms\"")),
    };
    Ok(ACL {
        perms,
        id: Id {
            scheme: field("scheme")?.to_string(),
            id: field("id")?.to_string(),
        },
    })
}

/// The inverse of `format::perm_string`.
fn perms_from_letters(s: &str) -> Result<i32, String> {
    s.chars().try_fold(0, |acc, c| {
        Ok(acc
            | match c {
                'c' => perms::CREATE,
                'd' => perms::DELETE,
                'r' => perms::READ,
                'w' => perms::WRITE,
                'a' => perms::ADMIN,
                _ => return Err(format!("bad permission letter '{c}' in \"{s}\" (cdrwa)")),
            })
    })
}

/// `p` (the root or under it) moved from under `root` to under `target`;
/// `None` if `p` is not in the subtree of `root`.
pub(super) fn relocate(p: &str, root: &str, target: &str) -> Option<String> {
    let rest = if p == root {
        ""
    } else if root == "/" {
        p.strip_prefix('/')?
    } else {
        p.strip_prefix(root)?.strip_prefix('/')?
    };
    Some(if rest.is_empty() {
        target.to_string()
    } else {
        join(target, rest)
    })
}

/// The document as text: the header fields on their own lines, then one
/// node per line, which keeps big dumps readable and diffable.
pub(super) fn pretty(v: &Value) -> String {
    let mut s = String::from("{\n");
    let Some(obj) = v.as_object() else {
        return format!("{v}\n");
    };
    let n = obj.len();
    for (i, (k, val)) in obj.iter().enumerate() {
        let sep = if i + 1 < n { "," } else { "" };
        match val.as_array() {
            Some(items) if k == "nodes" && !items.is_empty() => {
                s.push_str(&format!("  {}: [\n", Value::from(k.as_str())));
                for (j, item) in items.iter().enumerate() {
                    let comma = if j + 1 < items.len() { "," } else { "" };
                    s.push_str(&format!("    {item}{comma}\n"));
                }
                s.push_str(&format!("  ]{sep}\n"));
            }
            _ => s.push_str(&format!("  {}: {val}{sep}\n", Value::from(k.as_str()))),
        }
    }
    s.push_str("}\n");
    s
}

/// The creates of loading `doc` under `target`, parents before children;
/// refuses duplicates and nodes whose parent is neither in the dump nor
/// the parent of `target`.
pub(super) fn plan_load(doc: &DumpDoc, target: &str) -> Result<Vec<DumpNode>, String> {
    let mut seen = HashSet::new();
    let mut plan = Vec::with_capacity(doc.nodes.len());
    for n in &doc.nodes {
        let to = relocate(&n.path, &doc.root, target)
            .ok_or_else(|| format!("node {} is not under the root {}", n.path, doc.root))?;
        if !seen.insert(to.clone()) {
            return Err(format!("node {} appears twice", n.path));
        }
        plan.push(DumpNode {
            path: to,
            ..n.clone()
        });
    }
    let depth = |p: &str| if p == "/" { 0 } else { p.matches('/').count() };
    plan.sort_by_key(|n| depth(&n.path));
    for n in &plan {
        let parent = path::parent(&n.path);
        if n.path != target && parent != "/" && !seen.contains(parent) {
            return Err(format!(
                "node {} is in the dump but its parent is not",
                n.path
            ));
        }
    }
    Ok(plan)
}

/// About how many bytes a create takes in a multi request.
fn op_size(n: &DumpNode) -> usize {
    let acl: usize = n
        .acl
        .iter()
        .map(|a| a.id.scheme.len() + a.id.id.len() + 12)
        .sum();
    32 + n.path.len() + n.data.as_ref().map_or(0, Bytes::len) + acl
}

/// `plan` cut into multi batches of at most `BATCH_OPS` creates and about
/// `BATCH_BYTES` (a node bigger than that goes alone).
pub(super) fn batches(plan: &[DumpNode]) -> Vec<&[DumpNode]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, n) in plan.iter().enumerate() {
        let size = op_size(n);
        if i > start && (i - start >= BATCH_OPS || bytes + size > BATCH_BYTES) {
            out.push(&plan[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < plan.len() {
        out.push(&plan[start..]);
    }
    out
}
#[cfg(test)]
mod tests {
    use super::*;

    fn node(path: &str, data: Option<&[u8]>, kind: NodeKind) -> DumpNode {
        DumpNode {
            path: path.into(),
            data: data.map(Bytes::copy_from_slice),
            acl: ferrozk_client::acls::open_unsafe(),
            kind,
        }
    }

    fn sample() -> DumpDoc {
        let binary: Vec<u8> = (0..=255).collect();
        DumpDoc {
            root: "/a".into(),
            nodes: vec![
                node("/a", Some(b"hello\n\"x\""), NodeKind::Persistent),
                node("/a/bin", Some(&binary), NodeKind::Persistent),
                node("/a/bin/n", None, NodeKind::Container),
                node("/a/e", Some(b""), NodeKind::Ttl(5000)),
                node(
                    "/a/lock-0000000003",
                    Some(&[0xff, 0xfe]),
                    NodeKind::Persistent,
                ),
            ],
        }
    }

    #[test]
    fn dump_documents_round_trip_exactly() {
        let doc = sample();
        let v = doc.to_json();
        assert_eq!(v["format"], DUMP_FORMAT);
        assert_eq!(v["nodes"][0]["data"], json!({"text": "hello\n\"x\""}));
        assert_eq!(v["nodes"][2]["data"], Value::Null);
        assert_eq!(v["nodes"][3]["data"], json!({"text": ""}));
        assert_eq!(v["nodes"][3]["ttl"], 5000);
        assert_eq!(
            v["nodes"][0]["acl"],
            json!([{"scheme": "world", "id": "anyone", "perms": "cdrwa"}])
        );
        let text = pretty(&v);
        let back = DumpDoc::from_json(&serde_json::from_str(&text).unwrap()).unwrap();
        assert_eq!(back, doc);
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(back.nodes[1].data.as_deref(), Some(&all[..]));
    }

    #[test]
    fn bad_documents_are_refused_clearly() {
        let err = |v: Value| DumpDoc::from_json(&v).unwrap_err();
        assert!(err(json!([1])).contains("not a JSON object"));
        assert!(err(json!({"format": "x/2", "root": "/", "nodes": []})).contains("\"x/2\""));
        assert!(err(json!({"root": "/", "nodes": []})).contains("no \"format\""));
        let doc = |n: Value| json!({"format": DUMP_FORMAT, "root": "/a", "nodes": [n]});
        let acl = json!([{"scheme": "world", "id": "anyone", "perms": "cdrwa"}]);
        assert!(err(doc(json!({"path": "/b", "acl": acl}))).contains("not under the root"));
        assert!(err(doc(json!({"path": "/ab", "acl": acl}))).contains("not under the root"));
        assert!(err(doc(json!({"path": "a", "acl": acl}))).contains("start with /"));
        assert!(err(doc(
            json!({"path": "/a", "acl": acl, "data": {"base64": "!"}})
        ))
        .contains("base64"));
        assert!(
            err(doc(json!({"path": "/a", "acl": acl, "type": "ephemeral"})))
                .contains("unknown type")
        );
        assert!(err(doc(json!({"path": "/a", "acl": acl, "type": "ttl"}))).contains("ttl"));
        assert!(err(doc(json!({"path": "/a"}))).contains("no \"acl\""));
        let bad_perm = json!([{"scheme": "world", "id": "anyone", "perms": "rx"}]);
        assert!(err(doc(json!({"path": "/a", "acl": bad_perm}))).contains("'x'"));
        // Optional type, numeric perms.
        let ok = DumpDoc::from_json(&doc(json!({
            "path": "/a/b",
            "acl": [{"scheme": "digest", "id": "u:h", "perms": 5}],
        })))
        .unwrap();
        assert_eq!(ok.nodes[0].kind, NodeKind::Persistent);
        assert_eq!(ok.nodes[0].acl[0].perms, perms::READ | perms::CREATE);
        assert_eq!(perms_from_letters("cdrwa"), Ok(perms::ALL));
        assert_eq!(format::perm_string(perms_from_letters("ra").unwrap()), "ra");
    }

    #[test]
    fn load_puts_parents_first_and_relocates() {
        let mut doc = sample();
        doc.nodes.reverse();
        let plan = plan_load(&doc, "/x/y").unwrap();
        let paths: Vec<&str> = plan.iter().map(|n| n.path.as_str()).collect();
        assert_eq!(paths[0], "/x/y");
        for (i, n) in plan.iter().enumerate() {
            if n.path != "/x/y" {
                let parent = path::parent(&n.path);
                assert!(paths[..i].contains(&parent), "{} before its parent", n.path);
            }
        }
        assert!(paths.contains(&"/x/y/bin/n"));
        assert_eq!(plan_load(&doc, "/a").unwrap().len(), 5);
        assert_eq!(relocate("/a/b", "/", "/c"), Some("/c/a/b".into()));
        assert_eq!(relocate("/", "/", "/c"), Some("/c".into()));
        assert_eq!(relocate("/a/b", "/a", "/"), Some("/b".into()));
        assert_eq!(relocate("/ab", "/a", "/"), None);
        let mut holes = sample();
        holes.nodes.remove(1);
        assert!(plan_load(&holes, "/a").unwrap_err().contains("/a/bin/n"));
        let mut twice = sample();
        twice.nodes.push(twice.nodes[1].clone());
        assert!(plan_load(&twice, "/a").unwrap_err().contains("twice"));
    }

    #[test]
    fn load_batches_respect_limits() {
        let small: Vec<DumpNode> = (0..2500)
            .map(|i| node(&format!("/n{i}"), Some(b"x"), NodeKind::Persistent))
            .collect();
        let sizes: Vec<usize> = batches(&small).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [1000, 1000, 500]);
        let big = vec![0u8; 400 * 1024];
        let large = vec![
            node("/a", Some(&big), NodeKind::Persistent),
            node("/b", Some(&big), NodeKind::Persistent),
            node("/c", Some(b"x"), NodeKind::Persistent),
        ];
        let sizes: Vec<usize> = batches(&large).iter().map(|b| b.len()).collect();
        assert_eq!(sizes, [1, 2]);
        assert!(batches(&[]).is_empty());
    }
}
