//! Tests across the storage files: the log written and read back, torn
//! tails vs corruption, snapshots, recovery and purge.

use std::fs;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::*;
use crate::proto::records::data::{Id, ACL};
use crate::proto::records::txn::*;
use crate::proto::OpCode;
use crate::tree::node::{NodeKind, CONTAINER_OWNER};
use crate::tree::txn::{SubTxn, Txn, TxnBody};
use crate::tree::DataTree;

const SESSION: i64 = 0x100_0000_0001;

fn hdr(op: OpCode, zxid: i64, session: i64) -> TxnHeader {
    TxnHeader {
        client_id: session,
        cxid: zxid as i32,
        zxid,
        time: 1_700_000_000_000 + zxid,
        r#type: op.code(),
    }
}

fn digest_acl() -> Vec<ACL> {
    vec![ACL {
        perms: 31,
        id: Id {
            scheme: "digest".into(),
            id: "u:Q1b2".into(),
        },
    }]
}

fn create(zxid: i64, path: &str, data: Option<&'static [u8]>, owner: i64, acl: Vec<ACL>) -> Txn {
    let data = data.map(Bytes::from_static);
    let (op, body) = if owner == CONTAINER_OWNER {
        (
            OpCode::CreateContainer,
            TxnBody::CreateContainer(CreateContainerTxn {
                path: path.into(),
                data,
                acl,
                parent_c_version: -1,
            }),
        )
    } else if let NodeKind::Ttl(ttl) = NodeKind::of(owner, true) {
        (
            OpCode::CreateTtl,
            TxnBody::CreateTtl(CreateTTLTxn {
                path: path.into(),
                data,
                acl,
                parent_c_version: -1,
                ttl,
            }),
        )
    } else {
        (
            OpCode::Create,
            TxnBody::Create(CreateTxn {
                path: path.into(),
                data,
                acl,
                ephemeral: owner != 0,
                parent_c_version: -1,
            }),
        )
    };
    Txn {
        hdr: hdr(op, zxid, if owner > 0 { owner } else { SESSION }),
        body,
        digest: None,
    }
}

/// A workload touching every kind of node and transaction.
fn workload() -> Vec<Txn> {
    let open = crate::tree::acl::open_acl_unsafe();
    let mut t = vec![
        Txn {
            hdr: hdr(OpCode::CreateSession, 1, SESSION),
            body: TxnBody::CreateSession(CreateSessionTxn { time_out: 30000 }),
            digest: None,
        },
        create(2, "/app", Some(b"root data"), 0, open.clone()),
        create(3, "/app/eph", Some(b"e"), SESSION, open.clone()),
        create(4, "/app/secret", None, 0, digest_acl()),
        create(5, "/box", Some(b""), CONTAINER_OWNER, open.clone()),
        create(6, "/box/item", Some(b"i"), 0, open.clone()),
        create(
            7,
            "/ttl",
            Some(b"t"),
            NodeKind::ttl_owner(5000),
            open.clone(),
        ),
        Txn {
            hdr: hdr(OpCode::SetData, 8, SESSION),
            body: TxnBody::SetData(SetDataTxn {
                path: "/app".into(),
                data: Some(Bytes::from_static(b"v2")),
                version: 1,
            }),
            digest: None,
        },
        Txn {
            hdr: hdr(OpCode::SetAcl, 9, SESSION),
            body: TxnBody::SetAcl(SetACLTxn {
                path: "/app".into(),
                acl: digest_acl(),
                version: 1,
            }),
            digest: None,
        },
        Txn {
            hdr: hdr(OpCode::Error, 10, SESSION),
            body: TxnBody::Error(ErrorTxn { err: -110 }),
            digest: None,
        },
        Txn {
            hdr: hdr(OpCode::Multi, 11, SESSION),
            body: TxnBody::Multi(vec![
                SubTxn {
                    op: OpCode::Create.code(),
                    body: create(0, "/m1", Some(b"1"), 0, open.clone()).body,
                },
                SubTxn {
                    op: OpCode::Check.code(),
                    body: TxnBody::Check(CheckVersionTxn {
                        path: "/m1".into(),
                        version: 0,
                    }),
                },
                SubTxn {
                    op: OpCode::Delete.code(),
                    body: TxnBody::Delete(DeleteTxn {
                        path: "/box/item".into(),
                    }),
                },
            ]),
            digest: None,
        },
        create(12, "/app/child", Some(b"c"), 0, open.clone()),
        Txn {
            hdr: hdr(OpCode::Delete, 13, SESSION),
            body: TxnBody::Delete(DeleteTxn {
                path: "/app/child".into(),
            }),
            digest: None,
        },
        Txn {
            hdr: hdr(OpCode::CreateSession, 14, SESSION + 1),
            body: TxnBody::CreateSession(CreateSessionTxn { time_out: 10000 }),
            digest: None,
        },
        create(15, "/app/eph2", Some(b"x"), SESSION + 1, open.clone()),
        Txn {
            hdr: hdr(OpCode::CloseSession, 16, SESSION + 1),
            body: TxnBody::CloseSession(CloseSessionTxn {
                paths2_delete: vec!["/app/eph2".into()],
            }),
            digest: None,
        },
    ];
    // Attach the digest ZooKeeper would log: the tree's after each txn.
    let mut tree = DataTree::new(true);
    let mut d = digest::tree_digest(&tree);
    for txn in &mut t {
        set_parent_cversions(&tree, &mut txn.body);
        digest::apply_tracked(
            &mut tree,
            txn,
            &mut d,
            |t, x, o| t.apply(x, o),
            &mut Vec::new(),
        );
        txn.digest = Some(TxnDigest {
            version: 2,
            tree_digest: d,
        });
    }
    t
}

