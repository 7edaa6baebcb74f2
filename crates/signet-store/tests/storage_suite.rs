//! openraft's storage conformance suite against Signet's log store and state machine.

use openraft::testing::{StoreBuilder, Suite};
use signet_store::{LogStore, StateMachineStore, TypeConfig};
use tempfile::TempDir;

struct Builder;

type StorageError = openraft::StorageError<u64>;

impl StoreBuilder<TypeConfig, LogStore, StateMachineStore, TempDir> for Builder {
    async fn build(&self) -> Result<(TempDir, LogStore, StateMachineStore), StorageError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = LogStore::open(&dir.path().join("raft-log")).expect("open log");
        let sm = StateMachineStore::open(dir.path()).expect("open state machine");
        Ok((dir, log, sm))
    }
}

#[test]
fn openraft_storage_suite() {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("openraft=info")
        .try_init();
    Suite::test_all(Builder).expect("storage suite");
}
