//! The ACL commands: getAcl, setAcl (with `-R`), addauth, whoami, and
//! zkCli's `AclParser` (`parse_acl`), which create's ACL argument uses too.
//!
//! Also the subtree walk of `ZKUtil.visitSubTreeDFS` ([`SubtreeWalk`]),
//! shared with the quota checks, and [`emit_partial`] for the commands
//! that print part of their output before they fail.

use std::collections::VecDeque;

use ferrozk_client::{Client, ErrorCode, Id, ACL};
use ferrozk_proto::ops::perms;
use serde_json::{json, Value};

use super::nodes::{join, need_arg};
use super::{client, Spec};
use crate::error::{keeper_exception_message, CliError};
use crate::format;
use crate::shell::{Reply, Shell};
use crate::words::Parsed;

/// zkCli's `AclParser.parse`: `scheme:id:perms` entries separated by
/// commas. The id is everything between the first and the last colon, so
/// `digest:user:hash:cdrwa` and `ip:10.0.0.0/8:r` both work. A malformed
/// entry is skipped and an unknown permission letter ignored, each with
/// zkCli's warning on stderr (printed at once, as zkCli does, so it comes
/// before any error of the command).
///
/// An empty result is what the Java client's `validateACL` refuses before
/// anything is sent: that is the `Err` here (`Acl is not valid : null`).
/// The Java client checks the path before the ACL, so a caller that wants
/// zkCli's order for a bad path and an empty ACL checks the path first
/// (see [`parse_acl_entries`]).
pub fn parse_acl(s: &str) -> Result<Vec<ACL>, CliError> {
    let acl = parse_acl_entries(s);
    if acl.is_empty() {
        return Err(invalid_acl());
    }
    Ok(acl)
}

/// [`parse_acl`] without the empty-list check: every well-formed entry.
pub fn parse_acl_entries(s: &str) -> Vec<ACL> {
    let (acl, warnings) = parse_acl_quiet(s);
    for w in warnings {
        eprintln!("{w}");
    }
    acl
}

/// The `InvalidACLException` the Java client throws itself (no path).
pub fn invalid_acl() -> CliError {
    CliError::Keeper {
        code: ErrorCode::InvalidAcl,
        path: "null".into(),
    }
}

/// The parse, with the warnings returned instead of printed.
fn parse_acl_quiet(s: &str) -> (Vec<ACL>, Vec<String>) {
    let mut acl = Vec::new();
    let mut warnings = Vec::new();
    for a in java_split(s, ',') {
        let (Some(first), Some(last)) = (a.find(':'), a.rfind(':')) else {
            warnings.push(format!("{a} does not have the form scheme:id:perm"));
            continue;
        };
        if first == last {
            warnings.push(format!("{a} does not have the form scheme:id:perm"));
            continue;
        }
        acl.push(ACL {
            perms: perms_from_string(&a[last + 1..], &mut warnings),
            id: Id {
                scheme: a[..first].to_string(),
                id: a[first + 1..last].to_string(),
            },
        });
    }
    (acl, warnings)
}

/// `AclParser.getPermFromString`.
fn perms_from_string(s: &str, warnings: &mut Vec<String>) -> i32 {
    let mut p = 0;
    for c in s.chars() {
        match c {
            'r' => p |= perms::READ,
            'w' => p |= perms::WRITE,
            'c' => p |= perms::CREATE,
            'd' => p |= perms::DELETE,
            'a' => p |= perms::ADMIN,
            other => warnings.push(format!("Unknown perm type: {other}")),
        }
    }
    p
}

/// Java's `String.split` on one character: trailing empty pieces are
/// dropped (so `","` gives none), leading and inner ones kept, and a
/// string without the separator is its own single piece (`""` too).
pub(crate) fn java_split(s: &str, sep: char) -> Vec<&str> {
    if !s.contains(sep) {
        return vec![s];
    }
    let mut parts: Vec<&str> = s.split(sep).collect();
    while parts.last() == Some(&"") {
        parts.pop();
    }
    parts
}

/// Java's `Integer.parseInt`, with the `NumberFormatException` message
/// (zkCli does not catch it; the shell reports it and goes on).
pub(crate) fn java_int(s: &str) -> Result<i32, CliError> {
    s.parse::<i32>()
        .map_err(|_| CliError::Other(format!("For input string: \"{s}\"")))
}

/// Prints what a command produced before it failed: zkCli has printed it
/// by then. Stdout text is left out in JSON mode, where the error
/// document is the whole answer.
pub(crate) fn emit_partial(sh: &Shell, r: &Reply) {
    use std::io::Write;
    if !r.err.is_empty() {
        eprint!("{}", r.err);
    }
    if !sh.json() && !r.out.is_empty() {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(r.out.as_bytes());
        let _ = o.flush();
    }
}

