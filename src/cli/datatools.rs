//! Offline tools for a data directory, like ZooKeeper's TxnLogToolkit and
//! SnapshotFormatter: print a transaction log or a snapshot, and check a
//! whole dataDir the way the server would load it, without changing it.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::config::Config;
use crate::storage::datadir;
use crate::storage::logread::TxnLogReader;
use crate::storage::recover::{recover_with, RecoverOptions};
use crate::storage::snapshot_read::read_snapshot;
use crate::tree::txn::{Txn, TxnBody};

/// `ferrozk log-dump FILE`.
#[derive(Debug, Args)]
pub struct LogDumpArgs {
    /// A transaction log file (`version-2/log.<zxid>`).
    pub file: PathBuf,
}

/// `ferrozk snapshot-dump FILE`.
#[derive(Debug, Args)]
pub struct SnapshotDumpArgs {
    /// A snapshot file (`version-2/snapshot.<zxid>`).
    pub file: PathBuf,
    /// Also print each node's data (as text when printable, else hex).
    #[arg(long)]
    pub data: bool,
}

/// `ferrozk check-data`.
#[derive(Debug, Args)]
pub struct CheckDataArgs {}

fn hex_or_text(b: &[u8]) -> String {
    if b.iter().all(|c| c.is_ascii_graphic() || *c == b' ') {
        format!("{:?}", String::from_utf8_lossy(b))
    } else {
        b.iter().map(|c| format!("{c:02x}")).collect()
    }
}

fn data(d: &Option<bytes::Bytes>) -> String {
    match d {
        None => "null".into(),
        Some(b) if b.len() > 64 => format!("#{} bytes", b.len()),
        Some(b) => hex_or_text(b),
    }
}

/// One line per transaction body, in the spirit of TxnLogToolkit.
fn describe(body: &TxnBody) -> String {
    match body {
        TxnBody::Create(t) => format!(
            "create {} data={} acl={} ephemeral={} parentCVersion={}",
            t.path,
            data(&t.data),
            t.acl.len(),
            t.ephemeral,
            t.parent_c_version
        ),
        TxnBody::CreateTtl(t) => {
            format!(
                "createTTL {} data={} ttl={} parentCVersion={}",
                t.path,
                data(&t.data),
                t.ttl,
                t.parent_c_version
            )
        }
        TxnBody::CreateContainer(t) => {
            format!(
                "createContainer {} data={} parentCVersion={}",
                t.path,
                data(&t.data),
                t.parent_c_version
            )
        }
        TxnBody::Delete(t) => format!("delete {}", t.path),
        TxnBody::SetData(t) => format!(
            "setData {} data={} version={}",
            t.path,
            data(&t.data),
            t.version
        ),
        TxnBody::SetAcl(t) => format!("setACL {} acl={:?} version={}", t.path, t.acl, t.version),
        TxnBody::Check(t) => format!("check {} version={}", t.path, t.version),
        TxnBody::CreateSession(t) => format!("createSession timeout={}", t.time_out),
        TxnBody::CloseSession(t) => format!("closeSession deleting {:?}", t.paths2_delete),
        TxnBody::Error(t) => format!("error {}", t.err),
        TxnBody::Multi(subs) => {
            let parts: Vec<String> = subs.iter().map(|s| describe(&s.body)).collect();
            format!("multi [{}]", parts.join("; "))
        }
    }
}

fn line(txn: &Txn) -> String {
    let h = &txn.hdr;
    let digest = txn
        .digest
        .as_ref()
        .map(|d| format!(" digest={:x}", d.tree_digest))
        .unwrap_or_default();
    format!(
        "time={} session=0x{:x} cxid=0x{:x} zxid=0x{:x} {}{digest}",
        h.time,
        h.client_id,
        h.cxid,
        h.zxid,
        describe(&txn.body)
    )
}

/// The dataDir a `version-2/<name>` file belongs to.
fn data_dir_of(file: &Path) -> Result<PathBuf, String> {
    let version_dir = file.parent().ok_or("no parent directory")?;
    if version_dir.file_name().and_then(|n| n.to_str()) != Some("version-2") {
        return Err(format!(
            "{} is not inside a version-2 directory",
            file.display()
        ));
    }
    Ok(version_dir.parent().unwrap_or(Path::new(".")).to_path_buf())
}

