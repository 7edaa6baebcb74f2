//! Unit tests of import jobs: staging, starting, applying, retries and skips (stops,
//! leases and failures: `tests_import_stops`).

use super::imports::chunk_key;
use super::*;
use crate::{
    query, ImportJob, ImportRow, ImportStatus, MemKv, Query, QueryResult, RequestId, RowError,
    User, UserPool, UserStatus, MAX_IMPORT_ERRORS,
};

pub(super) const JOB: &str = "import-job1";

pub(super) struct Fixture {
    pub(super) kv: MemKv,
    next: u32,
}

pub(super) fn row(line: u64, name: &str, email: &str) -> ImportRow {
    let mut user = User::new(format!("sub-{name}"), name, UserStatus::ResetRequired, 7);
    user.attributes.insert("email".into(), email.into());
    // Verified: only a verified address is a sign-in alias.
    user.attributes
        .insert("email_verified".into(), "true".into());
    ImportRow {
        line,
        user,
        groups: vec![],
    }
}

impl Fixture {
    /// A pool with e-mail as a sign-in alias and a Created job.
    pub(super) fn new() -> Self {
        let mut f = Fixture {
            kv: MemKv::new(),
            next: 0,
        };
        let mut pool = UserPool::new("p1", "test", 1);
        pool.config.alias_attributes = vec!["email".into()];
        f.ok(Command::CreateUserPool(CreateUserPool { pool }));
        f.ok(Command::CreateImportJob(CreateImportJob {
            pool_id: "p1".into(),
            job: ImportJob::new(JOB, "p1", "migration", 10, 1_000),
        }));
        f
    }

    pub(super) fn run(&mut self, c: Command) -> Outcome {
        self.next += 1;
        let mut rid = [0u8; 16];
        rid[..4].copy_from_slice(&self.next.to_be_bytes());
        rid[4] = 0x1E;
        apply(&mut self.kv, &Request::new(RequestId(rid), c)).unwrap()
    }

    pub(super) fn ok(&mut self, c: Command) {
        assert_eq!(self.run(c), Outcome::Applied);
    }

    /// A complete two-chunk upload: ann (line 2), then bob (line 3, the last chunk).
    pub(super) fn stage_ann_and_bob(&mut self, upload: &str) {
        let ann = self.stage(upload, 0, false, vec![row(2, "ann", "ann@x.io")]);
        assert_eq!(ann, Outcome::Applied);
        let bob = self.stage(upload, 1, true, vec![row(3, "bob", "bob@x.io")]);
        assert_eq!(bob, Outcome::Applied);
    }

    pub(super) fn stage(
        &mut self,
        upload: &str,
        seq: u32,
        last: bool,
        rows: Vec<ImportRow>,
    ) -> Outcome {
        self.run(Command::StageImportChunk(StageImportChunk {
            pool_id: "p1".into(),
            job_id: JOB.into(),
            upload_id: upload.into(),
            seq,
            last,
            rows,
            rejected_rows: 0,
            rejected: vec![],
        }))
    }

    pub(super) fn start(&mut self, runner: &str, at_ms: u64) -> Outcome {
        self.run(Command::StartImportJob(StartImportJob {
            pool_id: "p1".into(),
            job_id: JOB.into(),
            runner: runner.into(),
            at_ms,
            lease_until_ms: at_ms + 30_000,
        }))
    }

    pub(super) fn apply_chunk(&mut self, runner: &str, seq: u32, at_ms: u64) -> Outcome {
        self.run(Command::ApplyImportChunk(ApplyImportChunk {
            pool_id: "p1".into(),
            job_id: JOB.into(),
            runner: runner.into(),
            seq,
            at_ms,
            lease_until_ms: at_ms + 30_000,
        }))
    }

    pub(super) fn stop(&mut self, at_ms: u64) -> Outcome {
        self.run(Command::StopImportJob(StopImportJob {
            pool_id: "p1".into(),
            job_id: JOB.into(),
            at_ms,
        }))
    }

    pub(super) fn job(&self) -> ImportJob {
        match query(
            &self.kv,
            &Query::GetImportJob {
                pool_id: "p1".into(),
                job_id: JOB.into(),
            },
        )
        .unwrap()
        {
            QueryResult::ImportJob(Some(j)) => j,
            other => panic!("{other:?}"),
        }
    }

    pub(super) fn user(&self, name: &str) -> Option<User> {
        match query(
            &self.kv,
            &Query::GetUser {
                pool_id: "p1".into(),
                username: name.into(),
            },
        )
        .unwrap()
        {
            QueryResult::User(u) => u,
            other => panic!("{other:?}"),
        }
    }

