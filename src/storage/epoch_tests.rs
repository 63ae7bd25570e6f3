//! Tests of the epoch files (QuorumPeer.loadDataBase, readLongFromFile,
//! writeLongToFile) and of `myid` (QuorumPeerConfig.setupMyId).

use std::fs;
use std::path::Path;

use super::epoch::{epoch_path, tmp_path};
use super::*;

const EPOCH_2_ZXID: i64 = 0x2_0000_0007;

fn put(dir: &Path, which: EpochFile, contents: &str) {
    let path = epoch_path(dir, which);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

fn contents(dir: &Path, which: EpochFile) -> String {
    fs::read_to_string(epoch_path(dir, which)).unwrap()
}

fn names_in_version_dir(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(datadir::version_dir(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn epoch_files_live_in_the_snapshot_version_dir() {
    let dir = Path::new("/data");
    assert_eq!(
        epoch_path(dir, EpochFile::Accepted),
        Path::new("/data/version-2/acceptedEpoch")
    );
    assert_eq!(
        epoch_path(dir, EpochFile::Current),
        Path::new("/data/version-2/currentEpoch")
    );
}

#[test]
fn written_epoch_reads_back_and_is_decimal_without_newline() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(read_epoch(dir.path(), EpochFile::Current).unwrap(), None);
    write_epoch(dir.path(), EpochFile::Current, 7).unwrap();
    write_epoch(dir.path(), EpochFile::Accepted, u32::MAX).unwrap();
    assert_eq!(read_epoch(dir.path(), EpochFile::Current).unwrap(), Some(7));
    assert_eq!(
        read_epoch(dir.path(), EpochFile::Accepted).unwrap(),
        Some(u32::MAX)
    );
    // Long.toString(value), as QuorumPeer.writeLongToFile writes it.
    assert_eq!(contents(dir.path(), EpochFile::Current), "7");
    assert_eq!(contents(dir.path(), EpochFile::Accepted), "4294967295");
}

#[test]
fn atomic_write_replaces_the_file_and_leaves_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    write_epoch(dir.path(), EpochFile::Accepted, 1).unwrap();
    write_epoch(dir.path(), EpochFile::Accepted, 2).unwrap();
    assert_eq!(contents(dir.path(), EpochFile::Accepted), "2");
    assert_eq!(names_in_version_dir(dir.path()), ["acceptedEpoch"]);
}

#[test]
fn a_crash_before_the_rename_leaves_the_old_value_readable() {
    let dir = tempfile::tempdir().unwrap();
    write_epoch(dir.path(), EpochFile::Current, 4).unwrap();
    fs::write(tmp_path(&epoch_path(dir.path(), EpochFile::Current)), "5").unwrap();
    assert_eq!(read_epoch(dir.path(), EpochFile::Current).unwrap(), Some(4));
}

#[test]
fn first_line_is_parsed_like_long_parse_long() {
    let dir = tempfile::tempdir().unwrap();
    for (text, want) in [("3\n", 3), ("3\r\njunk", 3), ("+12", 12), ("0", 0)] {
        put(dir.path(), EpochFile::Current, text);
        assert_eq!(
            read_epoch(dir.path(), EpochFile::Current).unwrap(),
            Some(want),
            "{text:?}"
        );
    }
}

#[test]
fn malformed_epoch_file_is_an_error_naming_file_and_content() {
    let dir = tempfile::tempdir().unwrap();
    for (text, found) in [
        ("abc", "abc"),
        (" 3", " 3"),
        ("", ""),
        ("\n3", ""),
        ("-1", "-1"),
        ("4294967296", "4294967296"),
    ] {
        put(dir.path(), EpochFile::Accepted, text);
        let e = read_epoch(dir.path(), EpochFile::Accepted).expect_err(text);
        match &e {
            StorageError::BadEpochFile { path, found: f } => {
                assert_eq!(path, &epoch_path(dir.path(), EpochFile::Accepted));
                assert_eq!(f, found);
            }
            other => panic!("{text:?}: {other}"),
        }
        assert!(e.to_string().contains("acceptedEpoch"), "{e}");
    }
}

#[test]
fn fresh_dir_derives_both_epochs_from_the_last_zxid_and_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    let e = load_epochs(dir.path(), EPOCH_2_ZXID).unwrap();
    assert_eq!(
        e,
        Epochs {
            accepted: 2,
            current: 2
        }
    );
    assert_eq!(contents(dir.path(), EpochFile::Current), "2");
    assert_eq!(contents(dir.path(), EpochFile::Accepted), "2");
    assert_eq!(
        load_epochs(dir.path(), 0).unwrap(),
        e,
        "files win once written"
    );
}

#[test]
fn present_files_are_used_as_they_are() {
    let dir = tempfile::tempdir().unwrap();
    write_epoch(dir.path(), EpochFile::Current, 3).unwrap();
    write_epoch(dir.path(), EpochFile::Accepted, 4).unwrap();
    let e = load_epochs(dir.path(), EPOCH_2_ZXID).unwrap();
    assert_eq!(
        e,
        Epochs {
            accepted: 4,
            current: 3
        }
    );
}

#[test]
fn missing_current_epoch_is_the_last_zxids_epoch() {
    let dir = tempfile::tempdir().unwrap();
    write_epoch(dir.path(), EpochFile::Accepted, 5).unwrap();
    let e = load_epochs(dir.path(), EPOCH_2_ZXID).unwrap();
    assert_eq!(
        e,
        Epochs {
            accepted: 5,
            current: 2
        }
    );
    assert_eq!(contents(dir.path(), EpochFile::Current), "2");
}

#[test]
fn missing_accepted_epoch_is_the_last_zxids_epoch_not_the_current_one() {
    // QuorumPeer derives acceptedEpoch from the zxid and writes it before
    // checking it against currentEpoch.
    let dir = tempfile::tempdir().unwrap();
    write_epoch(dir.path(), EpochFile::Current, 4).unwrap();
    let e = load_epochs(dir.path(), EPOCH_2_ZXID).expect_err("accepted < current");
    assert!(
        matches!(
            e,
            StorageError::AcceptedEpochBehind {
                accepted: 2,
                current: 4,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "the accepted epoch, 0x2, is less than the current epoch, 0x4 ({})",
            epoch_path(dir.path(), EpochFile::Accepted).display()
        )
    );
    assert_eq!(contents(dir.path(), EpochFile::Accepted), "2");
}

#[test]
fn current_epoch_behind_the_log_without_a_temp_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write_epoch(dir.path(), EpochFile::Current, 1).unwrap();
    write_epoch(dir.path(), EpochFile::Accepted, 2).unwrap();
    let e = load_epochs(dir.path(), EPOCH_2_ZXID).expect_err("behind");
    assert!(
        matches!(
            e,
            StorageError::CurrentEpochBehind {
                current: 1,
                last_zxid: EPOCH_2_ZXID,
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string()
            .starts_with("the current epoch, 0x1, is older than the last zxid, 0x200000007"),
        "{e}"
    );
}

#[test]
fn current_epoch_behind_the_log_is_recovered_from_its_temp_file() {
    // A crash after currentEpoch.tmp was synced but before the rename.
    let dir = tempfile::tempdir().unwrap();
    write_epoch(dir.path(), EpochFile::Current, 1).unwrap();
    write_epoch(dir.path(), EpochFile::Accepted, 2).unwrap();
    let tmp = tmp_path(&epoch_path(dir.path(), EpochFile::Current));
    fs::write(&tmp, "2").unwrap();
    let e = load_epochs(dir.path(), EPOCH_2_ZXID).unwrap();
    assert_eq!(
        e,
        Epochs {
            accepted: 2,
            current: 2
        }
    );
    assert_eq!(contents(dir.path(), EpochFile::Current), "2");
    assert!(!tmp.exists(), "the rewrite renames the temp file away");
}

#[test]
fn a_malformed_temp_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    write_epoch(dir.path(), EpochFile::Current, 1).unwrap();
    let tmp = tmp_path(&epoch_path(dir.path(), EpochFile::Current));
    fs::write(&tmp, "").unwrap();
    let e = load_epochs(dir.path(), EPOCH_2_ZXID).expect_err("empty tmp");
    assert!(
        matches!(&e, StorageError::BadEpochFile { path, .. } if *path == tmp),
        "{e}"
    );
}

#[test]
fn a_temp_file_is_ignored_when_the_current_epoch_is_not_behind() {
    let dir = tempfile::tempdir().unwrap();
    write_epoch(dir.path(), EpochFile::Current, 2).unwrap();
    write_epoch(dir.path(), EpochFile::Accepted, 3).unwrap();
    fs::write(tmp_path(&epoch_path(dir.path(), EpochFile::Current)), "9").unwrap();
    let e = load_epochs(dir.path(), EPOCH_2_ZXID).unwrap();
    assert_eq!(e.current, 2);
}

#[test]
fn epoch_of_zxid_is_the_high_half() {
    assert_eq!(epoch_of_zxid(0), 0);
    assert_eq!(epoch_of_zxid(0xffff_ffff), 0);
    assert_eq!(epoch_of_zxid(0x1_0000_0000), 1);
    assert_eq!(epoch_of_zxid(0x7fff_ffff_0000_0001), 0x7fff_ffff);
}

#[test]
fn myid_is_the_first_line_of_datadir_myid() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("myid"), "3\n").unwrap();
    assert_eq!(read_myid(dir.path()).unwrap(), 3);
    fs::write(dir.path().join("myid"), "255").unwrap();
    assert_eq!(read_myid(dir.path()).unwrap(), 255);
}

#[test]
fn missing_myid_is_reported_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let e = read_myid(dir.path()).expect_err("missing");
    assert!(matches!(e, StorageError::MyIdMissing { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "myid file is missing: {}",
            dir.path().join("myid").display()
        )
    );
    // A directory named myid is not a myid file either.
    fs::create_dir(dir.path().join("myid")).unwrap();
    let e = read_myid(dir.path()).expect_err("a directory");
    assert!(matches!(e, StorageError::MyIdMissing { .. }), "{e}");
}

#[test]
fn myid_that_is_not_a_number_is_reported_like_quorum_peer_config() {
    let dir = tempfile::tempdir().unwrap();
    for (text, found) in [("one", "one"), ("3 ", "3 "), ("", ""), ("-2", "-2")] {
        fs::write(dir.path().join("myid"), text).unwrap();
        let e = read_myid(dir.path()).expect_err(text);
        match &e {
            StorageError::BadMyId { found: f, .. } => assert_eq!(f, found),
            other => panic!("{text:?}: {other}"),
        }
        assert!(
            e.to_string()
                .starts_with(&format!("serverid {found} is not a number")),
            "{e}"
        );
    }
}
