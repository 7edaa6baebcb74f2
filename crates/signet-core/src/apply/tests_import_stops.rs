//! Unit tests of import jobs: stops, runner leases, failures and pool deletion.

use super::tests_imports::{row, state, Fixture, JOB};
use super::*;
use crate::{query, ImportStatus, Query, QueryResult};

#[test]
fn stop_before_start_drops_the_staged_users() {
    let mut f = Fixture::new();
    f.stage_ann_and_bob("u1");
    assert_eq!(f.stop(50), Outcome::Applied);
    let j = f.job();
    assert_eq!(
        (j.status, j.completed_at_ms, j.imported),
        (ImportStatus::Stopped, 50, 0)
    );
    assert_eq!(f.chunk_rows(), 0);
    assert_eq!(f.start("gw-a", 100), state(ImportStatus::Stopped));
    assert_eq!(f.stage("u1", 2, true, vec![]), state(ImportStatus::Stopped));
    assert!(f.user("ann").is_none());
}

#[test]
fn stop_while_running_ends_at_the_next_chunk_boundary() {
    let mut f = Fixture::new();
    for seq in 0..3 {
        let name = format!("u{seq}");
        let rows = vec![row(u64::from(seq) + 2, &name, &format!("{name}@x.io"))];
        assert_eq!(f.stage("up", seq, seq == 2, rows), Outcome::Applied);
    }
    assert_eq!(f.start("gw-a", 100), Outcome::Applied);
    assert_eq!(f.apply_chunk("gw-a", 0, 200), Outcome::Applied);
    assert_eq!(f.stop(250), Outcome::Applied);
    assert_eq!(f.job().status, ImportStatus::Stopping);
    assert_eq!(f.stop(260), Outcome::Applied); // idempotent
                                               // The runner's next write ends the job instead of applying chunk 1.
    assert_eq!(f.apply_chunk("gw-a", 1, 300), Outcome::Applied);
    let j = f.job();
    assert_eq!(
        (j.status, j.imported, j.next_chunk),
        (ImportStatus::Stopped, 1, 1)
    );
    assert!(f.user("u0").is_some() && f.user("u1").is_none());
    assert_eq!(f.chunk_rows(), 0);
    assert!(
        j.completion_message.starts_with("Stopped"),
        "{}",
        j.completion_message
    );
}

#[test]
fn a_lapsed_lease_lets_another_gateway_resume() {
    let mut f = Fixture::new();
    f.stage_ann_and_bob("up");
    assert_eq!(f.start("gw-a", 100), Outcome::Applied); // lease until 30_100
    assert_eq!(f.apply_chunk("gw-a", 0, 200), Outcome::Applied); // renewed to 30_200
                                                                 // gw-a's lease still runs: gw-b may not take over, and only the holder applies.
    assert_eq!(
        f.start("gw-b", 30_000),
        Outcome::Rejected(Rejection::ImportLeaseHeld)
    );
    assert_eq!(
        f.apply_chunk("gw-b", 1, 30_000),
        Outcome::Rejected(Rejection::ImportLeaseHeld)
    );
    // gw-a died; after its lease gw-b resumes where it stopped.
    assert_eq!(f.start("gw-b", 30_201), Outcome::Applied);
    assert_eq!(
        f.apply_chunk("gw-a", 1, 30_300),
        Outcome::Rejected(Rejection::ImportLeaseHeld)
    );
    assert_eq!(f.apply_chunk("gw-b", 1, 30_300), Outcome::Applied);
    let j = f.job();
    assert_eq!(
        (j.status, j.imported, j.runner.as_str()),
        (ImportStatus::Succeeded, 2, "gw-b")
    );
}

#[test]
fn stopping_a_job_whose_runner_died_stops_it_at_once() {
    let mut f = Fixture::new();
    f.stage_ann_and_bob("up");
    assert_eq!(f.start("gw-a", 100), Outcome::Applied);
    assert_eq!(f.stop(200), Outcome::Applied);
    assert_eq!(f.job().status, ImportStatus::Stopping);
    // Nobody reaches the chunk boundary; a stop after the lease ends it.
    assert_eq!(f.stop(40_000), Outcome::Applied);
    assert_eq!(f.job().status, ImportStatus::Stopped);
    assert_eq!(f.chunk_rows(), 0);
}

#[test]
fn the_runner_can_fail_a_job() {
    let mut f = Fixture::new();
    assert_eq!(
        f.stage("up", 0, true, vec![row(2, "ann", "ann@x.io")]),
        Outcome::Applied
    );
    let fail = |runner: &str| {
        Command::FailImportJob(FailImportJob {
            pool_id: "p1".into(),
            job_id: JOB.into(),
            runner: runner.into(),
            at_ms: 500,
            message: "store unavailable".into(),
        })
    };
    assert_eq!(f.run(fail("gw-a")), state(ImportStatus::Created));
    assert_eq!(f.start("gw-a", 100), Outcome::Applied);
    assert_eq!(
        f.run(fail("gw-b")),
        Outcome::Rejected(Rejection::ImportLeaseHeld)
    );
    assert_eq!(f.run(fail("gw-a")), Outcome::Applied);
    let j = f.job();
    assert_eq!((j.status, j.completed_at_ms), (ImportStatus::Failed, 500));
    assert!(
        j.completion_message.starts_with("store unavailable"),
        "{}",
        j.completion_message
    );
    assert_eq!(f.chunk_rows(), 0);
}

#[test]
fn deleting_the_pool_makes_jobs_unreachable_and_fails_a_running_one() {
    let mut f = Fixture::new();
    f.stage_ann_and_bob("up");
    assert_eq!(f.start("gw-a", 100), Outcome::Applied);
    f.ok(Command::DeleteUserPool(DeleteUserPool {
        pool_id: "p1".into(),
        at_ms: 150,
    }));
    let get = query(
        &f.kv,
        &Query::GetImportJob {
            pool_id: "p1".into(),
            job_id: JOB.into(),
        },
    )
    .unwrap();
    assert_eq!(get, QueryResult::ImportJob(None));
    let list = query(
        &f.kv,
        &Query::ListImportJobs {
            pool_id: "p1".into(),
            after: None,
            limit: 10,
        },
    )
    .unwrap();
    assert_eq!(list, QueryResult::ImportJobs(vec![]));
    assert_eq!(f.stop(160), Outcome::Rejected(Rejection::PoolNotFound));
    // The runner's next write frees the staged users.
    assert_eq!(
        f.apply_chunk("gw-a", 0, 200),
        Outcome::Rejected(Rejection::PoolNotFound)
    );
    assert_eq!(f.chunk_rows(), 0);
}
