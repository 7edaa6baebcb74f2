//! Black-box: README's bulk import example with the real binary. `signet dev` runs as a
//! child process; `signet admin import-users --wait` creates a job, PUTs the CSV file to its
//! pre-signed URL, starts it and follows it; the users are then there, and a second upload
//! to the finished job is refused.

use crate::support::{json_ok, start_dev, text, Cli};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_users_from_a_csv_file_with_the_cli() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let data_dir = tmp.path().join("data");
    let dev = start_dev(&data_dir).await;
    let cli = Cli::of(&dev, data_dir);

    let out = cli
        .admin(&["create-pool", "--name", "import", "--auto-verify", "email"])
        .await;
    let pool_id = text(&json_ok("create-pool", &out)["user_pool"]["id"]);
    let out = cli
        .admin(&["import-jobs", "csv-header", "--pool", &pool_id])
        .await;
    let header = json_ok("csv-header", &out)["csv_header"].clone();
    assert!(header
        .as_array()
        .expect("columns")
        .iter()
        .any(|c| c == "signet:password_hash"));

    let csv_path = tmp.path().join("users.csv");
    let mut csv = String::from("cognito:username,email,email_verified,cognito:mfa_enabled\n");
    for i in 0..120 {
        csv.push_str(&format!("user{i},user{i}@example.com,true,false\n"));
    }
    csv.push_str("broken,not-an-email,true,false\n");
    std::fs::write(&csv_path, csv).expect("write csv");
    let csv_arg = csv_path.to_str().expect("utf-8 path");

    let out = cli
        .admin(&[
            "import-users",
            "--pool",
            &pool_id,
            "--csv",
            csv_arg,
            "--wait",
        ])
        .await;
    let job = json_ok("import-users", &out)["user_import_job"].clone();
    assert_eq!(job["status"], "Succeeded", "{job}");
    assert_eq!(job["imported_users"], 120);
    assert_eq!(job["failed_users"], 1);
    assert_eq!(job["row_errors"][0]["line"], 122);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("uploaded: 121 rows, 120 staged, 1 rejected"),
        "{stderr}"
    );
    let job_id = text(&job["job_id"]);

    let out = cli
        .admin(&["get-user", "--pool", &pool_id, "--username", "user7"])
        .await;
    assert_eq!(
        json_ok("get-user", &out)["user"]["user_status"],
        "RESET_REQUIRED"
    );
    let out = cli
        .admin(&["import-jobs", "list", "--pool", &pool_id])
        .await;
    let jobs = json_ok("list", &out)["user_import_jobs"].clone();
    assert_eq!(jobs.as_array().map(Vec::len), Some(1));
    assert_eq!(jobs[0]["job_id"], job_id.as_str());

    // The finished job takes no second upload: refused with the gateway's reason.
    let out = cli
        .admin(&[
            "import-jobs",
            "upload",
            "--pool",
            &pool_id,
            "--job-id",
            &job_id,
            "--csv",
            csv_arg,
        ])
        .await;
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("409"), "{stderr}");

    // Export: the 120 users in the import format, 50 per call; the progress file is gone
    // at the end, and the file is the owner's only.
    let whole = tmp.path().join("export.csv");
    let whole_arg = whole.to_str().expect("utf-8 path");
    let export = |out: &str, more: &[&str]| {
        let mut args = vec![
            "export-users",
            "--pool",
            &pool_id,
            "--out",
            out,
            "--page-size",
            "50",
        ];
        args.extend_from_slice(more);
        args.into_iter()
            .map(str::to_string)
            .collect::<Vec<String>>()
    };
    let args = export(whole_arg, &[]);
    let out = cli
        .admin(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    assert_eq!(json_ok("export-users", &out)["users"], 120);
    let exported = std::fs::read_to_string(&whole).expect("export");
    let lines: Vec<&str> = exported.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 121);
    assert!(
        lines[1..]
            .iter()
            .all(|l| l.ends_with(",RESET_REQUIRED,true,")),
        "{}",
        lines[1]
    );
    assert!(!tmp.path().join("export.csv.next").exists());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&whole)
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // Not overwritten.
    let out = cli
        .admin(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    assert_ne!(out.status.code(), Some(0));

    // Interrupted after the first page was recorded and the second written but not
    // recorded: --resume cuts the unrecorded bytes and writes the same file.
    let partial = tmp.path().join("partial.csv");
    let first_page: String = exported.split_inclusive("\r\n").take(51).collect();
    let last_user = first_page
        .trim_end()
        .rsplit("\r\n")
        .next()
        .and_then(|l| l.split(',').rev().nth(4))
        .expect("a username")
        .to_string();
    std::fs::write(
        &partial,
        format!("{first_page}half,a,page,that,was,never,recorded"),
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("partial.csv.next"),
        format!("{}\n{last_user}\n", first_page.len()),
    )
    .unwrap();
    let args = export(partial.to_str().unwrap(), &["--resume"]);
    let out = cli
        .admin(&args.iter().map(String::as_str).collect::<Vec<_>>())
        .await;
    assert_eq!(json_ok("export-users --resume", &out)["users"], 70);
    assert_eq!(std::fs::read_to_string(&partial).unwrap(), exported);
}
