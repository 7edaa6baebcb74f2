//! Bulk user import (Cognito's user import jobs) across a three-store cluster and two
//! gateways: the CSV file is uploaded to one gateway through the pre-signed URL, the job
//! started and watched on the other. Imported users sign in as Cognito's do: RESET_REQUIRED
//! ones must reset their password, migrated ones (argon2id hash) keep theirs.

use crate::support::imports::*;
use crate::support::pools::*;
use signet_crypto::{KeyedHasher, PasswordHasher, PasswordParams, Secret};
use signet_proto::v1 as pb;
use signet_testkit::TestEnv;
use signet_testkit::{admin, admin_client, auth_client, TEST_ADMIN_SECRET};
use std::collections::BTreeMap;
use std::time::Duration;

const NEW_PASSWORD: &str = "N3w-Battery-Staple!";
const OLD_PASSWORD: &str = "0ld-Passw0rd-from-elsewhere!";

/// A production-strength hash of `password`, as another system would have stored it.
async fn phc(password: &str) -> String {
    PasswordHasher::new(PasswordParams::default(), 1, 4, Duration::from_secs(30))
        .hash(password)
        .await
        .expect("hash")
}

fn user_of<'a>(users: &'a [pb::UserType], name: &str) -> &'a pb::UserType {
    users
        .iter()
        .find(|u| u.username == name)
        .unwrap_or_else(|| panic!("{name} was not imported"))
}

fn attr<'a>(u: &'a pb::UserType, name: &str) -> Option<&'a str> {
    u.attributes
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.value.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_users_import_in_chunks_and_sign_in_like_cognitos() {
    let env = TestEnv::start(3, 2).await;
    let (pool_id, client_id) = pool_and_client(env.a(), false).await;
    let hash = phc(OLD_PASSWORD).await;

    let mut csv = format!("{HEADER},signet:password_hash\n");
    // A PHC string has commas: CSV quotes it.
    csv.push_str(&format!(
        "Migrated,migrated@example.com,true,false,\"{hash}\"\n"
    ));
    for i in 1..3000 {
        csv.push_str(&format!("user{i:04},user{i:04}@example.com,true,FALSE,\n"));
    }
    let job = create_job(env.a(), &pool_id).await;
    assert!(
        job.job_id.starts_with("import-") && job.job_id.len() == 29,
        "{}",
        job.job_id
    );
    assert_eq!(job.status, "Created");
    assert!(job
        .pre_signed_url
        .contains(&format!("/{pool_id}/import/{}?expires=", job.job_id)));

    // Upload to the other gateway: any gateway accepts the URL.
    let (status, answer) = upload(env.b(), &job, &csv).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["rows"], 3000);
    assert_eq!(answer["staged"], 3000);
    assert_eq!(answer["rejected"], 0);
    let staged = describe(env.a(), &pool_id, &job.job_id).await;
    assert_eq!(
        (staged.status.as_str(), staged.staged_users),
        ("Created", 3000)
    );
    // Nothing is inserted before the job starts.
    assert!(all_users(env.a(), &pool_id).await.is_empty());

    let started = start(env.b(), &pool_id, &job.job_id).await.expect("start");
    assert!(started.start_date > 0);
    // The other gateway may not take it over while the runner's lease runs (nor once done).
    let err = start(env.a(), &pool_id, &job.job_id)
        .await
        .expect_err("held by b");
    assert_eq!(
        err.code(),
        tonic::Code::FailedPrecondition,
        "{}",
        err.message()
    );
    // Starting it again where it runs does not run it twice.
    if let Err(e) = start(env.b(), &pool_id, &job.job_id).await {
        assert_eq!(e.code(), tonic::Code::FailedPrecondition, "{}", e.message());
    }
    let done = wait_final(env.a(), &pool_id, &job.job_id).await;
    assert_eq!(done.status, "Succeeded", "{}", done.completion_message);
    assert_eq!(
        (done.imported_users, done.skipped_users, done.failed_users),
        (3000, 0, 0)
    );
    assert!(done.completion_date >= done.start_date);
    assert!(
        done.completion_message.contains("3000 imported"),
        "{}",
        done.completion_message
    );

    let users = all_users(env.a(), &pool_id).await;
    assert_eq!(users.len(), 3000);
    let u = user_of(&users, "user2999");
    assert_eq!(u.user_status, "RESET_REQUIRED");
    assert_eq!(attr(u, "email"), Some("user2999@example.com"));
    assert_eq!(attr(u, "email_verified"), Some("true"));
    assert_eq!(user_of(&users, "migrated").user_status, "CONFIRMED");

    // The migrated user keeps the password it had elsewhere.
    sign_in(env.a(), &client_id, "migrated", OLD_PASSWORD).await;
    // A RESET_REQUIRED user is told to reset, whatever it types...
    let err = auth_client(env.b())
        .await
        .initiate_auth(password_auth(&client_id, "user0042", "Any-Passw0rd!"))
        .await
        .expect_err("no password yet");
    assert_eq!(exception(&err), "PasswordResetRequiredException");
    // ...and does so with ForgotPassword and the code sent to its verified e-mail.
    auth_client(env.b())
        .await
        .forgot_password(pb::ClientUserRequest {
            client_id: client_id.clone(),
            username: "user0042".into(),
            ..Default::default()
        })
        .await
        .expect("forgot password");
    let code = outbox_code(env.a(), &pool_id, "user0042", "reset").await;
    auth_client(env.a())
        .await
        .confirm_forgot_password(pb::ConfirmForgotPasswordRequest {
            client_id: client_id.clone(),
            username: "user0042".into(),
            confirmation_code: code,
            password: NEW_PASSWORD.into(),
            ..Default::default()
        })
        .await
        .expect("confirm forgot password");
    sign_in(env.b(), &client_id, "user0042", NEW_PASSWORD).await;
    env.shutdown().await;
}

