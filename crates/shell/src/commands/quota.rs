//! The quota commands: setquota, listquota, delquota, as zkCli 3.8 runs
//! them on the client side: a quota on `/p` is the node
//! `/zookeeper/quota/p/zookeeper_limits` (the limits) next to
//! `zookeeper_stats` (what the server counts, if it enforces quotas),
//! both in `StatsTrack`'s text format. Whether the server enforces them is
//! the server's business; these commands only write and read the nodes,
//! with zkCli's checks (no quota under `/zookeeper/quota`, none on a node
//! whose ancestor or descendant has one) and messages.

use std::collections::BTreeMap;
use std::fmt;

use ferrozk_client::{acls, Client, CreateMode, ErrorCode};
use serde_json::{json, Value};

use super::acl::{java_split, SubtreeWalk};
use super::{client, Spec};
use crate::error::CliError;
use crate::shell::{Reply, Shell};
use crate::words::Parsed;

/// `Quotas.quotaZookeeper`.
const QUOTA_ROOT: &str = "/zookeeper/quota";
/// `Quotas.limitNode`.
const LIMIT_NODE: &str = "zookeeper_limits";
/// `Quotas.statNode`.
const STAT_NODE: &str = "zookeeper_stats";

const COUNT: &str = "count";
const BYTES: &str = "bytes";
const COUNT_HARD: &str = "countHardLimit";
const BYTES_HARD: &str = "byteHardLimit";

/// The quota flags, in the order zkCli's option group lists them, with
/// their descriptions (Commons CLI prints both in its messages).
const GROUP: [(&str, &str); 4] = [
    ("n", "num soft quota"),
    ("b", "bytes soft quota"),
    ("N", "num hard quota"),
    ("B", "bytes hard quota"),
];

/// `StatsTrack`: named counters, `count=..,bytes=..` first, then the
/// others (3.8's hard limits) after a `=;` so 3.4 parsers still read it.
/// A counter that is not there reads as -1.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsTrack {
    stats: BTreeMap<String, i64>,
}

impl StatsTrack {
    /// Parses `key=long` pairs separated by runs of `,` and `;`. The
    /// error is the message of the exception Java's parser throws.
    pub fn parse(s: &str) -> Result<StatsTrack, String> {
        let mut t = StatsTrack::default();
        if s.is_empty() {
            return Ok(t);
        }
        for pair in split_pairs(s) {
            let kv = java_split(pair, '=');
            let (Some(k), Some(v)) = (kv.first(), kv.get(1)) else {
                let index = if kv.is_empty() { 0 } else { 1 };
                return Err(format!(
                    "Index {index} out of bounds for length {}",
                    kv.len()
                ));
            };
            let value = if v.is_empty() {
                -1
            } else {
                v.parse::<i64>()
                    .map_err(|_| format!("For input string: \"{v}\""))?
            };
            t.stats.insert(k.to_string(), value);
        }
        Ok(t)
    }

    /// A counter, -1 when absent.
    pub fn get(&self, key: &str) -> i64 {
        self.stats.get(key).copied().unwrap_or(-1)
    }

    /// Sets a counter.
    pub fn set(&mut self, key: &str, value: i64) {
        self.stats.insert(key.to_string(), value);
    }

    /// The counters as JSON (absent ones as -1, like `get`).
    pub fn json(&self) -> Value {
        let mut m = serde_json::Map::new();
        for k in [COUNT, BYTES, COUNT_HARD, BYTES_HARD] {
            m.insert(k.to_string(), json!(self.get(k)));
        }
        for (k, v) in &self.stats {
            m.entry(k.clone()).or_insert(json!(v));
        }
        Value::Object(m)
    }
}

impl fmt::Display for StatsTrack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "count={},bytes={}", self.get(COUNT), self.get(BYTES))?;
        let mut rest = self
            .stats
            .iter()
            .filter(|(k, _)| *k != COUNT && *k != BYTES)
            .peekable();
        if rest.peek().is_some() {
            f.write_str("=")?;
            for (k, v) in rest {
                write!(f, ";{k}={v}")?;
            }
        }
        Ok(())
    }
}