    pub(super) fn chunk_rows(&self) -> usize {
        self.kv
            .rows()
            .filter(|((t, _), _)| *t == Table::ImportChunks)
            .count()
    }
}

pub(super) fn state(status: ImportStatus) -> Outcome {
    Outcome::Rejected(Rejection::ImportJobState { job_status: status })
}

#[test]
fn a_job_needs_a_live_pool_and_a_fresh_id() {
    let mut f = Fixture::new();
    let job = |pool: &str| {
        Command::CreateImportJob(CreateImportJob {
            pool_id: pool.into(),
            job: ImportJob::new(JOB, pool, "again", 10, 1_000),
        })
    };
    assert_eq!(
        f.run(job("p1")),
        Outcome::Rejected(Rejection::ImportJobExists)
    );
    assert_eq!(
        f.run(job("nope")),
        Outcome::Rejected(Rejection::PoolNotFound)
    );
    let j = f.job();
    assert_eq!(
        (j.status, j.job_name.as_str()),
        (ImportStatus::Created, "migration")
    );
}

#[test]
fn staged_chunks_apply_in_order_and_the_job_succeeds() {
    let mut f = Fixture::new();
    f.ok(Command::StageImportChunk(StageImportChunk {
        pool_id: "p1".into(),
        job_id: JOB.into(),
        upload_id: "u1".into(),
        seq: 0,
        last: false,
        rows: vec![row(2, "ann", "ann@x.io"), row(3, "bob", "bob@x.io")],
        rejected_rows: 1,
        rejected: vec![RowError {
            line: 4,
            reason: "bad email".into(),
        }],
    }));
    assert_eq!(
        f.start("gw-a", 100),
        Outcome::Rejected(Rejection::ImportNotUploaded)
    );
    assert_eq!(
        f.stage("u1", 1, true, vec![row(5, "cy", "cy@x.io")]),
        Outcome::Applied
    );
    let j = f.job();
    assert_eq!((j.chunks_staged, j.rows_staged, j.failed), (2, 3, 1));
    assert!(j.upload_complete);
    assert_eq!(f.chunk_rows(), 2);
    // Nothing is inserted before the job runs.
    assert!(f.user("ann").is_none());

    f.ok(Command::StartImportJob(StartImportJob {
        pool_id: "p1".into(),
        job_id: JOB.into(),
        runner: "gw-a".into(),
        at_ms: 100,
        lease_until_ms: 30_100,
    }));
    let j = f.job();
    assert_eq!(
        (j.status, j.started_at_ms, j.lease_until_ms),
        (ImportStatus::InProgress, 100, 30_100)
    );
    // Chunks apply in order only.
    assert_eq!(
        f.apply_chunk("gw-a", 1, 200),
        Outcome::Rejected(Rejection::ImportOutOfOrder { expected: 0 })
    );
    f.ok(Command::ApplyImportChunk(ApplyImportChunk {
        pool_id: "p1".into(),
        job_id: JOB.into(),
        runner: "gw-a".into(),
        seq: 0,
        at_ms: 200,
        lease_until_ms: 40_000,
    }));
    let j = f.job();
    assert_eq!(
        (j.status, j.next_chunk, j.imported, j.lease_until_ms),
        (ImportStatus::InProgress, 1, 2, 40_000)
    );
    assert_eq!(f.chunk_rows(), 1);
    let ann = f.user("ann").expect("ann imported");
    assert_eq!(ann.status, UserStatus::ResetRequired);
    assert_eq!(f.apply_chunk("gw-a", 1, 300), Outcome::Applied);
    let j = f.job();
    assert_eq!(
        (j.status, j.imported, j.skipped, j.failed),
        (ImportStatus::Succeeded, 3, 0, 1)
    );
    assert_eq!(j.completed_at_ms, 300);
    assert!(
        j.completion_message.contains("3 imported"),
        "{}",
        j.completion_message
    );
    assert!(
        j.completion_message.contains("line 4: bad email"),
        "{}",
        j.completion_message
    );
    assert_eq!(f.chunk_rows(), 0);
    // The alias index was written as CreateUser writes it: the e-mail signs in.
    let QueryResult::UserView(Some(v)) = query(
        &f.kv,
        &Query::GetUserForLogin {
            pool_id: "p1".into(),
            login: "cy@x.io".into(),
        },
    )
    .unwrap() else {
        panic!("cy's e-mail must resolve")
    };
    assert_eq!(v.user.username, "cy");
    // A finished job takes no more commands.
    assert_eq!(
        f.apply_chunk("gw-a", 2, 400),
        state(ImportStatus::Succeeded)
    );
    assert_eq!(f.start("gw-a", 400), state(ImportStatus::Succeeded));
    assert_eq!(f.stop(400), state(ImportStatus::Succeeded));
}