/// A pool where e-mail is also a sign-in alias (so it must be unique), e-mail verified.
async fn alias_pool(gw: &signet_gateway::GatewayHandle) -> String {
    admin_client(gw)
        .await
        .create_user_pool(admin(pb::CreateUserPoolRequest {
            pool_name: "aliases".into(),
            alias_attributes: vec!["email".into()],
            auto_verified_attributes: vec!["email".into()],
            ..Default::default()
        }))
        .await
        .expect("create pool")
        .into_inner()
        .user_pool
        .expect("pool")
        .id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_are_skipped_and_bad_rows_fail_with_their_line() {
    let env = TestEnv::start(3, 2).await;
    let pool_id = alias_pool(env.a()).await;
    admin_client(env.a())
        .await
        .admin_create_user(admin(pb::AdminCreateUserRequest {
            user_pool_id: pool_id.clone(),
            username: "taken".into(),
            // Verified: only a verified address is a sign-in alias another user can't take.
            user_attributes: vec![
                pb::AttributeType {
                    name: "email".into(),
                    value: "taken@example.com".into(),
                },
                pb::AttributeType {
                    name: "email_verified".into(),
                    value: "true".into(),
                },
            ],
            temporary_password: "Temp-0rary-pass!".into(),
            message_action: "SUPPRESS".into(),
        }))
        .await
        .expect("existing user");
    let weak =
        "$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA";
    let csv = [
        "cognito:username,email,email_verified,cognito:mfa_enabled,address,signet:password_hash",
        "ok1,ok1@example.com,true,false,,",       // 2 imported
        "Taken,new@example.com,true,false,,",     // 3 skipped: username exists
        "newbie,TAKEN@example.com,true,false,,",  // 4 skipped: e-mail alias taken
        "OK1,ok1-again@example.com,true,false,,", // 5 skipped: duplicate in the file
        "bademail,nope,true,false,,",             // 6 failed
        "mfa,mfa@example.com,true,true,,",        // 7 failed: SMS MFA, no phone
        ",nameless@example.com,true,false,,",     // 8 failed: no username
        "short,short@example.com,true",           // 9 failed: field count
        &format!("weak,weak@example.com,true,false,,\"{weak}\""), // 10 failed: weak hash
        "junk,junk@example.com,true,false,,$2b$12$notargon", // 11 failed: not argon2id
        "unverified,unverified@example.com,false,false,,", // 12 failed: cannot reset
        "ok2,ok2@example.com,TRUE,False,,",       // 13 imported
        "ok3,ok3@example.com,true,false,\"1 Main St", // 14-15 imported (quoted newline)
        "Springfield\",",
        "bad-mfa,bm@example.com,true,maybe,,", // 16 failed
    ]
    .join("\n");
    let job = create_job(env.a(), &pool_id).await;
    let (status, answer) = upload(env.a(), &job, &csv).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        (
            answer["rows"].as_u64(),
            answer["staged"].as_u64(),
            answer["rejected"].as_u64()
        ),
        (Some(14), Some(6), Some(8))
    );
    start(env.b(), &pool_id, &job.job_id).await.expect("start");
    let done = wait_final(env.b(), &pool_id, &job.job_id).await;
    assert_eq!(done.status, "Succeeded", "{}", done.completion_message);
    assert_eq!(
        (done.imported_users, done.skipped_users, done.failed_users),
        (3, 3, 8)
    );
    let reasons: BTreeMap<u64, String> = done
        .row_errors
        .iter()
        .map(|e| (e.line, e.reason.clone()))
        .collect();
    let lines: Vec<u64> = reasons.keys().copied().collect();
    assert_eq!(lines, vec![3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 16]);
    let has = |line: u64, text: &str| {
        assert!(
            reasons[&line].contains(text),
            "line {line}: {:?} lacks {text:?}",
            reasons[&line]
        )
    };
    has(3, "username already exists");
    has(4, "email");
    has(5, "username already exists");
    has(6, "email");
    has(7, "MFA");
    has(8, "cognito:username is required");
    has(9, "expected 6 fields");
    has(10, "weaker than");
    has(11, "malformed");
    has(12, "email_verified=true");
    has(16, "cognito:mfa_enabled must be true or false");

    let users = all_users(env.a(), &pool_id).await;
    let mut names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();
    names.sort();
    assert_eq!(names, vec!["ok1", "ok2", "ok3", "taken"]);
    assert_eq!(
        attr(user_of(&users, "ok3"), "address"),
        Some("1 Main St\nSpringfield")
    );
    assert_eq!(
        attr(user_of(&users, "ok1"), "email"),
        Some("ok1@example.com")
    );
    // The existing user is untouched.
    assert_eq!(
        user_of(&users, "taken").user_status,
        "FORCE_CHANGE_PASSWORD"
    );
    env.shutdown().await;
}