/// `Pattern.compile("[,;]+").split(s)`: a leading separator gives an
/// empty first piece, trailing empty pieces are dropped.
fn split_pairs(s: &str) -> Vec<&str> {
    let parts: Vec<&str> = s.split([',', ';']).collect();
    let lead = parts.len() > 1 && parts[0].is_empty();
    // A run of separators is one separator, so the empty pieces inside
    // runs go; a leading one stays unless nothing else is left.
    let mut pieces: Vec<&str> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    if lead && !pieces.is_empty() {
        pieces.insert(0, "");
    }
    pieces
}

/// Commons CLI's option-group rules over the flags as given: a second
/// flag of the group fails (`AlreadySelectedException`), and a required
/// group needs one (`MissingOptionException`). The flag that was chosen.
fn group_choice(p: &Parsed, required: bool) -> Result<Option<&'static str>, CliError> {
    let mut selected: Option<&'static str> = None;
    for f in &p.flags {
        let Some((name, _)) = GROUP.iter().find(|(n, _)| *n == f.name) else {
            continue;
        };
        match selected {
            Some(s) if s != *name => {
                return Err(CliError::Parse(format!(
                    "org.apache.commons.cli.AlreadySelectedException: The option '{name}' was \
specified but an option from this group has already been selected: '{s}'"
                )))
            }
            _ => selected = Some(name),
        }
    }
    if required && selected.is_none() {
        let list: Vec<String> = GROUP.iter().map(|(n, d)| format!("-{n} {d}")).collect();
        return Err(CliError::Parse(format!(
            "org.apache.commons.cli.MissingOptionException: Missing required option: [{}]",
            list.join(", ")
        )));
    }
    Ok(selected)
}

fn limit_path(path: &str) -> String {
    format!("{QUOTA_ROOT}{path}/{LIMIT_NODE}")
}

fn stat_path(path: &str) -> String {
    format!("{QUOTA_ROOT}{path}/{STAT_NODE}")
}

/// A client error on `path`, as zkCli reports it.
fn zk_err(path: &str) -> impl Fn(ferrozk_client::Error) -> CliError + '_ {
    move |e| CliError::from_client(e, path)
}

fn is_no_node(e: &CliError) -> bool {
    e.code() == Some(ErrorCode::NoNode)
}

/// The `StatsTrack` stored at `path` (an error if it does not parse:
/// zkCli dies with the exception there).
async fn read_track(c: &Client, path: &str) -> Result<StatsTrack, CliError> {
    let (data, _) = c.get_data(path, false).await.map_err(zk_err(path))?;
    let Some(data) = data else {
        return Err(CliError::Other(format!(
            "{path} has no data: it is not a quota node"
        )));
    };
    StatsTrack::parse(&String::from_utf8_lossy(&data)).map_err(CliError::Other)
}

/// `setquota -n|-b|-N|-B val path`.
pub async fn setquota(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    let flag = group_choice(p, true)?.unwrap_or("n");
    if p.args.len() < 2 {
        return Err(CliError::Parse(spec.usage()));
    }
    let path = p.args[1].as_str();
    let mut r = Reply::new();
    let refuse = |mut r: Reply, msg: String| -> Result<Reply, CliError> {
        r.note(&msg);
        r.json = json!({ "path": path, "set": false, "error": msg });
        Ok(r)
    };
    if path.starts_with(QUOTA_ROOT) {
        return refuse(
            r,
            format!("cannot set a quota under the path: {QUOTA_ROOT}"),
        );
    }
    let mut quota = StatsTrack::default();
    for k in [COUNT, BYTES, COUNT_HARD, BYTES_HARD] {
        quota.set(k, -1);
    }
    let raw = p.value(flag).unwrap_or_default();
    let (key, value) = match flag {
        "n" | "N" => match raw.parse::<i32>() {
            Ok(v) if v > 0 => (if flag == "n" { COUNT } else { COUNT_HARD }, i64::from(v)),
            Ok(_) => return refuse(r, "the num quota must be greater than zero".into()),
            Err(_) => return refuse(r, NUMBER_FORMAT.into()),
        },
        _ => match raw.parse::<i64>() {
            Ok(v) if v >= 0 => (if flag == "b" { BYTES } else { BYTES_HARD }, v),
            Ok(_) => {
                return refuse(
                    r,
                    "the bytes quota must be greater than or equal to zero".into(),
                )
            }
            Err(_) => return refuse(r, NUMBER_FORMAT.into()),
        },
    };
    quota.set(key, value);
    let written = match create_quota(client(sh), path, &quota, &mut r).await {
        Ok(t) => t,
        Err(e) => {
            super::acl::emit_partial(sh, &r);
            return Err(e);
        }
    };
    r.json = json!({ "path": path, "set": true, "quota": written.json() });
    Ok(r)
}