/// Fills in parentCVersion as ZooKeeper's prep does (parent's + 1).
fn set_parent_cversions(tree: &DataTree, body: &mut TxnBody) {
    let next = |path: &str| {
        let parent = crate::proto::path::parent(path);
        tree.get(parent).map_or(0, |n| n.stat.cversion + 1)
    };
    match body {
        TxnBody::Create(c) => c.parent_c_version = next(&c.path),
        TxnBody::CreateTtl(c) => c.parent_c_version = next(&c.path),
        TxnBody::CreateContainer(c) => c.parent_c_version = next(&c.path),
        TxnBody::Multi(subs) => subs
            .iter_mut()
            .for_each(|s| set_parent_cversions(tree, &mut s.body)),
        _ => {}
    }
}

fn apply_all(txns: &[Txn]) -> DataTree {
    let mut tree = DataTree::new(true);
    for t in txns {
        tree.apply(t, &mut Vec::new());
    }
    tree
}

fn write_log(dir: &Path, txns: &[Txn], prealloc: u64) {
    let mut log = TxnLog::open(
        dir,
        TxnLogOptions {
            prealloc_bytes: prealloc,
            force_sync: false,
            dbid: 0,
        },
    )
    .unwrap();
    for t in txns {
        log.append(t).unwrap();
    }
    log.sync().unwrap();
}

fn log_files(dir: &Path) -> Vec<PathBuf> {
    datadir::list(&datadir::version_dir(dir), "log")
        .unwrap()
        .into_iter()
        .map(|(_, p)| p)
        .collect()
}

/// Offsets of each framed entry in a log file (header is 16 bytes).
fn entry_offsets(file: &Path) -> Vec<u64> {
    let raw = fs::read(file).unwrap();
    let mut out = Vec::new();
    let mut pos = 16usize;
    while pos + 12 <= raw.len() {
        let len = i32::from_be_bytes(raw[pos + 8..pos + 12].try_into().unwrap());
        if len <= 0 {
            break;
        }
        out.push(pos as u64);
        pos += 13 + len as usize;
    }
    out
}

