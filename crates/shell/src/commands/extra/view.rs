//! The tree view of `tree`: the `tree` tool's drawing and the nested JSON
//! form, from a tree already fetched (pure, so it is tested without a
//! server).

use ferrozk_client::Stat;
use serde_json::{json, Value};

/// A node of a fetched tree; `children` index into the same list and
/// always come after their parent (breadth-first order).
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct TreeNode {
    pub(super) path: String,
    pub(super) name: String,
    pub(super) stat: Stat,
    pub(super) children: Vec<usize>,
    /// Its children were listed (false at the depth limit).
    pub(super) expanded: bool,
    /// getChildren answered NoAuth: stat from exists, children unknown.
    pub(super) denied: bool,
    /// Deleted while we walked the tree.
    pub(super) gone: bool,
}

pub(super) fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// What a tree line says after the name: ` (12 bytes, ephemeral)`.
fn tree_notes(n: &TreeNode) -> String {
    let mut notes = Vec::new();
    if n.stat.data_length > 0 {
        notes.push(plural(n.stat.data_length.into(), "byte", "bytes"));
    }
    if n.stat.ephemeral_owner != 0 {
        notes.push("ephemeral".to_string());
    }
    if n.denied {
        notes.push("no read permission".to_string());
    } else if !n.expanded && n.stat.num_children > 0 {
        let hidden = plural(n.stat.num_children.into(), "child", "children");
        notes.push(format!("{hidden} not shown"));
    }
    if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join(", "))
    }
}

/// The tree as the `tree` tool draws it; iterative, so a deep tree cannot
/// exhaust the stack.
pub(super) fn tree_text(nodes: &[TreeNode]) -> String {
    let Some(root) = nodes.first() else {
        return String::new();
    };
    let mut out = format!("{}{}\n", root.path, tree_notes(root));
    // (node, the prefix of its line, whether it is the last child)
    let mut stack: Vec<(usize, String, bool)> = Vec::new();
    let push_children = |stack: &mut Vec<(usize, String, bool)>, i: usize, prefix: &str| {
        let kids: Vec<usize> = nodes[i]
            .children
            .iter()
            .copied()
            .filter(|&k| !nodes[k].gone)
            .collect();
        for (n, &k) in kids.iter().enumerate().rev() {
            stack.push((k, prefix.to_string(), n + 1 == kids.len()));
        }
    };
    push_children(&mut stack, 0, "");
    while let Some((i, prefix, last)) = stack.pop() {
        let n = &nodes[i];
        let branch = if last { "└── " } else { "├── " };
        out.push_str(&format!("{prefix}{branch}{}{}\n", n.name, tree_notes(n)));
        let below = format!("{prefix}{}", if last { "    " } else { "│   " });
        push_children(&mut stack, i, &below);
    }
    out
}

/// The tree as nested `{"path","name",…,"children":[…]}`, built bottom-up
/// (children come after their parents in `nodes`).
pub(super) fn tree_json(nodes: &[TreeNode]) -> Value {
    let mut built: Vec<Option<Value>> = vec![None; nodes.len()];
    for i in (0..nodes.len()).rev() {
        let n = &nodes[i];
        if n.gone {
            continue;
        }
        let children: Vec<Value> = n.children.iter().filter_map(|&k| built[k].take()).collect();
        let mut v = json!({
            "path": n.path,
            "name": n.name,
            "dataLength": n.stat.data_length,
            "numChildren": n.stat.num_children,
            "ephemeralOwner": n.stat.ephemeral_owner,
            "children": children,
        });
        if n.denied {
            v["noReadPermission"] = json!(true);
        }
        built[i] = Some(v);
    }
    built
        .first_mut()
        .and_then(Option::take)
        .unwrap_or(Value::Null)
}
#[cfg(test)]
mod tests {
    use super::*;
    use ferrozk_proto::path;

    fn tnode(path: &str, children: Vec<usize>, len: i32, kids: i32) -> TreeNode {
        TreeNode {
            path: path.into(),
            name: path::basename(path).into(),
            stat: Stat {
                data_length: len,
                num_children: kids,
                ..Stat::default()
            },
            expanded: !children.is_empty() || kids == 0,
            children,
            ..TreeNode::default()
        }
    }

    #[test]
    fn tree_is_drawn_like_the_tree_tool() {
        let mut nodes = vec![
            tnode("/", vec![1, 2, 3], 0, 3),
            tnode("/a", vec![4, 5], 5, 2),
            tnode("/b", vec![], 1, 0),
            tnode("/zookeeper", vec![], 0, 2),
            tnode("/a/x", vec![6], 0, 1),
            tnode("/a/y", vec![], 0, 0),
            tnode("/a/x/deep", vec![], 0, 0),
        ];
        nodes[5].stat.ephemeral_owner = 0x1234;
        nodes[3].expanded = false;
        let want = "/\n\
├── a (5 bytes)\n\
│   ├── x\n\
│   │   └── deep\n\
│   └── y (ephemeral)\n\
├── b (1 byte)\n\
└── zookeeper (2 children not shown)\n";
        assert_eq!(tree_text(&nodes), want);
        let v = tree_json(&nodes);
        assert_eq!(v["path"], "/");
        assert_eq!(v["children"][0]["name"], "a");
        assert_eq!(
            v["children"][0]["children"][0]["children"][0]["path"],
            "/a/x/deep"
        );
        assert_eq!(v["children"][2]["numChildren"], 2);
        // A node deleted during the walk is left out.
        nodes[5].gone = true;
        assert!(tree_text(&nodes).contains("│   └── x\n│       └── deep\n"));
        assert_eq!(v["children"][0]["children"].as_array().unwrap().len(), 2);
        assert_eq!(
            tree_json(&nodes)["children"][0]["children"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }
}