const NUMBER_FORMAT: &str = "NumberFormatException happens when parsing the option value";

/// `SetQuotaCommand.createQuota`: checks, then the quota nodes; returns
/// the limits written. Warnings go to `r`.
async fn create_quota(
    c: &Client,
    path: &str,
    quota: &StatsTrack,
    r: &mut Reply,
) -> Result<StatsTrack, CliError> {
    if c.exists(path, false).await.map_err(zk_err(path))?.is_none() {
        return Err(CliError::MalformedPath(format!("{path} does not exist.")));
    }
    check_child_quota(c, path, r).await?;
    check_parent_quota(c, path).await?;
    if c.exists(QUOTA_ROOT, false)
        .await
        .map_err(zk_err(QUOTA_ROOT))?
        .is_none()
    {
        // As zkCli: /zookeeper first; if it exists, the quota root is not
        // created either.
        if create_if_absent(c, "/zookeeper", None).await? {
            create_if_absent(c, QUOTA_ROOT, None).await?;
        }
    }
    let mut quota_path = QUOTA_ROOT.to_string();
    for part in java_split(path, '/').into_iter().skip(1) {
        quota_path = format!("{quota_path}/{part}");
        if c.exists(&quota_path, false)
            .await
            .map_err(zk_err(&quota_path))?
            .is_none()
        {
            create_if_absent(c, &quota_path, None).await?;
        }
    }
    let stat_node = format!("{quota_path}/{STAT_NODE}");
    let limit_node = format!("{quota_path}/{LIMIT_NODE}");
    if c.exists(&limit_node, false)
        .await
        .map_err(zk_err(&limit_node))?
        .is_none()
    {
        create_node(c, &limit_node, quota.to_string().as_bytes()).await?;
        let mut stats = StatsTrack::default();
        stats.set(COUNT, 0);
        stats.set(BYTES, 0);
        create_node(c, &stat_node, stats.to_string().as_bytes()).await?;
        let limits = read_track(c, &limit_node).await?;
        let stats = read_track(c, &stat_node).await?;
        warn_if_exceeded(&limits, &stats, r);
        return Ok(limits);
    }
    let mut limits = read_track(c, &limit_node).await?;
    for k in [COUNT, BYTES, COUNT_HARD, BYTES_HARD] {
        if quota.get(k) > -1 {
            limits.set(k, quota.get(k));
        }
    }
    let stats = read_track(c, &stat_node).await?;
    warn_if_exceeded(&limits, &stats, r);
    c.set_data(&limit_node, limits.to_string().as_bytes(), -1)
        .await
        .map_err(zk_err(&limit_node))?;
    Ok(limits)
}

/// Creates a persistent open node; `false` if it already existed.
async fn create_if_absent(c: &Client, path: &str, data: Option<&[u8]>) -> Result<bool, CliError> {
    match c
        .create_opt(
            path,
            data,
            &acls::open_unsafe(),
            CreateMode::Persistent,
            false,
        )
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if e.code() == Some(ErrorCode::NodeExists) => Ok(false),
        Err(e) => Err(CliError::from_client(e, path)),
    }
}