fn assert_same_tree(a: &DataTree, b: &DataTree) {
    let mut pa: Vec<_> = a.iter().map(|(p, _)| p.clone()).collect();
    let mut pb: Vec<_> = b.iter().map(|(p, _)| p.clone()).collect();
    pa.sort();
    pb.sort();
    assert_eq!(pa, pb, "same paths");
    for p in &pa {
        let (na, nb) = (a.get(p).unwrap(), b.get(p).unwrap());
        assert_eq!(na.data, nb.data, "data of {p}");
        assert_eq!(na.stat, nb.stat, "stat of {p}");
        assert_eq!(a.children(p), b.children(p), "children of {p}");
        assert_eq!(a.acl_of(na), b.acl_of(nb), "acl of {p}");
    }
    assert_eq!(a.all_ephemerals(), b.all_ephemerals());
    assert_eq!(a.containers(), b.containers());
    assert_eq!(a.ttls(), b.ttls());
}

#[test]
fn log_round_trips_every_workload_txn_with_preallocation() {
    let dir = tempfile::tempdir().unwrap();
    let txns = workload();
    write_log(dir.path(), &txns, 64 * 1024);
    let files = log_files(dir.path());
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].file_name().unwrap(), "log.1");
    // FilePadding grows by one block past the header: 16 + 64 KiB.
    assert_eq!(fs::metadata(&files[0]).unwrap().len(), 16 + 64 * 1024);
    let (read, torn) = read_all(dir.path(), 0).unwrap();
    assert_eq!(read, txns);
    assert_eq!(torn, None);
}

#[test]
fn log_without_preallocation_reads_to_the_physical_end() {
    let dir = tempfile::tempdir().unwrap();
    let txns = workload();
    write_log(dir.path(), &txns, 0);
    let (read, torn) = read_all(dir.path(), 0).unwrap();
    assert_eq!((read.len(), torn), (txns.len(), None));
}

#[test]
fn reopened_log_continues_in_a_new_file_and_reads_start_in_the_right_one() {
    let dir = tempfile::tempdir().unwrap();
    let txns = workload();
    let mut log = TxnLog::open(dir.path(), TxnLogOptions::default()).unwrap();
    for t in &txns[..5] {
        log.append(t).unwrap();
    }
    log.roll().unwrap();
    for t in &txns[5..9] {
        log.append(t).unwrap();
    }
    log.sync().unwrap();
    drop(log);
    write_log(dir.path(), &txns[9..], 4096);
    let names: Vec<_> = log_files(dir.path())
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["log.1", "log.6", "log.a"]);
    for after in [0, 3, 5, 6, 7, 12, 16] {
        let (read, _) = read_all(dir.path(), after).unwrap();
        let want: Vec<i64> = txns
            .iter()
            .map(|t| t.hdr.zxid)
            .filter(|&z| z > after)
            .collect();
        let got: Vec<i64> = read.iter().map(|t| t.hdr.zxid).collect();
        assert_eq!(got, want, "after {after}");
    }
}

/// Damages the last file and checks the reader reports a torn tail at the
/// last entry, then that truncation leaves a clean log that can grow.
fn torn_case(prealloc: u64, damage: impl Fn(&mut Vec<u8>, u64, u64)) -> Defect {
    let dir = tempfile::tempdir().unwrap();
    let txns = workload();
    write_log(dir.path(), &txns, prealloc);
    let file = log_files(dir.path()).pop().unwrap();
    let offsets = entry_offsets(&file);
    let last = *offsets.last().unwrap();
    let mut raw = fs::read(&file).unwrap();
    let end = if prealloc == 0 {
        raw.len() as u64
    } else {
        {
            let len = i32::from_be_bytes(
                raw[last as usize + 8..last as usize + 12]
                    .try_into()
                    .unwrap(),
            );
            last + 13 + len as u64
        }
    };
    damage(&mut raw, last, end);
    fs::write(&file, &raw).unwrap();

    let (read, torn) = read_all(dir.path(), 0).unwrap();
    assert_eq!(read, txns[..txns.len() - 1]);
    let torn = torn.expect("a torn tail");
    assert_eq!(torn.offset, last);
    assert_eq!(torn.last_good_zxid, txns[txns.len() - 2].hdr.zxid);
    truncate_torn_tail(&torn).unwrap();
    assert_eq!(fs::metadata(&file).unwrap().len(), last);
    let (again, none) = read_all(dir.path(), 0).unwrap();
    assert_eq!((again.len(), none), (txns.len() - 1, None));
    // The writer continues in a new file; everything reads back.
    write_log(dir.path(), &txns[txns.len() - 1..], prealloc);
    let (all, none) = read_all(dir.path(), 0).unwrap();
    assert_eq!((all, none), (txns.clone(), None));
    torn.defect
}

