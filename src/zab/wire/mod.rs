//! Quorum wire encodings (Apache ZooKeeper 3.8). Placeholder: being written.