async fn create_node(c: &Client, path: &str, data: &[u8]) -> Result<(), CliError> {
    c.create(path, data, &acls::open_unsafe(), CreateMode::Persistent)
        .await
        .map(|_| ())
        .map_err(zk_err(path))
}

/// `SetQuotaCommand.checkQuota`: the warnings zkCli prints on stdout when
/// a new limit is already below what the stats node counts.
fn warn_if_exceeded(limits: &StatsTrack, stats: &StatsTrack, r: &mut Reply) {
    let below = |soft: &str, hard: &str, used: i64| {
        (limits.get(soft) > -1 && limits.get(soft) < used)
            || (limits.get(hard) > -1 && limits.get(hard) < used)
    };
    if below(COUNT, COUNT_HARD, stats.get(COUNT)) {
        r.line(format!(
            "[Warning]: the count quota you create is less than the existing count:{}",
            stats.get(COUNT)
        ));
    }
    if below(BYTES, BYTES_HARD, stats.get(BYTES)) {
        r.line(format!(
            "[Warning]: the bytes quota you create is less than the existing bytes:{}",
            stats.get(BYTES)
        ));
    }
}

/// `checkIfChildQuota`: no node of the quota subtree below `path` may hold
/// limits. A quota subtree that does not exist is fine.
async fn check_child_quota(c: &Client, path: &str, r: &mut Reply) -> Result<(), CliError> {
    let real = format!("{QUOTA_ROOT}{path}");
    let mut walk = SubtreeWalk::new(&real);
    loop {
        let node = match walk.next(c).await {
            Ok(Some(n)) => n,
            Ok(None) => return Ok(()),
            Err(e) if is_no_node(&e) => return Ok(()),
            Err(e) => return Err(e),
        };
        let children = match c.get_children(&node, false).await {
            Ok(ch) => ch,
            Err(e) if e.code() == Some(ErrorCode::NoNode) => continue,
            Err(e) => {
                // zkCli prints the stack trace and goes on.
                r.note(CliError::from_client(e, &node).to_string());
                continue;
            }
        };
        if node != real && children.iter().any(|ch| ch == LIMIT_NODE) {
            return Err(CliError::MalformedPath(format!(
                "{path} has a child {} which has a quota",
                &node[QUOTA_ROOT.len()..]
            )));
        }
    }
}

/// `checkIfParentQuota`: no ancestor of `path` may have limits. The check
/// stops at the first ancestor without a quota subtree node.
async fn check_parent_quota(c: &Client, path: &str) -> Result<(), CliError> {
    let parts = java_split(path, '/');
    let own = format!("{QUOTA_ROOT}{path}");
    let mut quota_path = QUOTA_ROOT.to_string();
    for part in parts.iter().take(parts.len().saturating_sub(1)).skip(1) {
        quota_path = format!("{quota_path}/{part}");
        let children = match c.get_children(&quota_path, false).await {
            Ok(ch) => ch,
            Err(e) if e.code() == Some(ErrorCode::NoNode) => return Ok(()),
            Err(e) => return Err(CliError::from_client(e, &quota_path)),
        };
        if children.is_empty() {
            return Ok(());
        }
        if quota_path != own && children.iter().any(|ch| ch == LIMIT_NODE) {
            return Err(CliError::MalformedPath(format!(
                "{path} has a parent {} which has a quota",
                &quota_path[QUOTA_ROOT.len()..]
            )));
        }
    }
    Ok(())
}

/// `listquota path`.
pub async fn listquota(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    if p.args.len() < 2 {
        return Err(CliError::Parse(spec.usage()));
    }
    let path = p.args[1].as_str();
    let absolute = limit_path(path);
    let mut r = Reply::new();
    r.note(format!("absolute path is {absolute}"));
    let c = client(sh);
    let read = async {
        let limits = read_track(c, &absolute).await?;
        let stats = read_track(c, &stat_path(path)).await?;
        Ok::<_, CliError>((limits, stats))
    };
    match read.await {
        Ok((limits, stats)) => {
            r.line(format!("Output quota for {path} {limits}"));
            r.line(format!("Output stat for {path} {stats}"));
            r.json = json!({
                "path": path,
                "absolutePath": absolute,
                "quota": limits.json(),
                "stat": stats.json(),
            });
            Ok(r)
        }
        Err(e) if is_no_node(&e) => {
            r.note(format!("quota for {path} does not exist."));
            r.json = json!({ "path": path, "absolutePath": absolute, "quota": null, "stat": null });
            Ok(r)
        }
        Err(e) => {
            super::acl::emit_partial(sh, &r);
            Err(e)
        }
    }
}

