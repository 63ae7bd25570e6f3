//! The catalogue of Apache ZooKeeper 3.8's `ServerMetrics`: every counter,
//! summary and summary set, under its name, in the order the
//! `ServerMetrics` constructor registers them (that order, through the
//! provider's hash maps, is the order `mntr` prints them in).
//!
//! A summary's detail level is ZooKeeper's: BASIC ones report
//! avg/min/max/cnt/sum (and the median to Prometheus), ADVANCED ones add
//! percentiles (p50/p95/p99/p999 in `mntr`; 0.5/0.9/0.99 to Prometheus).

/// A summary's detail level (`MetricsContext.DetailLevel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// avg/min/max/count/sum.
    Basic,
    /// Plus percentiles.
    Advanced,
}

macro_rules! named {
    ($(#[$doc:meta])* $enum:ident { $($var:ident => $name:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[allow(missing_docs)]
        pub enum $enum { $($var),* }

        impl $enum {
            /// Every one, in registration order.
            pub const ALL: &'static [$enum] = &[$($enum::$var),*];

            /// ZooKeeper's name.
            pub fn name(self) -> &'static str {
                match self { $($enum::$var => $name),* }
            }
        }
    };
}

macro_rules! leveled {
    ($(#[$doc:meta])* $enum:ident { $($var:ident => $name:literal $level:ident),* $(,)? }) => {
        named!($(#[$doc])* $enum { $($var => $name),* });

        impl $enum {
            /// Its detail level.
            pub fn level(self) -> Level {
                match self { $($enum::$var => Level::$level),* }
            }
        }
    };
}

named!(
    /// `ServerMetrics`' counters.
    Counter {
        LookingCount => "looking_count",
        DiffCount => "diff_count",
        SnapCount => "snap_count",
        CommitCount => "commit_count",
        ConnectionRequestCount => "connection_request_count",
        ConnectionRejected => "connection_rejected",
        BytesReceivedCount => "bytes_received_count",
        UnrecoverableErrorCount => "unrecoverable_error_count",
        AddDeadWatcherStallTime => "add_dead_watcher_stall_time",
        DeadWatchersQueued => "dead_watchers_queued",
        DeadWatchersCleared => "dead_watchers_cleared",
        ResponsePacketCacheHits => "response_packet_cache_hits",
        ResponsePacketCacheMisses => "response_packet_cache_misses",
        ResponsePacketGetChildrenCacheHits => "response_packet_get_children_cache_hits",
        ResponsePacketGetChildrenCacheMisses => "response_packet_get_children_cache_misses",
        EnsembleAuthSuccess => "ensemble_auth_success",
        EnsembleAuthFail => "ensemble_auth_fail",
        EnsembleAuthSkip => "ensemble_auth_skip",
        PrepProcessorRequestQueued => "prep_processor_request_queued",
        OutstandingChangesQueued => "outstanding_changes_queued",
        OutstandingChangesRemoved => "outstanding_changes_removed",
        RevalidateCount => "revalidate_count",
        ConnectionDropCount => "connection_drop_count",
        ConnectionRevalidateCount => "connection_revalidate_count",
        SessionlessConnectionsExpired => "sessionless_connections_expired",
        StaleSessionsExpired => "stale_sessions_expired",
        RequestCommitQueued => "request_commit_queued",
        ThrottledOps => "throttled_ops",
        LearnerProposalReceivedCount => "learner_proposal_received_count",
        LearnerCommitReceivedCount => "learner_commit_received_count",
        SyncProcessorRequestQueued => "sync_processor_request_queued",
        ProposalCount => "proposal_count",
        QuitLeadingDueToDisloyalVoter => "quit_leading_due_to_disloyal_voter",
        StaleRequests => "stale_requests",
        StaleRequestsDropped => "stale_requests_dropped",
        StaleReplies => "stale_replies",
        RequestThrottleWaitCount => "request_throttle_wait_count",
        LargeRequestsRejected => "large_requests_rejected",
        DigestMismatchesCount => "digest_mismatches_count",
        UnsuccessfulHandshake => "unsuccessful_handshake",
        InsecureAdminCount => "insecure_admin_count",
        TlsHandshakeExceeded => "tls_handshake_exceeded",
        CnxnClosedWithoutZkServerRunning => "cnxn_closed_without_zk_server_running",
        SkipLearnerRequestToNextProcessorCount => "skip_learner_request_to_next_processor_count",
        RequestsNotForwardedToCommitProcessor => "requests_not_forwarded_to_commit_processor",
        ResponseBytes => "response_bytes",
        WatchBytes => "watch_bytes",
    }
);

leveled!(
    /// `ServerMetrics`' summaries (ZooKeeper's `AvgMinMax[Percentile]Counter`s).
    Summary {
        FsyncTime => "fsynctime" Basic,
        SnapshotTime => "snapshottime" Basic,
        DbInitTime => "dbinittime" Basic,
        ReadLatency => "readlatency" Advanced,
        UpdateLatency => "updatelatency" Advanced,
        PropagationLatency => "propagation_latency" Advanced,
        FollowerSyncTime => "follower_sync_time" Basic,
        ObserverSyncTime => "observer_sync_time" Basic,
        ElectionTime => "election_time" Basic,
        ConnectionTokenDeficit => "connection_token_deficit" Basic,
        InflightSnapCount => "inflight_snap_count" Basic,
        InflightDiffCount => "inflight_diff_count" Basic,
        NodeCreatedWatchCount => "node_created_watch_count" Basic,
        NodeDeletedWatchCount => "node_deleted_watch_count" Basic,
        NodeChangedWatchCount => "node_changed_watch_count" Basic,
        NodeChildrenWatchCount => "node_children_watch_count" Basic,
        DeadWatchersCleanerLatency => "dead_watchers_cleaner_latency" Advanced,
        PrepProcessorQueueTime => "prep_processor_queue_time_ms" Advanced,
        PrepProcessorQueueSize => "prep_processor_queue_size" Basic,
        PrepProcessTime => "prep_process_time" Basic,
        ProposalProcessTime => "proposal_process_time" Basic,
        CloseSessionPrepTime => "close_session_prep_time" Advanced,
        UnavailableTime => "unavailable_time" Basic,
        LeaderUnavailableTime => "leader_unavailable_time" Basic,
        RequestsInSessionQueue => "requests_in_session_queue" Basic,
        PendingSessionQueueSize => "pending_session_queue_size" Basic,
        ReadsAfterWriteInSessionQueue => "reads_after_write_in_session_queue" Basic,
        ReadsIssuedFromSessionQueue => "reads_issued_from_session_queue" Basic,
        SessionQueuesDrained => "session_queues_drained" Basic,
        TimeWaitingEmptyPoolInCommitProcessorRead => "time_waiting_empty_pool_in_commit_processor_read_ms" Basic,
        WriteBatchTimeInCommitProcessor => "write_batch_time_in_commit_processor" Basic,
        ConcurrentRequestProcessingInCommitProcessor => "concurrent_request_processing_in_commit_processor" Basic,
        ReadCommitProcReqQueued => "read_commit_proc_req_queued" Basic,
        WriteCommitProcReqQueued => "write_commit_proc_req_queued" Basic,
        CommitCommitProcReqQueued => "commit_commit_proc_req_queued" Basic,
        ReadCommitProcIssued => "read_commit_proc_issued" Basic,
        WriteCommitProcIssued => "write_commit_proc_issued" Basic,
        ReadCommitprocTime => "read_commitproc_time_ms" Advanced,
        WriteCommitprocTime => "write_commitproc_time_ms" Advanced,
        LocalWriteCommittedTime => "local_write_committed_time_ms" Advanced,
        ServerWriteCommittedTime => "server_write_committed_time_ms" Advanced,
        CommitProcessTime => "commit_process_time" Basic,
        OmProposalProcessTime => "om_proposal_process_time_ms" Advanced,
        OmCommitProcessTime => "om_commit_process_time_ms" Advanced,
        ReadFinalProcTime => "read_final_proc_time_ms" Advanced,
        WriteFinalProcTime => "write_final_proc_time_ms" Advanced,
        ProposalLatency => "proposal_latency" Advanced,
        ProposalAckCreationLatency => "proposal_ack_creation_latency" Advanced,
        CommitPropagationLatency => "commit_propagation_latency" Advanced,
        StartupTxnsLoaded => "startup_txns_loaded" Basic,
        StartupTxnsLoadTime => "startup_txns_load_time" Basic,
        StartupSnapLoadTime => "startup_snap_load_time" Basic,
        SyncProcessorQueueAndFlushTime => "sync_processor_queue_and_flush_time_ms" Advanced,
        SyncProcessorQueueSize => "sync_processor_queue_size" Basic,
        SyncProcessorQueueTime => "sync_processor_queue_time_ms" Advanced,
        SyncProcessorQueueFlushTime => "sync_processor_queue_flush_time_ms" Advanced,
        SyncProcessTime => "sync_process_time" Basic,
        SyncProcessorBatchSize => "sync_processor_batch_size" Basic,
        QuorumAckLatency => "quorum_ack_latency" Advanced,
        RequestThrottleQueueTime => "request_throttle_queue_time_ms" Advanced,
        NettyQueuedBufferCapacity => "netty_queued_buffer_capacity" Basic,
        LearnerRequestProcessorQueueSize => "learner_request_processor_queue_size" Basic,
        SocketClosingTime => "socket_closing_time" Basic,
        JvmPauseTime => "jvm_pause_time_ms" Advanced,
    }
);

leveled!(
    /// `ServerMetrics`' summary sets: one summary per key (a namespace, a
    /// server id), printed as `<key>_<name>`.
    SummarySet {
        WritePerNamespace => "write_per_namespace" Basic,
        ReadPerNamespace => "read_per_namespace" Basic,
        LearnerHandlerQpSize => "learner_handler_qp_size" Basic,
        LearnerHandlerQpTime => "learner_handler_qp_time_ms" Advanced,
        AckLatency => "ack_latency" Advanced,
    }
);

/// `ServerMetrics`' one counter set (`quota_exceeded_error_per_namespace`):
/// ferrozk does not enforce quotas (`zookeeper.enforceQuota` is off by
/// default in ZooKeeper too), so it never has a key.
pub const COUNTER_SETS: &[&str] = &["quota_exceeded_error_per_namespace"];

/// The gauges `ZooKeeperServer.registerMetrics` registers, in order.
pub const SERVER_GAUGES: &[&str] = &[
    "avg_latency",
    "max_latency",
    "min_latency",
    "packets_received",
    "packets_sent",
    "num_alive_connections",
    "outstanding_requests",
    "uptime",
    "znode_count",
    "watch_count",
    "ephemerals_count",
    "approximate_data_size",
    "global_sessions",
    "local_sessions",
    "open_file_descriptor_count",
    "max_file_descriptor_count",
    "connection_drop_probability",
    "last_client_response_size",
    "max_client_response_size",
    "min_client_response_size",
    "outstanding_tls_handshake",
    "auth_failed_count",
    "non_mtls_remote_conn_count",
    "non_mtls_local_conn_count",
];

/// `QuorumZooKeeperServer`'s gauge (after the server's).
pub const QUORUM_GAUGES: &[&str] = &["quorum_size"];

/// `LeaderZooKeeperServer`'s gauges (after the quorum's).
pub const LEADER_GAUGES: &[&str] = &[
    "learners",
    "synced_followers",
    "synced_non_voting_followers",
    "synced_observers",
    "pending_syncs",
    "leader_uptime",
    "last_proposal_size",
    "max_proposal_size",
    "min_proposal_size",
];

/// `FollowerZooKeeperServer`'s gauge (after the quorum's).
pub const FOLLOWER_GAUGES: &[&str] = &["synced_observers"];

/// The gauge sets `ZooKeeperServer.registerMetrics` registers (quota
/// limits and usage per namespace, printed `<namespace>_<name>`).
pub const GAUGE_SETS: &[&str] = &[
    "quota_count_limit_per_namespace",
    "quota_bytes_limit_per_namespace",
    "quota_count_usage_per_namespace",
    "quota_bytes_usage_per_namespace",
];
