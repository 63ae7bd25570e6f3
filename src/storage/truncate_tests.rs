//! Tests of log truncation for Zab's TRUNC (FileTxnLog.truncate): what is
//! kept, what is cut or removed, and that the log stays readable,
//! appendable and recoverable afterwards.

use std::fs;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::*;
use crate::proto::records::txn::{CreateTxn, TxnHeader};
use crate::proto::OpCode;
use crate::tree::txn::{Txn, TxnBody};
use crate::tree::DataTree;

fn z(epoch: i64, counter: i64) -> i64 {
    (epoch << 32) | counter
}

/// A create of `/n<zxid in hex><tag>`.
fn create(zxid: i64, tag: &str) -> Txn {
    Txn {
        hdr: TxnHeader {
            client_id: 0x100_0000_0001,
            cxid: 1,
            zxid,
            time: 1_700_000_000_000,
            r#type: OpCode::Create.code(),
        },
        body: TxnBody::Create(CreateTxn {
            path: format!("/n{zxid:x}{tag}"),
            data: Some(Bytes::from(format!("data {zxid:x}"))),
            acl: crate::tree::acl::open_acl_unsafe(),
            ephemeral: false,
            parent_c_version: -1,
        }),
        digest: None,
    }
}

fn writer(dir: &Path) -> TxnLog {
    TxnLog::open(
        dir,
        TxnLogOptions {
            prealloc_bytes: 4096,
            force_sync: false,
            dbid: 0,
        },
    )
    .unwrap()
}

/// Three preallocated files: `log.100000001` (1:1..=1:4),
/// `log.100000005` (1:5..=1:8), `log.200000001` (2:1..=2:3).
fn three_files(dir: &Path) -> Vec<Txn> {
    let groups = [
        (1..=4).map(|c| z(1, c)).collect::<Vec<_>>(),
        (5..=8).map(|c| z(1, c)).collect(),
        (1..=3).map(|c| z(2, c)).collect(),
    ];
    let mut log = writer(dir);
    let mut all = Vec::new();
    for group in groups {
        for zxid in group {
            let t = create(zxid, "");
            log.append(&t).unwrap();
            all.push(t);
        }
        log.roll().unwrap();
    }
    log.sync().unwrap();
    all
}

fn zxids(dir: &Path) -> Vec<i64> {
    let (txns, torn) = read_all(dir, 0).unwrap();
    assert_eq!(torn, None);
    txns.iter().map(|t| t.hdr.zxid).collect()
}

fn expected(upto: i64) -> Vec<i64> {
    [1, 2, 3, 4, 5, 6, 7, 8]
        .map(|c| z(1, c))
        .into_iter()
        .chain([1, 2, 3].map(|c| z(2, c)))
        .filter(|&x| x <= upto)
        .collect()
}

fn log_names(dir: &Path) -> Vec<String> {
    datadir::list(&datadir::version_dir(dir), "log")
        .unwrap()
        .into_iter()
        .map(|(_, p)| p.file_name().unwrap().to_str().unwrap().to_string())
        .collect()
}

/// Every entry: zxid, file, end offset.
fn entries(dir: &Path) -> Vec<(i64, PathBuf, u64)> {
    TxnLogReader::open(dir, 0)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.txn.hdr.zxid, e.file, e.end)
        })
        .collect()
}

fn end_of(entries: &[(i64, PathBuf, u64)], zxid: i64) -> (PathBuf, u64) {
    let (_, file, end) = entries.iter().find(|e| e.0 == zxid).unwrap();
    (file.clone(), *end)
}

fn len(file: &Path) -> u64 {
    fs::metadata(file).unwrap().len()
}

#[test]
fn truncating_inside_a_file_cuts_it_after_the_zxid_and_removes_later_files() {
    let dir = tempfile::tempdir().unwrap();
    three_files(dir.path());
    let before = entries(dir.path());
    assert!(truncate_log(dir.path(), z(1, 6)).unwrap());
    assert_eq!(zxids(dir.path()), expected(z(1, 6)));
    assert_eq!(log_names(dir.path()), ["log.100000001", "log.100000005"]);
    let (file, end) = end_of(&before, z(1, 6));
    assert_eq!(len(&file), end, "cut right after 1:6");
}