#[test]
fn partial_last_entry_is_a_torn_tail() {
    let d = torn_case(0, |raw, last, end| {
        raw.truncate(((last + end) / 2) as usize)
    });
    assert_eq!(d, Defect::Truncated);
}

#[test]
fn checksum_mismatch_in_last_entry_is_a_torn_tail() {
    let d = torn_case(4096, |raw, _, end| raw[end as usize - 5] ^= 0xff);
    assert!(matches!(d, Defect::Checksum { .. }), "{d:?}");
}

#[test]
fn zero_filled_second_half_of_last_entry_is_a_torn_tail() {
    let d = torn_case(4096, |raw, last, end| {
        raw[((last + end) / 2) as usize..end as usize].fill(0)
    });
    assert!(matches!(d, Defect::Checksum { .. }), "{d:?}");
}

#[test]
fn missing_end_of_record_is_a_torn_tail() {
    let d = torn_case(4096, |raw, _, end| raw[end as usize - 1] = 0);
    assert_eq!(d, Defect::MissingEor(0));
}

#[test]
fn bad_length_of_last_entry_is_a_torn_tail() {
    let d = torn_case(4096, |raw, last, _| {
        raw[last as usize + 8..last as usize + 12].copy_from_slice(&(-7i32).to_be_bytes())
    });
    assert_eq!(d, Defect::BadLength(-7));
}

#[test]
fn a_zeroed_last_entry_is_simply_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let txns = workload();
    write_log(dir.path(), &txns, 4096);
    let file = log_files(dir.path()).pop().unwrap();
    let last = *entry_offsets(&file).last().unwrap() as usize;
    let mut raw = fs::read(&file).unwrap();
    raw[last..].fill(0);
    fs::write(&file, &raw).unwrap();
    let (read, torn) = read_all(dir.path(), 0).unwrap();
    assert_eq!((read.len(), torn), (txns.len() - 1, None));
}

fn corrupt_case(damage: impl Fn(&mut Vec<u8>, &[u64])) -> StorageError {
    let dir = tempfile::tempdir().unwrap();
    let txns = workload();
    write_log(dir.path(), &txns, 4096);
    let file = log_files(dir.path()).pop().unwrap();
    let offsets = entry_offsets(&file);
    let mut raw = fs::read(&file).unwrap();
    damage(&mut raw, &offsets);
    fs::write(&file, &raw).unwrap();
    read_all(dir.path(), 0).expect_err("corruption")
}

#[test]
fn bad_entry_followed_by_valid_ones_is_corruption() {
    let e = corrupt_case(|raw, offs| raw[offs[3] as usize + 20] ^= 1);
    match e {
        StorageError::CorruptLog {
            offset,
            next_valid_offset,
            last_good_zxid,
            ..
        } => {
            assert_eq!(last_good_zxid, 3);
            assert!(next_valid_offset.unwrap() > offset);
        }
        other => panic!("{other}"),
    }
}

#[test]
fn zeroed_hole_before_valid_entries_is_corruption() {
    let e = corrupt_case(|raw, offs| raw[offs[2] as usize..offs[3] as usize].fill(0));
    assert!(
        matches!(
            e,
            StorageError::CorruptLog {
                defect: Defect::ZeroedHole,
                ..
            }
        ),
        "{e}"
    );
}