#[test]
fn retried_chunks_count_once() {
    let mut f = Fixture::new();
    assert_eq!(
        f.stage("u1", 0, false, vec![row(2, "ann", "ann@x.io")]),
        Outcome::Applied
    );
    // The same chunk again (its answer was lost): applied-before, not staged twice.
    f.stage_ann_and_bob("u1");
    let j = f.job();
    assert_eq!((j.chunks_staged, j.rows_staged), (2, 2));
    assert_eq!(f.start("gw-a", 100), Outcome::Applied);
    assert_eq!(f.apply_chunk("gw-a", 0, 200), Outcome::Applied);
    // The runner retries chunk 0: nothing is inserted or counted again.
    assert_eq!(f.apply_chunk("gw-a", 0, 210), Outcome::Applied);
    let j = f.job();
    assert_eq!((j.next_chunk, j.imported, j.skipped), (1, 1, 0));
    assert_eq!(f.apply_chunk("gw-a", 1, 220), Outcome::Applied);
    assert_eq!(f.job().imported, 2);
}

#[test]
fn a_second_upload_is_refused() {
    let mut f = Fixture::new();
    assert_eq!(
        f.stage("u1", 0, false, vec![row(2, "ann", "ann@x.io")]),
        Outcome::Applied
    );
    // Another upload, interleaved or after: refused, whatever its chunk number.
    assert_eq!(
        f.stage("u2", 0, true, vec![]),
        Outcome::Rejected(Rejection::ImportUploadConflict)
    );
    assert_eq!(
        f.stage("u2", 1, true, vec![]),
        Outcome::Rejected(Rejection::ImportUploadConflict)
    );
    assert_eq!(
        f.stage("u1", 2, true, vec![]),
        Outcome::Rejected(Rejection::ImportOutOfOrder { expected: 1 })
    );
    assert_eq!(f.stage("u1", 1, true, vec![]), Outcome::Applied);
    // Complete: even the same upload may not add a chunk.
    assert_eq!(
        f.stage("u1", 2, true, vec![]),
        Outcome::Rejected(Rejection::ImportUploadConflict)
    );
    assert_eq!(f.start("gw-a", 100), Outcome::Applied);
    assert_eq!(
        f.stage("u1", 2, true, vec![]),
        state(ImportStatus::InProgress)
    );
}

#[test]
fn taken_usernames_and_aliases_are_skipped_not_failed() {
    let mut f = Fixture::new();
    let mut existing = User::new("sub-old", "ann", UserStatus::Confirmed, 1);
    existing
        .attributes
        .insert("email".into(), "old@x.io".into());
    existing
        .attributes
        .insert("email_verified".into(), "true".into());
    f.ok(Command::CreateUser(CreateUser {
        pool_id: "p1".into(),
        user: existing,
    }));
    let rows = vec![
        row(2, "ann", "new@x.io"), // username taken
        row(3, "bob", "old@x.io"), // e-mail alias taken
        row(4, "cy", "cy@x.io"),   // fine
        row(5, "cy", "cy2@x.io"),  // duplicate inside the file
        row(6, "dee", "cy@x.io"),  // alias duplicate inside the file
    ];
    assert_eq!(f.stage("u1", 0, true, rows), Outcome::Applied);
    assert_eq!(f.start("gw-a", 100), Outcome::Applied);
    assert_eq!(f.apply_chunk("gw-a", 0, 200), Outcome::Applied);
    let j = f.job();
    assert_eq!(
        (j.status, j.imported, j.skipped, j.failed),
        (ImportStatus::Succeeded, 1, 4, 0)
    );
    let lines: Vec<u64> = j.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![2, 3, 5, 6]);
    assert!(j.errors[1].reason.contains("email"), "{:?}", j.errors[1]);
    // The existing user is untouched; the skipped ones do not exist.
    assert_eq!(f.user("ann").unwrap().sub, "sub-old");
    assert!(f.user("bob").is_none() && f.user("dee").is_none());
    assert_eq!(f.user("cy").unwrap().attributes["email"], "cy@x.io");
}