#[test]
fn truncating_at_the_last_entry_of_a_file_removes_every_later_file() {
    let dir = tempfile::tempdir().unwrap();
    three_files(dir.path());
    let before = entries(dir.path());
    assert!(truncate_log(dir.path(), z(1, 4)).unwrap());
    assert_eq!(zxids(dir.path()), expected(z(1, 4)));
    assert_eq!(log_names(dir.path()), ["log.100000001"]);
    let (file, end) = end_of(&before, z(1, 4));
    assert_eq!(len(&file), end, "the preallocated zeros are cut too");
}

#[test]
fn truncating_at_the_first_entry_of_a_file_keeps_only_that_entry_of_it() {
    let dir = tempfile::tempdir().unwrap();
    three_files(dir.path());
    let before = entries(dir.path());
    assert!(truncate_log(dir.path(), z(1, 5)).unwrap());
    assert_eq!(zxids(dir.path()), expected(z(1, 5)));
    let (file, end) = end_of(&before, z(1, 5));
    assert_eq!(len(&file), end);
}

#[test]
fn a_zxid_between_two_entries_keeps_only_the_entries_below_it() {
    // 1:9 is not in the log (1:8 is followed by 2:1). Apache would keep
    // 2:1; we keep exactly the entries <= 1:9.
    let dir = tempfile::tempdir().unwrap();
    three_files(dir.path());
    assert!(truncate_log(dir.path(), z(1, 9)).unwrap());
    assert_eq!(zxids(dir.path()), expected(z(1, 8)));
    assert_eq!(log_names(dir.path()), ["log.100000001", "log.100000005"]);
}

#[test]
fn truncating_at_the_last_entry_keeps_every_entry_and_returns_true() {
    let dir = tempfile::tempdir().unwrap();
    three_files(dir.path());
    let before = entries(dir.path());
    assert!(truncate_log(dir.path(), z(2, 3)).unwrap());
    assert_eq!(zxids(dir.path()), expected(i64::MAX));
    let (file, end) = end_of(&before, z(2, 3));
    assert_eq!(len(&file), end);
}

#[test]
fn truncating_beyond_the_end_changes_nothing_and_returns_false() {
    // Apache's FileTxnLog.truncate finds no entry at or after the zxid and
    // fails; the Learner then exits.
    let dir = tempfile::tempdir().unwrap();
    three_files(dir.path());
    let files = datadir::list(&datadir::version_dir(dir.path()), "log").unwrap();
    let bytes: Vec<Vec<u8>> = files.iter().map(|(_, p)| fs::read(p).unwrap()).collect();
    assert!(!truncate_log(dir.path(), z(2, 4)).unwrap());
    assert!(!truncate_log(dir.path(), z(3, 0)).unwrap());
    let after: Vec<Vec<u8>> = files.iter().map(|(_, p)| fs::read(p).unwrap()).collect();
    assert!(bytes == after, "files unchanged");
}

#[test]
fn truncating_an_empty_log_returns_false() {
    let dir = tempfile::tempdir().unwrap();
    assert!(!truncate_log(dir.path(), z(1, 1)).unwrap());
}

#[test]
fn truncating_before_the_first_entry_removes_every_log_file() {
    let dir = tempfile::tempdir().unwrap();
    three_files(dir.path());
    assert!(truncate_log(dir.path(), z(1, 0)).unwrap());
    assert_eq!(zxids(dir.path()), Vec::<i64>::new());
    assert_eq!(log_names(dir.path()), Vec::<String>::new());
    assert!(truncate_log(dir.path(), 0).is_ok());
}

#[test]
fn the_writer_appends_after_a_truncated_log_and_everything_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    three_files(dir.path());
    assert!(truncate_log(dir.path(), z(1, 6)).unwrap());
    // The new leader's history: 2:1 and 2:2, different transactions.
    let mut log = writer(dir.path());
    let new = [create(z(2, 1), "new"), create(z(2, 2), "new")];
    for t in &new {
        log.append(t).unwrap();
    }
    log.sync().unwrap();
    assert_eq!(
        log_names(dir.path()),
        ["log.100000001", "log.100000005", "log.200000001"]
    );
    let (txns, torn) = read_all(dir.path(), 0).unwrap();
    assert_eq!(torn, None);
    let mut want: Vec<Txn> = expected(z(1, 6))
        .into_iter()
        .map(|x| create(x, ""))
        .collect();
    want.extend(new);
    assert_eq!(txns, want);
}