/// The scan for entries beyond zeros skips file-system holes (what
/// preallocation leaves) without reading them: valid entries written after
/// a real hole must still be found, and a file that is all hole after its
/// entries is simply at its end.
#[test]
fn valid_entries_beyond_a_sparse_hole_are_corruption_and_a_hole_alone_is_the_end() {
    use std::os::unix::fs::FileExt;
    let dir = tempfile::tempdir().unwrap();
    let txns = workload();
    write_log(dir.path(), &txns, 4096);
    let file = log_files(dir.path()).pop().unwrap();
    let offsets = entry_offsets(&file);
    let raw = fs::read(&file).unwrap();
    let cut = offsets[3] as usize;
    let valid_end = *offsets.last().unwrap() as usize;
    // Entries 0..3, then a 4 MiB hole, then entries 3.. again.
    let f = fs::OpenOptions::new().write(true).open(&file).unwrap();
    f.set_len(cut as u64).unwrap();
    f.set_len(cut as u64 + (4 << 20)).unwrap();
    f.write_all_at(&raw[cut..valid_end], cut as u64 + (4 << 20))
        .unwrap();
    drop(f);
    let e = read_all(dir.path(), 0).expect_err("entries after a hole");
    match e {
        StorageError::CorruptLog {
            defect: Defect::ZeroedHole,
            next_valid_offset,
            ..
        } => assert_eq!(next_valid_offset, Some(cut as u64 + (4 << 20))),
        other => panic!("{other}"),
    }
    // Without them, the hole is preallocation: the end of the log.
    let f = fs::OpenOptions::new().write(true).open(&file).unwrap();
    f.set_len(cut as u64).unwrap();
    f.set_len(cut as u64 + (64 << 20)).unwrap();
    drop(f);
    let (read, torn) = read_all(dir.path(), 0).unwrap();
    assert_eq!((read.len(), torn), (3, None));
}

#[test]
fn bad_last_entry_of_an_older_file_is_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let txns = workload();
    write_log(dir.path(), &txns[..5], 4096);
    write_log(dir.path(), &txns[5..], 4096);
    let first = log_files(dir.path()).remove(0);
    let last = *entry_offsets(&first).last().unwrap() as usize;
    let mut raw = fs::read(&first).unwrap();
    raw[last + 14] ^= 0x40;
    fs::write(&first, &raw).unwrap();
    let e = read_all(dir.path(), 0).expect_err("corruption");
    assert!(matches!(e, StorageError::CorruptLog { .. }), "{e}");
}

#[test]
fn snapshot_round_trip_preserves_nodes_stats_acls_and_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let tree = apply_all(&workload());
    let sessions = vec![(SESSION, 30000), (SESSION + 7, 4000)];
    let path = write_snapshot(dir.path(), 16, &tree, &sessions).unwrap();
    assert_eq!(path.file_name().unwrap(), "snapshot.10");
    assert!(snapshot_read::looks_complete(&path));
    let snap = read_snapshot(&path).unwrap();
    assert_eq!(snap.zxid, 16);
    assert_eq!(snap.sessions, sessions);
    assert_eq!(snap.acls, tree.acls.map());
    assert_eq!(snap.nodes[0].path, "/");
    assert_eq!(
        snap.digest,
        Some(ZxidDigest {
            zxid: 16,
            version: 2,
            digest: digest::tree_digest(&tree)
        })
    );
    let back = recover::build_tree(&snap, true).unwrap();
    assert_same_tree(&tree, &back);
    assert_eq!(back.last_zxid, 16);
}

#[test]
fn damaged_snapshot_fails_its_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let tree = apply_all(&workload());
    let path = write_snapshot(dir.path(), 16, &tree, &[]).unwrap();
    let mut raw = fs::read(&path).unwrap();
    let mid = raw.len() / 2;
    raw[mid] ^= 0x10;
    fs::write(&path, &raw).unwrap();
    let e = read_snapshot(&path).expect_err("damaged");
    assert!(matches!(e, StorageError::BadSnapshot { .. }), "{e}");
}

#[test]
fn incremental_digest_matches_full_digest_after_every_txn() {
    let mut tree = DataTree::new(true);
    let mut d = digest::tree_digest(&tree);
    for t in workload() {
        digest::apply_tracked(
            &mut tree,
            &t,
            &mut d,
            |t, x, o| t.apply(x, o),
            &mut Vec::new(),
        );
        assert_eq!(d, digest::tree_digest(&tree), "after zxid {}", t.hdr.zxid);
    }
}

#[test]
fn empty_dirs_recover_to_an_empty_tree_at_zero() {
    let dir = tempfile::tempdir().unwrap();
    let rec = recover(dir.path(), dir.path(), false).unwrap();
    assert_eq!(rec.last_zxid, 0);
    assert_same_tree(&rec.tree, &DataTree::new(false));
    assert!(rec.sessions.is_empty());
}