/// Prints every transaction of one log file; fails on corruption.
pub fn log_dump(args: &LogDumpArgs) -> Result<(), String> {
    let name = args.file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let first = datadir::zxid_from_name(name, "log")
        .ok_or_else(|| format!("{}: not a log.<zxid> file", args.file.display()))?;
    let mut reader =
        TxnLogReader::open(&data_dir_of(&args.file)?, first - 1).map_err(|e| e.to_string())?;
    let mut count = 0;
    for entry in reader.by_ref() {
        let entry = entry.map_err(|e| e.to_string())?;
        if entry.file != args.file && entry.file.file_name() != args.file.file_name() {
            break;
        }
        println!("{}", line(&entry.txn));
        count += 1;
    }
    match reader.torn_tail() {
        Some(t) if t.file.file_name() == args.file.file_name() => {
            println!(
                "torn tail at offset {}: {} (ferrozk cuts it off when it starts)",
                t.offset, t.defect
            )
        }
        _ => {}
    }
    println!("{count} transactions");
    Ok(())
}

/// Prints a snapshot: sessions, ACLs, nodes with their stats.
pub fn snapshot_dump(args: &SnapshotDumpArgs) -> Result<(), String> {
    let s = read_snapshot(&args.file).map_err(|e| e.to_string())?;
    println!("snapshot zxid 0x{:x}", s.zxid);
    println!("sessions ({}):", s.sessions.len());
    for (id, timeout) in &s.sessions {
        println!("  0x{id:x} timeout={timeout}ms");
    }
    println!("acls ({}):", s.acls.len());
    for (id, acl) in &s.acls {
        println!("  {id}: {acl:?}");
    }
    println!("nodes ({}):", s.nodes.len());
    for n in &s.nodes {
        let st = &n.stat;
        println!(
            "  {} czxid=0x{:x} mzxid=0x{:x} pzxid=0x{:x} ctime={} mtime={} version={} cversion={} aversion={} owner=0x{:x} acl={} len={}",
            n.path, st.czxid, st.mzxid, st.pzxid, st.ctime, st.mtime, st.version, st.cversion, st.aversion,
            st.ephemeral_owner, n.acl, n.data.as_ref().map_or(0, |d| d.len())
        );
        if args.data {
            println!("    data={}", data(&n.data));
        }
    }
    match s.digest {
        Some(d) => println!(
            "digest at zxid 0x{:x}: {:x} (version {})",
            d.zxid, d.digest, d.version
        ),
        None => println!("no digest"),
    }
    Ok(())
}

/// Loads the dataDir as the server would (read-only) and reports its health.
pub fn check_data(config: &Config) -> Result<(), String> {
    let opts = RecoverOptions {
        extended_types: config.extended_types_enabled,
        keep_torn_tail: true,
        trust_empty_snapshot: false,
    };
    let rec = recover_with(&config.data_dir, config.data_log_dir(), &opts)
        .map_err(|e| format!("cannot load: {e}"))?;
    println!(
        "dataDir {} (logs in {})",
        config.data_dir.display(),
        config.data_log_dir().display()
    );
    match &rec.snapshot {
        Some(p) => println!("snapshot: {}", p.display()),
        None => println!("snapshot: none (empty database)"),
    }
    for (p, why) in &rec.rejected_snapshots {
        println!("skipped snapshot {}: {why}", p.display());
    }
    println!("transactions replayed: {}", rec.txns_replayed);
    println!("last zxid: 0x{:x}", rec.last_zxid);
    println!(
        "nodes: {}, sessions: {}",
        rec.tree.len(),
        rec.sessions.len()
    );
    println!(
        "digests checked: {}, mismatches: {}",
        rec.digests_checked,
        rec.digest_mismatches.len()
    );
    let mut problems = Vec::new();
    if let Some(t) = &rec.torn_tail {
        println!(
            "torn tail: {} at offset {}: {} (the server will cut it off)",
            t.file.display(),
            t.offset,
            t.defect
        );
    }
    if !rec.digest_mismatches.is_empty() {
        problems.push(format!("{} digest mismatches", rec.digest_mismatches.len()));
    }
    if problems.is_empty() {
        println!("OK");
        Ok(())
    } else {
        Err(problems.join(", "))
    }
}