#[test]
fn a_truncated_log_recovers_to_the_tree_at_the_zxid() {
    let dir = tempfile::tempdir().unwrap();
    write_snapshot(dir.path(), 0, &DataTree::new(false), &[]).unwrap();
    let txns = three_files(dir.path());
    assert!(truncate_log(dir.path(), z(1, 6)).unwrap());
    let rec = recover(dir.path(), dir.path(), false).unwrap();
    assert_eq!(rec.last_zxid, z(1, 6));
    assert_eq!(rec.txns_replayed, 6);
    let mut want = DataTree::new(false);
    for t in &txns[..6] {
        want.apply(t, &mut Vec::new());
    }
    let paths = |t: &DataTree| {
        let mut p: Vec<String> = t.iter().map(|(p, _)| p.clone()).collect();
        p.sort();
        p
    };
    assert_eq!(paths(&rec.tree), paths(&want));
    for p in paths(&want) {
        let (a, b) = (rec.tree.get(&p).unwrap(), want.get(&p).unwrap());
        assert_eq!((&a.data, &a.stat), (&b.data, &b.stat), "{p}");
    }
}

#[test]
fn a_torn_tail_after_the_zxid_is_cut_with_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    three_files(dir.path());
    let before = entries(dir.path());
    // Damage the last entry (2:3): a torn tail.
    let (file, end) = end_of(&before, z(2, 3));
    let mut raw = fs::read(&file).unwrap();
    raw[end as usize - 5] ^= 0xff;
    fs::write(&file, &raw).unwrap();
    assert!(truncate_log(dir.path(), z(2, 2)).unwrap());
    assert_eq!(zxids(dir.path()), expected(z(2, 2)));
    assert_eq!(len(&file), end_of(&before, z(2, 2)).1);
}

/// Flips a byte inside entry 1:7, which has valid entries after it.
fn damage_1_7(dir: &Path) {
    let before = entries(dir);
    let (file, end6) = end_of(&before, z(1, 6));
    let mut raw = fs::read(&file).unwrap();
    raw[end6 as usize + 20] ^= 0x01;
    fs::write(&file, &raw).unwrap();
}

#[test]
fn corruption_after_the_zxid_is_cut_away() {
    let dir = tempfile::tempdir().unwrap();
    three_files(dir.path());
    damage_1_7(dir.path());
    assert!(truncate_log(dir.path(), z(1, 6)).unwrap());
    assert_eq!(zxids(dir.path()), expected(z(1, 6)));
}

#[test]
fn corruption_before_the_zxid_is_an_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    three_files(dir.path());
    damage_1_7(dir.path());
    let e = truncate_log(dir.path(), z(1, 8)).expect_err("corrupt");
    assert!(matches!(e, StorageError::CorruptLog { .. }), "{e}");
    assert_eq!(log_names(dir.path()).len(), 3);
}

#[test]
fn snapshots_are_left_alone_and_the_newer_ones_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let txns = three_files(dir.path());
    let tree_at = |n: usize| {
        let mut t = DataTree::new(false);
        for x in &txns[..n] {
            t.apply(x, &mut Vec::new());
        }
        t
    };
    let old = write_snapshot(dir.path(), z(1, 2), &tree_at(2), &[]).unwrap();
    let newer = write_snapshot(dir.path(), z(1, 7), &tree_at(7), &[]).unwrap();
    assert!(truncate_log(dir.path(), z(1, 5)).unwrap());
    assert!(old.exists() && newer.exists());
    assert_eq!(snapshots_after(dir.path(), z(1, 5)).unwrap(), [newer]);
    assert_eq!(
        snapshots_after(dir.path(), z(1, 7)).unwrap(),
        Vec::<PathBuf>::new()
    );
}
