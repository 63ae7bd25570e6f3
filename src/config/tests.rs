//! Tests of whole-config parsing: one per rule and per error.

use std::path::{Path, PathBuf};

use super::*;

/// A file must name its dataDir; the tests that are about other keys get
/// ferrozk's default one added.
fn with_data_dir(text: &str) -> String {
    if text.contains("dataDir") {
        text.to_string()
    } else {
        format!("dataDir=./data\n{text}")
    }
}

fn cfg(text: &str) -> Config {
    Config::from_properties_str(&with_data_dir(text)).unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> ConfigError {
    Config::from_properties_str(&with_data_dir(text)).expect_err("config should be rejected")
}

/// Assert an error message mentions every one of `words`.
fn assert_names(e: &ConfigError, words: &[&str]) {
    let msg = e.to_string();
    for w in words {
        assert!(msg.contains(w), "error {msg:?} should name {w:?}");
    }
}

const ENSEMBLE: &str = "tickTime=2000\ninitLimit=10\nsyncLimit=5\nclientPort=2181\n\
    server.1=a:2888:3888\nserver.2=b:2888:3888\nserver.3=c:2888:3888\n";

#[test]
fn default_is_standalone_on_localhost() {
    let c = Config::default();
    assert_eq!(c.client_listen_address().as_deref(), Some("127.0.0.1:2181"));
    assert_eq!(c.data_dir, PathBuf::from("./data"));
    assert_eq!(c.data_log_dir(), Path::new("./data"));
    assert_eq!(
        (c.min_session_timeout_ms(), c.max_session_timeout_ms()),
        (4000, 40_000)
    );
    assert!(!c.is_distributed());
    c.validate().unwrap();
}

#[test]
fn a_file_with_only_data_dir_gives_defaults() {
    // But for the AdminServer's address: ZooKeeper's wildcard in a file,
    // loopback without one (like the client port).
    let file = cfg("dataDir=./data");
    assert_eq!(file.admin_server_address, "0.0.0.0");
    assert_eq!(Config::default().admin_server_address, "127.0.0.1");
    assert_eq!(
        Config {
            admin_server_address: "127.0.0.1".into(),
            ..file
        },
        Config::default()
    );
    let set = cfg("dataDir=./data\nadmin.serverAddress=10.1.2.3");
    assert_eq!(set.admin_server_address, "10.1.2.3");
}

#[test]
fn a_file_without_data_dir_is_refused_as_zookeeper_does() {
    for text in ["", "tickTime=2000\nclientPort=2181\n"] {
        let e = Config::from_properties_str(text).expect_err("refused");
        assert_names(&e, &["dataDir is not set"]);
        let e = Config::from_toml_str(text.replace('=', " = ").as_str()).expect_err("refused");
        assert_names(&e, &["dataDir is not set"]);
    }
}

#[test]
fn typical_zoo_cfg_parses() {
    let c = cfg("tickTime=1000\ndataDir=/var/zk\nclientPort=2182\nmaxClientCnxns=0\n");
    assert_eq!(c.tick_time_ms, 1000);
    assert_eq!(c.data_dir, PathBuf::from("/var/zk"));
    assert_eq!(c.max_client_cnxns, 0);
    assert_eq!(c.client_listen_address().as_deref(), Some("0.0.0.0:2182"));
}

#[test]
fn client_port_address_is_used_when_given() {
    let c = cfg("clientPort=2181\nclientPortAddress=::1");
    assert_eq!(c.client_listen_address().as_deref(), Some("[::1]:2181"));
}

#[test]
fn session_timeouts_derive_from_tick_unless_set() {
    let c = cfg("tickTime=500");
    assert_eq!(
        (c.min_session_timeout_ms(), c.max_session_timeout_ms()),
        (1000, 10_000)
    );
    let c = cfg("tickTime=500\nminSessionTimeout=300\nmaxSessionTimeout=-1");
    assert_eq!(
        (c.min_session_timeout_ms(), c.max_session_timeout_ms()),
        (300, 10_000)
    );
}

#[test]
fn data_log_dir_defaults_to_data_dir() {
    let c = cfg("dataDir=/a\ndataLogDir=/b");
    assert_eq!(c.data_log_dir(), Path::new("/b"));
    assert_eq!(cfg("dataDir=/a").data_log_dir(), Path::new("/a"));
}

#[test]
fn keys_and_values_are_trimmed_and_last_duplicate_wins() {
    let c = cfg("tickTime = 100 \t\ntickTime=300\n");
    assert_eq!(c.tick_time_ms, 300);
}

#[test]
fn zookeeper_prefix_is_accepted_for_system_property_keys() {
    let c = cfg("zookeeper.snapCount=5\nzookeeper.skipACL=yes");
    assert_eq!(c.snap_count, 5);
    assert!(c.skip_acl);
}

#[test]
fn yes_no_keys() {
    let c = cfg("forceSync=no\nskipACL=yes");
    assert!(!c.force_sync);
    assert!(c.skip_acl);
}

#[test]
fn boolean_keys() {
    let c = cfg(
        "extendedTypesEnabled=true\nemulate353TTLNodes=TRUE\nsyncEnabled=false\n\
        reconfigEnabled=true\nquorumListenOnAllIPs=true\nlocalSessionsEnabled=true\n\
        admin.enableServer=false",
    );
    assert!(c.extended_types_enabled && c.emulate_353_ttl_nodes && c.reconfig_enabled);
    assert!(c.quorum_listen_on_all_ips && c.local_sessions_enabled);
    assert!(!c.sync_enabled && !c.admin_enable_server);
}

#[test]
fn numeric_keys() {
    let c = cfg(
        "snapCount=10\npreAllocSize=1024\nglobalOutstandingLimit=7\n\
        znode.container.checkIntervalMs=5\nznode.container.maxPerMinute=6\n\
        admin.serverPort=9090\nautopurge.purgeInterval=24\nautopurge.snapRetainCount=5",
    );
    assert_eq!(
        (
            c.snap_count,
            c.pre_alloc_size_kb,
            c.global_outstanding_limit
        ),
        (10, 1024, 7)
    );
    assert_eq!(
        (c.container_check_interval_ms, c.container_max_per_minute),
        (5, 6)
    );
    assert_eq!(c.admin_server_port, 9090);
    assert_eq!(
        (
            c.autopurge_purge_interval_hours,
            c.autopurge_snap_retain_count
        ),
        (24, 5)
    );
}

#[test]
fn jute_maxbuffer_accepts_decimal_and_hex() {
    assert_eq!(cfg("jute.maxbuffer=4096").jute_max_buffer, 4096);
    assert_eq!(cfg("jute.maxbuffer=0x100000").jute_max_buffer, 0x100000);
    // A system property in ZooKeeper: a bad value is the default, not a refusal.
    assert_eq!(cfg("jute.maxbuffer=0").jute_max_buffer, 0xfffff);
    assert_eq!(Config::default().max_queued_bytes, 64 << 20);
    assert_eq!(
        cfg("ferrozk.connection.maxQueuedBytes=1048576").max_queued_bytes,
        1 << 20
    );
    assert_names(
        &err("ferrozk.connection.maxQueuedBytes=0"),
        &["ferrozk.connection.maxQueuedBytes"],
    );
}

#[test]
fn snap_retain_count_below_three_is_raised_to_three() {
    assert_eq!(
        cfg("autopurge.snapRetainCount=1").autopurge_snap_retain_count,
        3
    );
}

#[test]
fn four_letter_whitelist_always_includes_srvr() {
    let c = cfg("4lw.commands.whitelist=ruok, stat");
    assert!(c.four_letter_words.allows("ruok") && c.four_letter_words.allows("srvr"));
    assert!(!c.four_letter_words.allows("dump"));
    assert_eq!(
        cfg("4lw.commands.whitelist=*").four_letter_words,
        FourLetterWords::All
    );
}

#[test]
fn read_only_mode_enables_isro() {
    assert!(cfg("readonlymode.enabled=true")
        .four_letter_words
        .allows("isro"));
    assert!(!cfg("").four_letter_words.allows("isro"));
}

#[test]
fn super_digest_under_all_spellings() {
    let d = "super:D/InIHSb7yEEbrWz8b9l71RjZJU=";
    for key in [
        "superDigest",
        "DigestAuthenticationProvider.superDigest",
        "zookeeper.DigestAuthenticationProvider.superDigest",
    ] {
        assert_eq!(
            cfg(&format!("{key}={d}")).super_digest.as_deref(),
            Some(d),
            "{key}"
        );
    }
}

#[test]
fn bad_super_digest_names_key() {
    let e = err("superDigest=super:not-base64");
    assert_names(&e, &["superDigest", "super:not-base64", "base64"]);
}

#[test]
fn provider_families_are_kept_by_suffix() {
    let c = cfg("metricsProvider.className=x.Y\nmetricsProvider.httpPort=7000\nauthProvider.1=a.B");
    assert_eq!(
        c.metrics_provider.get("className").map(String::as_str),
        Some("x.Y")
    );
    assert_eq!(
        c.metrics_provider.get("httpPort").map(String::as_str),
        Some("7000")
    );
    assert_eq!(c.auth_providers.get("1").map(String::as_str), Some("a.B"));
    assert!(c.extra.is_empty());
}

#[test]
fn unknown_and_unsupported_keys_go_to_extra() {
    let c = cfg("fooBar=1\nmaxCnxns=3");
    assert_eq!(c.extra.get("fooBar").map(String::as_str), Some("1"));
    assert_eq!(c.extra.get("maxCnxns").map(String::as_str), Some("3"));
    assert!(
        cfg("electionAlg=3").extra.is_empty(),
        "the one value ZooKeeper takes"
    );
}

/// Keys ZooKeeper reads as `zookeeper.*` system properties: a bad value is
/// a warning and the default (Integer.getInteger, String.equals), as the
/// reference server was seen to do (tests/cli.rs runs both).
#[test]
fn system_property_keys_fall_back_to_their_defaults() {
    assert_eq!(cfg("snapCount=abc").snap_count, 100_000);
    assert_eq!(
        cfg("snapCount=1").snap_count,
        2,
        "reset to 2, as ZooKeeperServer.getSnapCount"
    );
    assert_eq!(cfg("snapCount=0").snap_count, 2);
    assert_eq!(cfg("preAllocSize=abc").pre_alloc_size_kb, 65_536);
    assert_eq!(
        cfg("preAllocSize=0").pre_alloc_size_kb,
        0,
        "0 turns preallocation off"
    );
    assert!(cfg("forceSync=maybe").force_sync, "only no turns fsync off");
    assert!(!cfg("forceSync=no").force_sync);
    assert!(!cfg("skipACL=maybe").skip_acl, "only yes skips ACLs");
    assert_eq!(
        cfg("globalOutstandingLimit=abc").global_outstanding_limit,
        1000
    );
    assert_eq!(Config::default().txn_log_size_limit_kb, 0);
    assert_eq!(cfg("txnLogSizeLimitInKb=-1").txn_log_size_limit_kb, 0);
    assert_eq!(cfg("txnLogSizeLimitInKb=1024").txn_log_size_limit_kb, 1024);
    assert_eq!(
        cfg("zookeeper.txnLogSizeLimitInKb=64").txn_log_size_limit_kb,
        64
    );
    assert_eq!(Config::default().snap_size_limit_kb, 4_194_304);
    assert_eq!(cfg("snapSizeLimitInKb=0").snap_size_limit_kb, 0);
    assert_eq!(cfg("snapSizeLimitInKb=abc").snap_size_limit_kb, 4_194_304);
}

#[test]
fn secure_client_port_is_accepted() {
    assert_eq!(cfg("secureClientPort=2281").secure_client_port, Some(2281));
}

#[test]
fn peer_type_key() {
    assert_eq!(cfg("peerType=Observer").peer_type, PeerType::Observer);
    assert_names(
        &err("peerType=leader"),
        &["peerType", "leader", "participant or observer"],
    );
}

#[test]
fn ensemble_parses_servers() {
    let c = cfg(ENSEMBLE);
    assert!(c.is_distributed());
    assert_eq!(c.servers.len(), 3);
    assert_eq!(c.servers[&2].host, "b");
    assert_eq!(c.participants(), 3);
}

#[test]
fn bad_values_name_key_value_and_expectation() {
    let cases: &[(&str, &[&str])] = &[
        ("tickTime=fast", &["tickTime", "\"fast\"", "whole number"]),
        ("clientPort=70000", &["clientPort", "70000", "port"]),
        ("maxClientCnxns=-5", &["maxClientCnxns", "-5"]),
        ("syncEnabled=yes", &["syncEnabled", "true or false"]),
        ("electionAlg=0", &["electionAlg", "\"0\"", "3"]),
        ("minSessionTimeout=-2", &["minSessionTimeout", "-2"]),
        (
            "clientPortAddress=a b\nclientPort=1",
            &["clientPortAddress", "host"],
        ),
        ("dataDir=", &["dataDir", "directory"]),
        ("server.1=a:b:c", &["server.1", "a:b:c"]),
    ];
    for (text, words) in cases {
        assert_names(&err(text), words);
    }
}

#[test]
fn properties_syntax_error_names_line() {
    assert_names(
        &Config::from_properties_str("a=1\nb=\\uzzzz").unwrap_err(),
        &["line 2"],
    );
}

#[test]
fn zero_tick_time_is_rejected() {
    assert_names(&err("tickTime=0"), &["tickTime"]);
}

#[test]
fn min_session_timeout_above_max_is_rejected() {
    let e = err("minSessionTimeout=5000\nmaxSessionTimeout=4000");
    assert_names(
        &e,
        &["minSessionTimeout", "maxSessionTimeout", "5000", "4000"],
    );
    // Also when the max is derived from tickTime.
    assert_names(
        &err("tickTime=100\nminSessionTimeout=5000"),
        &["minSessionTimeout"],
    );
}

#[test]
fn client_port_address_without_client_port_is_rejected() {
    assert_names(
        &err("clientPortAddress=127.0.0.1"),
        &["clientPort", "clientPortAddress"],
    );
}

#[test]
fn secure_address_without_secure_port_is_rejected() {
    assert_names(
        &err("secureClientPortAddress=0.0.0.0"),
        &["secureClientPort"],
    );
}

#[test]
fn ensemble_without_client_port_is_rejected() {
    let text = ENSEMBLE.replace("clientPort=2181\n", "");
    assert_names(&err(&text), &["clientPort", "server.1"]);
}

#[test]
fn ensemble_with_client_ports_on_server_lines_needs_no_client_port() {
    let text =
        "initLimit=5\nsyncLimit=2\nserver.1=a:1:2;2181\nserver.2=b:1:2;2181\nserver.3=c:1:2;2181";
    let c = cfg(text);
    assert_eq!(c.client_port, None);
    assert_eq!(c.client_listen_address(), None);
}

#[test]
fn ensemble_requires_init_and_sync_limits() {
    assert_names(
        &err(&ENSEMBLE.replace("initLimit=10\n", "")),
        &["initLimit"],
    );
    assert_names(&err(&ENSEMBLE.replace("syncLimit=5\n", "")), &["syncLimit"]);
}

#[test]
fn single_server_line_runs_standalone() {
    let c = cfg("server.1=a:2888:3888");
    assert!(!c.is_distributed());
    assert_eq!(c.client_port, Some(2181));
}

#[test]
fn observers_without_participants_are_rejected() {
    assert_names(
        &err("server.1=a:1:2:observer"),
        &["server.1", "participants"],
    );
    let e = err("server.1=a:1:2\nserver.2=b:1:2:observer");
    assert_names(&e, &["server.2", "standaloneEnabled"]);
}

#[test]
fn standalone_disabled_needs_a_participant() {
    assert_names(
        &err("standaloneEnabled=false"),
        &["server.N", "standaloneEnabled"],
    );
}

#[test]
fn standalone_disabled_with_one_server_is_distributed() {
    let c =
        cfg("standaloneEnabled=false\ninitLimit=5\nsyncLimit=2\nclientPort=2181\nserver.1=a:1:2");
    assert!(c.is_distributed());
}

#[test]
fn validate_catches_changes_made_in_code() {
    let c = Config {
        autopurge_snap_retain_count: 1,
        ..Config::default()
    };
    assert_names(&c.validate().unwrap_err(), &["autopurge.snapRetainCount"]);
}

#[test]
fn toml_matches_properties() {
    let toml = r#"
        tickTime = 1000
        dataDir = "/var/zk"
        clientPort = 2182
        forceSync = "no"
        server.1 = "a:2888:3888"
        server.2 = "b:2888:3888"
        server.3 = "c:2888:3888"
        initLimit = 5
        syncLimit = 2
        "4lw.commands.whitelist" = ["ruok", "mntr"]
        [autopurge]
        purgeInterval = 1
    "#;
    let props = "tickTime=1000\ndataDir=/var/zk\nclientPort=2182\nforceSync=no\n\
        server.1=a:2888:3888\nserver.2=b:2888:3888\nserver.3=c:2888:3888\ninitLimit=5\n\
        syncLimit=2\n4lw.commands.whitelist=ruok,mntr\nautopurge.purgeInterval=1\n";
    assert_eq!(Config::from_toml_str(toml).unwrap(), cfg(props));
}

#[test]
fn toml_bad_value_names_key() {
    let e = Config::from_toml_str("tickTime = 1.5").unwrap_err();
    assert_names(&e, &["tickTime", "1.5"]);
    let e = Config::from_toml_str("[autopurge]\nsnapRetainCount = true").unwrap_err();
    assert_names(&e, &["autopurge.snapRetainCount", "true"]);
}

#[test]
fn load_picks_format_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("zoo.cfg");
    std::fs::write(&cfg_path, "tickTime=100\ndataDir=/d\n").unwrap();
    assert_eq!(Config::load(&cfg_path).unwrap().tick_time_ms, 100);
    let toml_path = dir.path().join("ferrozk.toml");
    std::fs::write(&toml_path, "tickTime = 200\ndataDir = \"/d\"\n").unwrap();
    assert_eq!(Config::load(&toml_path).unwrap().tick_time_ms, 200);
}

#[test]
fn load_errors_carry_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.cfg");
    std::fs::write(&bad, "tickTime=x\n").unwrap();
    assert_names(&Config::load(&bad).unwrap_err(), &["bad.cfg", "tickTime"]);
    let other = dir.path().join("zoo.yaml");
    std::fs::write(&other, "").unwrap();
    assert!(matches!(
        Config::load(&other),
        Err(ConfigError::UnknownFormat { .. })
    ));
    let missing = dir.path().join("missing.cfg");
    assert!(matches!(
        Config::load(&missing),
        Err(ConfigError::Read { .. })
    ));
}

#[test]
fn shipped_example_configs_parse_and_agree() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("conf");
    let zoo = Config::load(&root.join("zoo.cfg")).unwrap_or_else(|e| panic!("{e}"));
    let toml = Config::load(&root.join("ferrozk.toml")).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        zoo.extra.is_empty(),
        "zoo.cfg has unknown keys: {:?}",
        zoo.extra
    );
    assert!(
        toml.extra.is_empty(),
        "ferrozk.toml has unknown keys: {:?}",
        toml.extra
    );
    assert_eq!(
        zoo, toml,
        "the two examples should describe the same server"
    );
}