#[test]
fn snapshot_plus_log_recovers_the_same_tree_and_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let txns = workload();
    let snap_at = 6;
    let base = apply_all(&txns[..snap_at]);
    write_snapshot(dir.path(), snap_at as i64, &base, &[(SESSION, 30000)]).unwrap();
    write_log(dir.path(), &txns, 4096);
    let rec = recover(dir.path(), dir.path(), true).unwrap();
    assert_same_tree(&rec.tree, &apply_all(&txns));
    assert_eq!(rec.last_zxid, 16);
    assert_eq!(rec.txns_replayed, (txns.len() - snap_at) as u64);
    assert_eq!(
        rec.sessions.into_iter().collect::<Vec<_>>(),
        vec![(SESSION, 30000)]
    );
    assert!(rec.digests_checked > 0);
    assert_eq!(rec.digest_mismatches, vec![]);
}

#[test]
fn fuzzy_snapshot_ahead_of_its_name_replays_to_the_same_tree() {
    // The snapshot is named 4 but already holds the effects of 5..=12:
    // replaying them hits NODEEXISTS/NONODE and must still converge.
    let dir = tempfile::tempdir().unwrap();
    let txns = workload();
    let fuzzy = apply_all(&txns[..12]);
    write_snapshot(dir.path(), 4, &fuzzy, &[(SESSION, 30000)]).unwrap();
    write_log(dir.path(), &txns, 4096);
    let rec = recover(dir.path(), dir.path(), true).unwrap();
    assert_same_tree(&rec.tree, &apply_all(&txns));
}

#[test]
fn newest_corrupt_snapshot_falls_back_to_an_older_one() {
    let dir = tempfile::tempdir().unwrap();
    let txns = workload();
    write_snapshot(dir.path(), 3, &apply_all(&txns[..3]), &[(SESSION, 30000)]).unwrap();
    let newest = write_snapshot(dir.path(), 9, &apply_all(&txns[..9]), &[]).unwrap();
    let mut raw = fs::read(&newest).unwrap();
    raw[40] ^= 1;
    fs::write(&newest, &raw).unwrap();
    write_log(dir.path(), &txns, 4096);
    let rec = recover(dir.path(), dir.path(), true).unwrap();
    assert_eq!(rec.rejected_snapshots.len(), 1);
    assert_eq!(rec.snapshot.unwrap().file_name().unwrap(), "snapshot.3");
    assert_same_tree(&rec.tree, &apply_all(&txns));
}

#[test]
fn logs_without_a_snapshot_are_refused_unless_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let txns = workload();
    write_log(dir.path(), &txns, 4096);
    let e = recover(dir.path(), dir.path(), true).expect_err("refused");
    assert!(matches!(e, StorageError::LogsWithoutSnapshot { .. }), "{e}");
    let opts = RecoverOptions {
        extended_types: true,
        trust_empty_snapshot: true,
        ..Default::default()
    };
    let rec = recover_with(dir.path(), dir.path(), &opts).unwrap();
    assert_same_tree(&rec.tree, &apply_all(&txns));
}

#[test]
fn recovery_cuts_a_torn_tail_and_kills_ephemerals_of_dead_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let txns = workload();
    write_snapshot(dir.path(), 0, &DataTree::new(true), &[]).unwrap();
    write_log(dir.path(), &txns[..4], 4096);
    let file = log_files(dir.path()).pop().unwrap();
    let last = *entry_offsets(&file).last().unwrap() as usize;
    let mut raw = fs::read(&file).unwrap();
    raw[last + 30] ^= 0xff;
    fs::write(&file, &raw).unwrap();
    let rec = recover(dir.path(), dir.path(), true).unwrap();
    assert_eq!(rec.last_zxid, 3);
    assert_eq!(rec.torn_tail.as_ref().unwrap().offset, last as u64);
    assert_eq!(fs::metadata(&file).unwrap().len(), last as u64);
    // Session SESSION is alive (createSession at 1): its ephemeral stays.
    assert!(rec.tree.get("/app/eph").is_some());
    assert!(rec.dead_sessions.is_empty());

    // A snapshot holding an ephemeral without its session: deleted.
    let dir2 = tempfile::tempdir().unwrap();
    write_snapshot(dir2.path(), 3, &apply_all(&txns[..3]), &[]).unwrap();
    let rec = recover(dir2.path(), dir2.path(), true).unwrap();
    assert!(rec.tree.get("/app/eph").is_none());
    assert_eq!(rec.dead_sessions, vec![SESSION]);
    assert_eq!(rec.digest, digest::tree_digest(&rec.tree));
}