/// `delquota [-n|-b|-N|-B] path`: one limit set back to -1, or (no flag)
/// the whole quota, with the quota subtree trimmed of empty nodes.
pub async fn delquota(sh: &mut Shell, spec: &Spec, p: &Parsed) -> Result<Reply, CliError> {
    let flag = group_choice(p, false)?;
    if p.args.len() < 2 {
        return Err(CliError::Parse(spec.usage()));
    }
    let path = p.args[1].as_str();
    let mut r = Reply::new();
    match del_quota(client(sh), path, flag).await {
        Ok(Some(limits)) => {
            r.json = json!({
                "path": path,
                "deleted": flag.map_or("all", |f| key_of(f)),
                "quota": limits.map(|l| l.json()),
            });
        }
        Ok(None) => {
            r.line(format!("Quota does not exist for {path}"));
            r.json = json!({ "path": path, "deleted": null, "error": "Quota does not exist" });
        }
        Err(e) if is_no_node(&e) => {
            r.note(format!("quota for {path} does not exist."));
            r.json = json!({ "path": path, "deleted": null, "error": "quota does not exist" });
        }
        Err(e) => return Err(e),
    }
    Ok(r)
}

fn key_of(flag: &str) -> &'static str {
    match flag {
        "n" => COUNT,
        "b" => BYTES,
        "N" => COUNT_HARD,
        _ => BYTES_HARD,
    }
}

/// `DelQuotaCommand.delQuota`. `None`: there was no quota; `Some(None)`:
/// all of it deleted; `Some(Some(limits))`: the limits left.
async fn del_quota(
    c: &Client,
    path: &str,
    flag: Option<&str>,
) -> Result<Option<Option<StatsTrack>>, CliError> {
    let parent = format!("{QUOTA_ROOT}{path}");
    let limit = limit_path(path);
    if c.exists(&limit, false)
        .await
        .map_err(zk_err(&limit))?
        .is_none()
    {
        return Ok(None);
    }
    let mut limits = read_track(c, &limit).await?;
    let Some(flag) = flag else {
        let children = c
            .get_children(&parent, false)
            .await
            .map_err(zk_err(&parent))?;
        for child in children {
            let node = format!("{parent}/{child}");
            c.delete(&node, -1).await.map_err(zk_err(&node))?;
        }
        trim_quota_tree(c, &parent).await?;
        return Ok(Some(None));
    };
    limits.set(key_of(flag), -1);
    c.set_data(&limit, limits.to_string().as_bytes(), -1)
        .await
        .map_err(zk_err(&limit))?;
    Ok(Some(Some(limits)))
}