#[test]
fn row_reasons_are_bounded_but_counted() {
    let mut f = Fixture::new();
    let rejected: Vec<RowError> = (0..150)
        .map(|i| RowError {
            line: i + 2,
            reason: "bad".into(),
        })
        .collect();
    f.ok(Command::StageImportChunk(StageImportChunk {
        pool_id: "p1".into(),
        job_id: JOB.into(),
        upload_id: "up".into(),
        seq: 0,
        last: true,
        rows: vec![],
        rejected_rows: 150,
        rejected,
    }));
    let j = f.job();
    assert_eq!((j.failed, j.errors.len()), (150, MAX_IMPORT_ERRORS));
    assert_eq!(j.errors[99].line, 101);
}

#[test]
fn jobs_list_in_id_order_per_pool() {
    let mut f = Fixture::new();
    f.ok(Command::CreateImportJob(CreateImportJob {
        pool_id: "p1".into(),
        job: ImportJob::new("import-job0", "p1", "first", 5, 1_000),
    }));
    let QueryResult::ImportJobs(jobs) = query(
        &f.kv,
        &Query::ListImportJobs {
            pool_id: "p1".into(),
            after: Some("import-job0".into()),
            limit: 10,
        },
    )
    .unwrap() else {
        panic!("wrong result type")
    };
    let ids: Vec<&str> = jobs.iter().map(|j| j.job_id.as_str()).collect();
    assert_eq!(ids, vec![JOB]);
    assert_eq!(chunk_key("j", 1), b"j\0\0\0\0\x01".to_vec());
}

#[test]
fn import_rejections_survive_the_wire() {
    // Outcomes travel as JSON with internally tagged enums: no field may clash with a tag.
    for r in [
        Rejection::ImportJobExists,
        Rejection::ImportJobNotFound,
        Rejection::ImportJobState {
            job_status: ImportStatus::Stopping,
        },
        Rejection::ImportUploadConflict,
        Rejection::ImportOutOfOrder { expected: 3 },
        Rejection::ImportNotUploaded,
        Rejection::ImportLeaseHeld,
    ] {
        let o = Outcome::Rejected(r);
        let json = serde_json::to_string(&o).unwrap();
        assert_eq!(serde_json::from_str::<Outcome>(&json).unwrap(), o, "{json}");
    }
}

#[test]
fn rows_join_their_groups_or_fail_whole() {
    let mut f = Fixture::new();
    f.ok(Command::CreateGroup(CreateGroup {
        group: crate::Group {
            pool_id: "p1".into(),
            name: "staff".into(),
            group_id: "gid-staff".into(),
            description: String::new(),
            precedence: None,
            role_arn: None,
            created_at_ms: 1,
            updated_at_ms: 1,
        },
    }));
    let mut ann = row(2, "ann", "ann@x.io");
    ann.groups = vec!["staff".into()];
    let mut bob = row(3, "bob", "bob@x.io");
    bob.groups = vec!["staff".into(), "missing".into()];
    assert_eq!(f.stage("u1", 0, true, vec![ann, bob]), Outcome::Applied);
    assert_eq!(f.start("gw-a", 100), Outcome::Applied);
    assert_eq!(f.apply_chunk("gw-a", 0, 200), Outcome::Applied);
    let j = f.job();
    assert_eq!((j.imported, j.failed), (1, 1));
    assert!(
        j.errors[0].reason.contains("group missing does not exist"),
        "{j:?}"
    );
    assert!(f.user("bob").is_none(), "no half-made bob");
    let groups = match query(
        &f.kv,
        &Query::ListGroupsForUser {
            pool_id: "p1".into(),
            username: "ann".into(),
        },
    )
    .unwrap()
    {
        QueryResult::Groups(g) => g.into_iter().map(|g| g.name).collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(groups, ["staff"]);
    // Exported: the same user with its group names.
    let page = query(
        &f.kv,
        &Query::ExportUsers {
            pool_id: "p1".into(),
            after: None,
            limit: 10,
        },
    )
    .unwrap();
    let QueryResult::UserViews(views) = page else {
        panic!("{page:?}")
    };
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].user.username, "ann");
    assert_eq!(views[0].groups[0].name, "staff");
    // A row staged before rows had groups reads as joining none.
    let old = r#"{"line":4,"user":{"sub":"s","username":"cy","status":"RESET_REQUIRED","enabled":true,"password_hash":null,"created_at_ms":1,"updated_at_ms":1}}"#;
    let row: ImportRow = serde_json::from_str(old).unwrap();
    assert!(row.groups.is_empty());
}