/// `ZKUtil.visitSubTreeDFS`: the root (after a `getData` that must
/// succeed), then, for each node in turn, all its children in sorted
/// order before any grandchild of theirs. Nodes are produced one at a
/// time so the caller acts on a node before its children are listed (what
/// setAcl -R does can change whether they can be). A node deleted during
/// the walk is skipped.
pub(crate) struct SubtreeWalk {
    root: Option<String>,
    /// Nodes to hand out, in order.
    pending: VecDeque<String>,
    /// Nodes whose children are still to be listed (the next on top).
    stack: Vec<String>,
}

impl SubtreeWalk {
    pub(crate) fn new(root: &str) -> SubtreeWalk {
        SubtreeWalk {
            root: Some(root.to_string()),
            pending: VecDeque::new(),
            stack: Vec::new(),
        }
    }

    /// The next node, `None` at the end. Errors are the client's, on the
    /// node that failed.
    pub(crate) async fn next(&mut self, c: &Client) -> Result<Option<String>, CliError> {
        if let Some(root) = self.root.take() {
            c.get_data(&root, false)
                .await
                .map_err(|e| CliError::from_client(e, &root))?;
            self.stack.push(root.clone());
            return Ok(Some(root));
        }
        loop {
            if let Some(p) = self.pending.pop_front() {
                return Ok(Some(p));
            }
            let Some(node) = self.stack.pop() else {
                return Ok(None);
            };
            let mut children = match c.get_children(&node, false).await {
                Ok(ch) => ch,
                Err(e) if e.code() == Some(ErrorCode::NoNode) => continue,
                Err(e) => return Err(CliError::from_client(e, &node)),
            };
            children.sort();
            let paths: Vec<String> = children.iter().map(|ch| join(&node, ch)).collect();
            self.stack.extend(paths.iter().rev().cloned());
            self.pending.extend(paths);
        }
    }
}

/// `getAcl [-s] path`.
pub async fn get_acl(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    let path = need_arg(spec, p, 1)?;
    let (acl, stat) = client(sh)
        .get_acl(path)
        .await
        .map_err(|e| CliError::from_client(e, path))?;
    let mut r = Reply::new();
    r.out.push_str(&format::acl_text(&acl));
    if p.has("s") {
        r.out.push_str(&format::stat_text(&stat));
    }
    r.json = json!({
        "path": path,
        "acl": format::acl_json(&acl),
        "stat": format::stat_json(&stat),
    });
    Ok(r)
}

/// `setAcl [-s] [-v version] [-R] path acl`. With `-R` every node of the
/// subtree gets the ACL (and `-s` is ignored, as in zkCli); a node that
/// refuses is reported on stdout with the exception's message, without a
/// newline, exactly as zkCli prints it, and the walk goes on.
pub async fn set_acl(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    if p.args.len() < 3 {
        return Err(CliError::Parse(spec.usage()));
    }
    let (path, acl_str) = (&p.args[1], &p.args[2]);
    let acl = parse_acl_entries(acl_str);
    let version = match p.value("v") {
        Some(v) => java_int(v)?,
        None => -1,
    };
    if p.has("R") {
        return set_acl_recursive(sh, path, &acl, version).await;
    }
    if acl.is_empty() {
        // The Java client validates the path, then the ACL.
        ferrozk_proto::path::validate(path, false)
            .map_err(|e| CliError::from_client(e.into(), path))?;
        return Err(invalid_acl());
    }
    let stat = client(sh)
        .set_acl(path, &acl, version)
        .await
        .map_err(|e| CliError::from_client(e, path))?;
    let mut r = Reply::new();
    if p.has("s") {
        r.out.push_str(&format::stat_text(&stat));
    }
    r.json = json!({
        "path": path,
        "acl": format::acl_json(&acl),
        "stat": format::stat_json(&stat),
    });
    Ok(r)
}

async fn set_acl_recursive(
    sh: &Shell,
    path: &str,
    acl: &[ACL],
    version: i32,
) -> Result<Reply, CliError> {
    let c = client(sh);
    let mut r = Reply::new();
    let mut updated = Vec::new();
    let mut failed = Vec::new();
    let mut walk = SubtreeWalk::new(path);
    loop {
        let node = match walk.next(c).await {
            Ok(Some(n)) => n,
            Ok(None) => break,
            Err(e) => {
                emit_partial(sh, &r);
                return Err(e);
            }
        };
        let result = if acl.is_empty() {
            Err(keeper_exception_message(ErrorCode::InvalidAcl, ""))
        } else {
            c.set_acl(&node, acl, version)
                .await
                .map_err(|e| match e.code() {
                    Some(code) => keeper_exception_message(code, &node),
                    None => CliError::from_client(e, &node).to_string(),
                })
        };
        match result {
            Ok(_) => updated.push(Value::String(node)),
            Err(msg) => {
                r.out.push_str(&msg);
                failed.push(json!({ "path": node, "error": msg }));
            }
        }
    }
    r.json = json!({
        "path": path,
        "acl": format::acl_json(acl),
        "recursive": true,
        "updated": updated,
        "failed": failed,
    });
    Ok(r)
}

