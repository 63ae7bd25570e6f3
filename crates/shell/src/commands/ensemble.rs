//! The ensemble commands: config (getConfig, `-c` for the client connect
//! string), reconfig (incremental, `-members`, `-file`), version, close.
//!
//! The Java library behaviour zkCli's output depends on here (config
//! files, Java's map orders, server addresses) is in [`dynconfig`].

mod dynconfig;

use serde_json::json;

use super::{client, Spec};
use crate::error::CliError;
use crate::format;
use crate::shell::{Reply, Shell};
use crate::words::Parsed;
use dynconfig::{client_config_str, members_from_file};

/// `config [-c] [-w] [-s]`.
pub async fn config(sh: &mut Shell, _spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    let (data, stat) = client(sh)
        .get_config(p.has("w"))
        .await
        .map_err(|e| CliError::from_client(e, "/zookeeper/config"))?;
    let text = data.map(|d| String::from_utf8_lossy(&d).into_owned());
    let shown = text.clone().unwrap_or_else(|| "null".to_string());
    let mut r = Reply::new();
    let mut client_config = None;
    if p.has("c") {
        let (line, notes) = client_config_str(&shown);
        for n in notes {
            r.note(n);
        }
        r.line(&line);
        client_config = Some(line);
    } else {
        r.line(&shown);
    }
    if p.has("s") {
        r.out.push_str(&format::stat_text(&stat));
    }
    r.json = json!({
        "config": text,
        "clientConfig": client_config,
        "stat": format::stat_json(&stat),
    });
    Ok(r)
}

/// `reconfig [-s] [-v version] [[-file path] | [-members ...]] | [-add ...]* [-remove ...]`.
pub async fn reconfig(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    let req = ReconfigRequest::from_flags(spec, p)?;
    let (data, stat) = client(sh)
        .reconfig(
            req.joining.as_deref(),
            req.leaving.as_deref(),
            req.members.as_deref(),
            req.version,
        )
        .await
        .map_err(|e| CliError::from_client(e, ""))?;
    let text = data.map(|d| String::from_utf8_lossy(&d).into_owned());
    let mut r = Reply::new();
    r.line(format!(
        "Committed new configuration:\n{}",
        text.as_deref().unwrap_or("null")
    ));
    if p.has("s") {
        r.out.push_str(&format::stat_text(&stat));
    }
    r.json = json!({ "config": text, "stat": format::stat_json(&stat) });
    Ok(r)
}

/// What reconfig sends, checked as `ReconfigCommand.parse` checks it.
#[derive(Debug, Default, PartialEq, Eq)]
struct ReconfigRequest {
    joining: Option<String>,
    leaving: Option<String>,
    members: Option<String>,
    version: i64,
}

impl ReconfigRequest {
    fn from_flags(spec: &Spec, p: &Parsed) -> Result<ReconfigRequest, CliError> {
        let (file, members) = (p.value("file"), p.value("members"));
        let (add, remove) = (p.value("add"), p.value("remove"));
        let bulk = p.has("file") || p.has("members");
        let incremental = p.has("add") || p.has("remove");
        if !bulk && !incremental {
            return Err(CliError::Parse(spec.usage()));
        }
        let version = match p.value("v") {
            Some(v) => i64::from_str_radix(v, 16).map_err(|_| {
                CliError::Parse("-v must be followed by a long (configuration version)".into())
            })?,
            None => -1,
        };
        if bulk && incremental {
            return Err(CliError::Parse(
                "Can't use -file or -members together with -add or -remove (mixing incremental \
and non-incremental modes is not allowed)"
                    .into(),
            ));
        }
        if p.has("file") && p.has("members") {
            return Err(CliError::Parse(
                "Can't use -file and -members together (conflicting non-incremental modes)".into(),
            ));
        }
        let lower = |s: Option<&str>| s.map(str::to_lowercase);
        let mut req = ReconfigRequest {
            joining: lower(add),
            leaving: lower(remove),
            members: lower(members),
            version,
        };
        if let Some(file) = file {
            let members = members_from_file(file)
                .map_err(|e| CliError::Parse(format!("Error processing {file}{e}")))?;
            req.members = Some(members);
        }
        Ok(req)
    }
}

/// `version`: zkCli prints its build's version; this is not zkCli, so it
/// names itself (and the zkCli it follows) instead of claiming a
/// ZooKeeper release.
pub async fn version(_sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    if p.args.len() > 1 {
        return Err(CliError::Parse(spec.usage()));
    }
    let v = env!("CARGO_PKG_VERSION");
    let mut r = Reply::new();
    r.line(format!(
        "ZooKeeper CLI version: ferrozk-shell {v} (compatible with zkCli 3.8.0)"
    ));
    r.json = json!({ "name": "ferrozk-shell", "version": v, "compatibleWith": "zkCli 3.8.0" });
    Ok(r)
}

/// `close`: ends the session; the state change is reported like any
/// other and later commands print `Not connected` until `connect`.
pub async fn close(sh: &mut Shell, _spec: &Spec, _p: &Parsed) -> Result<Reply, CliError> {
    client(sh)
        .close()
        .await
        .map_err(|e| CliError::from_client(e, ""))?;
    // The Closed event is queued; the shell prints it before this reply.
    Ok(Reply::new().with_json(json!({ "state": "CLOSED" })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reconfig_req(line: &str) -> Result<ReconfigRequest, String> {
        let words = crate::words::split_line(line);
        let spec = *crate::commands::find("reconfig").unwrap();
        let p = crate::words::parse_flags(&spec.flags, &words).unwrap();
        ReconfigRequest::from_flags(&spec, &p).map_err(|e| e.to_string())
    }

    #[test]
    fn reconfig_arguments() {
        let r = reconfig_req("reconfig -add SERVER.5=H:1:2;3 -remove 3 -v ff").unwrap();
        assert_eq!(
            r.joining.as_deref(),
            Some("server.5=h:1:2;3"),
            "lowercased as zkCli does"
        );
        assert_eq!((r.leaving.as_deref(), r.version), (Some("3"), 255));
        assert_eq!(
            reconfig_req("reconfig -members server.1=a:1:2")
                .unwrap()
                .version,
            -1
        );
        assert!(reconfig_req("reconfig -s")
            .unwrap_err()
            .starts_with("reconfig [-s] [-v version]"));
        assert_eq!(
            reconfig_req("reconfig -v zz -remove 3").unwrap_err(),
            "-v must be followed by a long (configuration version)"
        );
        assert!(reconfig_req("reconfig -file f -add 3")
            .unwrap_err()
            .starts_with("Can't use -file or -members together with -add or -remove"));
        assert_eq!(
            reconfig_req("reconfig -file f -members 3").unwrap_err(),
            "Can't use -file and -members together (conflicting non-incremental modes)"
        );
        assert_eq!(
            reconfig_req("reconfig -file /nonexist").unwrap_err(),
            "Error processing /nonexist/nonexist (No such file or directory)"
        );
    }
}