#[test]
fn purge_keeps_n_snapshots_and_the_logs_they_need() {
    let dir = tempfile::tempdir().unwrap();
    let txns = workload();
    for (i, chunk) in txns.chunks(3).enumerate() {
        write_log(dir.path(), chunk, 4096);
        let upto = ((i + 1) * 3).min(txns.len());
        let tree = apply_all(&txns[..upto]);
        write_snapshot(dir.path(), upto as i64, &tree, &[(SESSION, 30000)]).unwrap();
    }
    // logs 1,4,7,10,13,16; snapshots 3,6,9,12,15,16
    assert!(purge(dir.path(), dir.path(), 2).is_err());
    let purged = purge(dir.path(), dir.path(), 3).unwrap();
    let names = |v: &[PathBuf]| -> Vec<String> {
        v.iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(&purged.snapshots),
        ["snapshot.3", "snapshot.6", "snapshot.9"]
    );
    // Oldest kept snapshot is 0xc; log.a (starting at 10) holds 11 and 12.
    assert_eq!(names(&purged.logs), ["log.1", "log.4", "log.7"]);
    let rec = recover(dir.path(), dir.path(), true).unwrap();
    assert_same_tree(&rec.tree, &apply_all(&txns));
}

#[test]
fn abandoned_snapshot_writer_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = SnapshotWriter::create(dir.path(), 7).unwrap();
    w.header(&[], &Default::default()).unwrap();
    drop(w);
    assert_eq!(
        fs::read_dir(datadir::version_dir(dir.path()))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn compressed_snapshot_stops_recovery_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    write_snapshot(dir.path(), 1, &DataTree::new(false), &[]).unwrap();
    let gz = datadir::version_dir(dir.path()).join("snapshot.5.gz");
    fs::write(&gz, [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    let e = recover(dir.path(), dir.path(), false).expect_err("unsupported");
    assert!(
        matches!(&e, StorageError::UnsupportedCompression { method, .. } if method == "gz"),
        "{e}"
    );
}

/// A crash right after a roll created the next file but before its first
/// entry was synced leaves a header-only `log.<next zxid>`: recovery ends
/// before it, and the reopened log must reuse the name (ZooKeeper
/// overwrites it too) instead of failing to create the file.
#[test]
fn a_header_only_log_left_by_a_crash_is_reused() {
    let dir = tempfile::tempdir().unwrap();
    let txns = workload();
    let mut log = TxnLog::open(dir.path(), TxnLogOptions::default()).unwrap();
    for t in &txns[..5] {
        log.append(t).unwrap();
    }
    log.sync().unwrap();
    log.roll().unwrap();
    // The roll's first append creates log.6; the crash loses the entry.
    log.append(&txns[5]).unwrap();
    drop(log);
    let next = log_files(dir.path()).pop().unwrap();
    assert!(next.ends_with("log.6"));
    let header_only = fs::read(&next).unwrap()[..16].to_vec();
    fs::write(&next, &header_only).unwrap();
    let (read, torn) = read_all(dir.path(), 0).unwrap();
    assert_eq!(read.len(), 5);
    assert!(torn.is_none());

    let mut log = TxnLog::open(dir.path(), TxnLogOptions::default()).unwrap();
    for t in &txns[5..8] {
        log.append(t).unwrap();
    }
    log.sync().unwrap();
    let (read, _) = read_all(dir.path(), 0).unwrap();
    assert_eq!(
        read.iter().map(|t| t.hdr.zxid).collect::<Vec<_>>(),
        (1..=8).collect::<Vec<i64>>()
    );
}