/// `addauth scheme auth`. zkCli hands the identity to the client and does
/// not wait; a rejected identity ends the session (the state change is
/// reported like any other, later commands print `Not connected`) and the
/// command itself still succeeds silently, as in zkCli. Without `auth`
/// zkCli sends no data at all; ferrozk's client can only send an empty
/// one, which servers may accept where zkCli's is refused.
pub async fn addauth(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    let scheme = need_arg(spec, p, 1)?;
    let auth = p.arg(2).unwrap_or("");
    let result = client(sh).add_auth(scheme, auth.as_bytes()).await;
    let failed = match result {
        Ok(()) => None,
        Err(e) => Some(match e.code() {
            Some(code) => format!("{code:?}"),
            None => e.to_string(),
        }),
    };
    Ok(Reply::new().with_json(json!({
        "scheme": scheme,
        "authenticated": failed.is_none(),
        "error": failed,
    })))
}

/// `whoami`: the identities the server has for this connection.
pub async fn whoami(sh: &mut Shell, _spec: &Spec, _p: &Parsed) -> Result<Reply, CliError> {
    let infos = client(sh)
        .who_am_i()
        .await
        .map_err(|e| CliError::from_client(e, ""))?;
    let mut r = Reply::new();
    r.line("Auth scheme: User");
    for i in &infos {
        r.line(format!("{}: {}", i.auth_scheme, i.user));
    }
    r.json = json!({
        "clientInfo": infos
            .iter()
            .map(|i| json!({ "authScheme": i.auth_scheme, "user": i.user }))
            .collect::<Vec<_>>(),
    });
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(s: &str) -> (Vec<(String, String, i32)>, Vec<String>) {
        let (acl, w) = parse_acl_quiet(s);
        let acl = acl
            .into_iter()
            .map(|a| (a.id.scheme, a.id.id, a.perms))
            .collect();
        (acl, w)
    }

    fn e(scheme: &str, id: &str, perms: i32) -> (String, String, i32) {
        (scheme.into(), id.into(), perms)
    }

    #[test]
    fn acl_strings_as_zkcli_reads_them() {
        assert_eq!(parsed("world:anyone:cdrwa").0, [e("world", "anyone", 31)]);
        assert_eq!(
            parsed("digest:user:hash=:cdrwa").0,
            [e("digest", "user:hash=", 31)],
            "the id runs from the first to the last colon"
        );
        assert_eq!(parsed("ip:10.0.0.0/8:r").0, [e("ip", "10.0.0.0/8", 1)]);
        assert_eq!(parsed("ip:::1:rw").0, [e("ip", "::1", 3)]);
        assert_eq!(parsed("auth::cdrwa").0, [e("auth", "", 31)]);
        assert_eq!(parsed("world:anyone:").0, [e("world", "anyone", 0)]);
        assert_eq!(
            parsed("world:anyone:r,ip:127.0.0.1:rwcda").0,
            [e("world", "anyone", 1), e("ip", "127.0.0.1", 31)]
        );
    }

    #[test]
    fn acl_warnings_are_zkclis() {
        let (acl, w) = parsed("world:anyone:rq,foo");
        assert_eq!(acl, [e("world", "anyone", 1)]);
        assert_eq!(
            w,
            [
                "Unknown perm type: q",
                "foo does not have the form scheme:id:perm"
            ]
        );
        let (acl, w) = parsed("world:anyone:r,,ip:1.2.3.4:r");
        assert_eq!(acl.len(), 2);
        assert_eq!(w, [" does not have the form scheme:id:perm"]);
        assert_eq!(
            parsed("a:b").1,
            ["a:b does not have the form scheme:id:perm"]
        );
        // Trailing empty entries vanish, as with Java's split.
        assert_eq!(parsed(",").1, Vec::<String>::new());
        assert_eq!(parsed("world:anyone:r,,").1, Vec::<String>::new());
        assert_eq!(
            parse_acl_quiet("world:anyone:xyz").1,
            [
                "Unknown perm type: x",
                "Unknown perm type: y",
                "Unknown perm type: z"
            ]
        );
    }

    #[test]
    fn an_empty_acl_is_the_clients_invalid_acl() {
        assert_eq!(
            parse_acl(",").unwrap_err().to_string(),
            "Acl is not valid : null"
        );
        assert_eq!(parse_acl("world:anyone:r").unwrap().len(), 1);
    }

    #[test]
    fn java_helpers() {
        assert_eq!(java_split("a,,b,,", ','), ["a", "", "b"]);
        assert_eq!(java_split(",a", ','), ["", "a"]);
        assert_eq!(java_split("", ','), [""]);
        assert_eq!(java_int("+7").unwrap(), 7);
        assert_eq!(
            java_int("x").unwrap_err().to_string(),
            "For input string: \"x\""
        );
        assert!(java_int("99999999999").is_err());
    }
}