/// `trimProcQuotas`: deletes empty quota-tree nodes upwards, up to the
/// quota root.
async fn trim_quota_tree(c: &Client, from: &str) -> Result<(), CliError> {
    let mut path = from.to_string();
    while path != QUOTA_ROOT {
        let children = c.get_children(&path, false).await.map_err(zk_err(&path))?;
        if !children.is_empty() {
            break;
        }
        c.delete(&path, -1).await.map_err(zk_err(&path))?;
        let cut = path.rfind('/').unwrap_or(0);
        path.truncate(cut);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::words::{parse_flags, split_line};

    fn track(s: &str) -> StatsTrack {
        StatsTrack::parse(s).unwrap()
    }

    #[test]
    fn stats_track_text() {
        let mut q = StatsTrack::default();
        for k in [COUNT, BYTES, COUNT_HARD, BYTES_HARD] {
            q.set(k, -1);
        }
        q.set(COUNT, 5);
        assert_eq!(
            q.to_string(),
            "count=5,bytes=-1=;byteHardLimit=-1;countHardLimit=-1"
        );
        let mut s = StatsTrack::default();
        s.set(COUNT, 0);
        s.set(BYTES, 0);
        assert_eq!(s.to_string(), "count=0,bytes=0");
        assert_eq!(StatsTrack::default().to_string(), "count=-1,bytes=-1");
    }

    #[test]
    fn stats_track_parses_old_and_new_forms() {
        let t = track("count=5,bytes=-1=;byteHardLimit=100;countHardLimit=-1");
        assert_eq!(
            (t.get(COUNT), t.get(BYTES), t.get(BYTES_HARD)),
            (5, -1, 100)
        );
        assert_eq!(
            t.to_string(),
            "count=5,bytes=-1=;byteHardLimit=100;countHardLimit=-1"
        );
        let old = track("count=2,bytes=10");
        assert_eq!(old.to_string(), "count=2,bytes=10");
        assert_eq!(old.get(COUNT_HARD), -1);
        assert_eq!(track("count==3").get(COUNT), -1, "an empty value is -1");
        assert_eq!(track("count=3,,;bytes=4").get(BYTES), 4);
        assert_eq!(track(",;").to_string(), "count=-1,bytes=-1");
        assert!(
            StatsTrack::parse(";;count=3").is_err(),
            "a leading separator"
        );
        assert_eq!(track("").to_string(), "count=-1,bytes=-1");
        assert_eq!(track("count=+4").get(COUNT), 4);
    }

    #[test]
    fn stats_track_errors_are_javas() {
        assert_eq!(
            StatsTrack::parse("count=x").unwrap_err(),
            "For input string: \"x\""
        );
        assert_eq!(
            StatsTrack::parse("count=").unwrap_err(),
            "Index 1 out of bounds for length 1"
        );
        assert_eq!(
            StatsTrack::parse(",count=1").unwrap_err(),
            "Index 1 out of bounds for length 1"
        );
        assert_eq!(
            StatsTrack::parse("=").unwrap_err(),
            "Index 0 out of bounds for length 0"
        );
    }

    fn flags(line: &str, valued: bool) -> Parsed {
        let spec = if valued {
            crate::words::FlagSpec {
                plain: "",
                valued: "nbNB",
                named: &[],
                long: &[],
            }
        } else {
            crate::words::FlagSpec {
                plain: "nbNB",
                valued: "",
                named: &[],
                long: &[],
            }
        };
        parse_flags(&spec, &split_line(line)).unwrap()
    }

    #[test]
    fn option_group_messages() {
        assert_eq!(
            group_choice(&flags("setquota -n 5 -b 10 /a", true), true)
                .unwrap_err()
                .to_string(),
            "org.apache.commons.cli.AlreadySelectedException: The option 'b' was specified but \
an option from this group has already been selected: 'n'"
        );
        assert_eq!(
            group_choice(&flags("setquota /a", true), true)
                .unwrap_err()
                .to_string(),
            "org.apache.commons.cli.MissingOptionException: Missing required option: \
[-n num soft quota, -b bytes soft quota, -N num hard quota, -B bytes hard quota]"
        );
        assert_eq!(
            group_choice(&flags("setquota -n 5 -n 6 /a", true), true).unwrap(),
            Some("n")
        );
        assert_eq!(
            group_choice(&flags("delquota /a", false), false).unwrap(),
            None
        );
        assert!(group_choice(&flags("delquota -N -B /a", false), false).is_err());
    }

    #[test]
    fn quota_paths() {
        assert_eq!(limit_path("/a"), "/zookeeper/quota/a/zookeeper_limits");
        assert_eq!(stat_path("/a/b"), "/zookeeper/quota/a/b/zookeeper_stats");
        assert_eq!(limit_path("zz"), "/zookeeper/quotazz/zookeeper_limits");
    }
}