fn small_limits(c: &mut signet_gateway::GatewayConfig) {
    c.import_max_bytes = 16 * 1024;
    c.import_max_rows = 100;
}

fn rows(n: usize) -> String {
    let mut csv = format!("{HEADER}\n");
    for i in 0..n {
        csv.push_str(&format!("u{i},u{i}@example.com,true,false\n"));
    }
    csv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_urls_limits_and_admin_credentials_are_enforced() {
    let env = TestEnv::start_with(3, 2, small_limits).await;
    let (pool_id, _) = pool_and_client(env.a(), false).await;

    // Every import call needs the admin secret.
    let mut plain = signet_testkit::admin_client(env.a()).await;
    let denied = plain
        .get_csv_header(pb::UserPoolRef {
            user_pool_id: pool_id.clone(),
        })
        .await
        .expect_err("no credentials");
    assert_eq!(exception(&denied), "NotAuthorizedException");
    let mut wrong = tonic::Request::new(pb::CreateUserImportJobRequest {
        user_pool_id: pool_id.clone(),
        job_name: "x".into(),
    });
    wrong.metadata_mut().insert(
        "authorization",
        format!("Bearer {TEST_ADMIN_SECRET}x").parse().unwrap(),
    );
    let denied = plain
        .create_user_import_job(wrong)
        .await
        .expect_err("wrong secret");
    assert_eq!(exception(&denied), "NotAuthorizedException");
    let header = plain
        .get_csv_header(admin(pb::UserPoolRef {
            user_pool_id: pool_id.clone(),
        }))
        .await
        .expect("header")
        .into_inner()
        .csv_header;
    assert_eq!(header.first().map(String::as_str), Some("name"));
    assert_eq!(
        &header[header.len() - 6..],
        &[
            "cognito:mfa_enabled",
            "cognito:username",
            "signet:password_hash",
            "signet:status",
            "signet:enabled",
            "signet:groups"
        ]
    );

    let job = create_job(env.a(), &pool_id).await;
    let path = path_of(&job.pre_signed_url);
    // Starting before an upload is refused.
    let err = start(env.a(), &pool_id, &job.job_id)
        .await
        .expect_err("nothing uploaded");
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);

    // A tampered signature, a moved expiry, another job's URL, no signature: 403.
    // The last hex digit becomes another one: always a change (a fixed `0` was none when
    // the digit already was `0`, one run in sixteen).
    let tampered = {
        let last = path.chars().last().expect("a signature");
        let other = if last == '0' { '1' } else { '0' };
        let tampered = format!("{}{other}", &path[..path.len() - 1]);
        assert_ne!(tampered, path);
        tampered
    };
    let (query_expires, _) = path.split_once("&signature=").unwrap();
    let later = {
        let (base, exp) = query_expires.split_once("?expires=").unwrap();
        let exp: u64 = exp.parse().unwrap();
        format!(
            "{base}?expires={}&{}",
            exp + 3600,
            path.split_once('&').unwrap().1
        )
    };
    let other = create_job(env.a(), &pool_id).await;
    let swapped = path.replace(&job.job_id, &other.job_id);
    let bare = path.split_once('?').unwrap().0.to_string();
    for p in [&tampered, &later, &swapped, &bare] {
        let (status, body) = upload_to(env.b(), p, &rows(1)).await;
        assert_eq!(status, 403, "{p}: {body}");
    }
    // A correctly signed URL past its expiry: 403 too. (The test knows the server key.)
    let keyed = KeyedHasher::new(&Secret::new(vec![7u8; 32]).unwrap());
    let past = 1_000_000u64;
    let sig = keyed.hash(
        "user-import-upload",
        &[
            pool_id.as_bytes(),
            job.job_id.as_bytes(),
            past.to_string().as_bytes(),
        ],
    );
    let expired = format!(
        "/{pool_id}/import/{}?expires={past}&signature={sig}",
        job.job_id
    );
    let (status, _) = upload_to(env.a(), &expired, &rows(1)).await;
    assert_eq!(status, 403);

    // Over the row limit, or announced over the byte limit: 413, and the job can still
    // take a good file.
    let (status, body) = upload_to(env.a(), &path, &rows(101)).await;
    assert_eq!(status, 413, "{body}");
    let (status, _) = crate::support::http::put(
        &env.a().http_addr().to_string(),
        &path,
        rows(1).as_bytes(),
        Some(1 << 30),
    )
    .await;
    assert_eq!(status, 413);
    // A header with a column the pool does not know: 400.
    let (status, body) = upload_to(
        env.a(),
        &path,
        "cognito:username,cognito:mfa_enabled,custom:nope\nx,false,1\n",
    )
    .await;
    assert_eq!(status, 400, "{body}");

    let (status, body) = upload_to(env.b(), &path, &rows(100)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["staged"], 100);
    // A second upload to the job: 409.
    let (status, body) = upload_to(env.a(), &path, &rows(1)).await;
    assert_eq!(status, 409, "{body}");
    start(env.a(), &pool_id, &job.job_id).await.expect("start");
    let done = wait_final(env.a(), &pool_id, &job.job_id).await;
    assert_eq!(
        (done.status.as_str(), done.imported_users),
        ("Succeeded", 100)
    );
    let (status, _) = upload_to(env.a(), &path, &rows(1)).await;
    assert_eq!(status, 409);
    // Jobs are listed per pool.
    let listed = admin_client(env.b())
        .await
        .list_user_import_jobs(admin(pb::ListUserImportJobsRequest {
            user_pool_id: pool_id.clone(),
            max_results: 10,
            ..Default::default()
        }))
        .await
        .expect("list")
        .into_inner()
        .user_import_jobs;
    let mut ids: Vec<&str> = listed.iter().map(|j| j.job_id.as_str()).collect();
    ids.sort();
    let mut expected = vec![job.job_id.as_str(), other.job_id.as_str()];
    expected.sort();
    assert_eq!(ids, expected);
    env.shutdown().await;
}

fn small_chunks(c: &mut signet_gateway::GatewayConfig) {
    c.import_chunk_rows = 10;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_job_ends_at_a_chunk_boundary() {
    let env = TestEnv::start_with(3, 2, small_chunks).await;
    let (pool_id, _) = pool_and_client(env.a(), false).await;

    // Stopped before it starts: nothing is imported and the job takes no upload.
    let idle = create_job(env.a(), &pool_id).await;
    let stopped = stop(env.b(), &pool_id, &idle.job_id).await.expect("stop");
    assert_eq!(stopped.status, "Stopped");
    let (status, _) = upload(env.a(), &idle, &rows(5)).await;
    assert_eq!(status, 409);

    let job = create_job(env.a(), &pool_id).await;
    let (status, body) = upload(env.a(), &job, &rows(2000)).await;
    assert_eq!((status, body["staged"].as_u64()), (200, Some(2000)));
    start(env.a(), &pool_id, &job.job_id).await.expect("start");
    // Stopped from the other gateway while 200 chunks are being applied.
    let stopping = stop(env.b(), &pool_id, &job.job_id).await.expect("stop");
    assert!(
        matches!(stopping.status.as_str(), "Stopping" | "Stopped"),
        "{}",
        stopping.status
    );
    let done = wait_final(env.b(), &pool_id, &job.job_id).await;
    assert_eq!(done.status, "Stopped", "{}", done.completion_message);
    assert!(done.imported_users < 2000, "{}", done.imported_users);
    assert_eq!(done.imported_users % 10, 0, "stops between chunks");
    let users = all_users(env.a(), &pool_id).await;
    assert_eq!(users.len() as i64, done.imported_users);
    // A stopped job stays stopped.
    let err = start(env.a(), &pool_id, &job.job_id)
        .await
        .expect_err("stopped");
    assert_eq!(err.code(), tonic::Code::FailedPrecondition);
    env.shutdown().await;
}
