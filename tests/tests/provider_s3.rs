//! The S3 types through the built binary against the emulator: a bucket with its folded
//! settings, its policy and its notifications applies, reads back through the SDK, re-plans
//! clean, changes in place under the same name, is replaced under a new name (the old bucket
//! gone), is imported back and destroyed; objects upload again when their file changes, a new
//! key replaces an object, and `force_destroy` empties a versioned bucket of every version.

use strata_tests::{assert_code, Project};

/// The S3 client of the project's emulator (path-style, as strata's own).
fn s3(p: &Project) -> aws_sdk_s3::Client {
    let ctx = p.ctx();
    let config = aws_sdk_s3::config::Builder::from(&ctx.sdk)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// The id recorded for `address` in the state of stack `stack`.
fn recorded(p: &Project, stack: &str, address: &str) -> serde_json::Value {
    let text =
        std::fs::read_to_string(p.path().join(format!(".strata/{stack}.state.json"))).unwrap();
    let state: serde_json::Value = serde_json::from_str(&text).unwrap();
    state["resources"][address].clone()
}

fn recorded_id(p: &Project, stack: &str, address: &str) -> String {
    recorded(p, stack, address)["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id for {address}"))
        .to_string()
}

/// The bucket's versioning status (`Enabled`, `Suspended`), or `None` when never enabled. The
/// emulator names the answer's XML root after the operation, which the SDK refuses; its text
/// is read then.
async fn versioning(s3: &aws_sdk_s3::Client, bucket: &str) -> Option<String> {
    match s3.get_bucket_versioning().bucket(bucket).send().await {
        Ok(out) => out.status().map(|s| s.as_str().to_string()),
        Err(err) => {
            let raw = err.raw_response().expect("an answer from the emulator");
            let text = std::str::from_utf8(raw.body().bytes().unwrap()).unwrap();
            let status = text.split("<Status>").nth(1)?;
            Some(status.split('<').next().unwrap().to_string())
        }
    }
}

async fn bucket_exists(s3: &aws_sdk_s3::Client, bucket: &str) -> bool {
    s3.head_bucket().bucket(bucket).send().await.is_ok()
}

/// Asserts a plan with `--detailed-exitcode` finds nothing to do.
fn assert_clean(p: &Project, after: &str) {
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        run.code, 0,
        "plan after {after}:\n{}{}",
        run.stdout, run.stderr
    );
}

fn assert_clean_in_eu(p: &Project, after: &str) {
    let run = in_eu(p, &["plan", "--detailed-exitcode"]);
    assert_eq!(
        run.code, 0,
        "plan after {after}:\n{}{}",
        run.stdout, run.stderr
    );
}

/// A bucket (named from `name_line`, when given) with settings, its policy and a queue it
/// notifies. `days` is the lifecycle expiration, `events` the notified events.
fn bucket_stack(name_line: &str, versioning: bool, days: u32, events: &str, sid: &str) -> String {
    format!(
        r#"stack: s3t
region: us-east-1
tags: {{ team: storage }}
resources:
  inbox:
    type: aws.sqs.queue
  inbox_policy:
    type: aws.sqs.queue_policy
    properties:
      queue_url: "${{inbox.url}}"
      policy:
        Version: "2012-10-17"
        Statement:
          Effect: Allow
          Principal: {{ Service: s3.amazonaws.com }}
          Action: sqs:SendMessage
          Resource: "${{inbox.arn}}"
  site:
    type: aws.s3.bucket
    properties:
      {name_line}
      versioning: {versioning}
      public_access_block: {{ block_public_policy: false }}
      lifecycle_rules:
        - id: logs
          prefix: logs/
          expiration_days: {days}
          transitions: [{{ days: 10, storage_class: STANDARD_IA }}]
      cors_rules:
        - {{ allowed_methods: [GET], allowed_origins: ["https://example.com"], max_age_seconds: 60 }}
      tags: {{ purpose: site }}
  site_policy:
    type: aws.s3.bucket_policy
    properties:
      bucket: "${{site.bucket}}"
      policy:
        Version: "2012-10-17"
        Statement:
          - Sid: {sid}
            Effect: Allow
            Principal: {{ AWS: "arn:aws:iam::123456789012:root" }}
            Action: s3:GetObject
            Resource: "${{site.arn}}/*"
  site_events:
    type: aws.s3.bucket_notification
    depends_on: [inbox_policy]
    properties:
      bucket: "${{site.bucket}}"
      queues:
        - arn: "${{inbox.arn}}"
          events: [{events}]
          filter_prefix: uploads/
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bucket_with_its_policy_and_notifications_changes_in_place_is_replaced_imported_and_destroyed(
) {
    let p = Project::new(&bucket_stack(
        "",
        true,
        30,
        "\"s3:ObjectCreated:*\", \"s3:ObjectRemoved:*\"",
        "KeepIt",
    ));
    let s3 = s3(&p);

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("Apply complete: 5 added, 0 changed, 0 destroyed."),
        "{}",
        run.stdout
    );
    // The derived name, and every setting as the stack wrote it (the rest at AWS's defaults).
    let bucket = "s3t-site";
    assert_eq!(recorded_id(&p, "s3t", "site"), bucket);
    assert_eq!(versioning(&s3, bucket).await.as_deref(), Some("Enabled"));
    let pab = s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let pab = pab.public_access_block_configuration().unwrap();
    assert_eq!(pab.block_public_policy(), Some(false));
    assert_eq!(pab.block_public_acls(), Some(true));
    assert_eq!(pab.restrict_public_buckets(), Some(true));
    let sse = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let rule = &sse.server_side_encryption_configuration().unwrap().rules()[0];
    assert_eq!(
        rule.apply_server_side_encryption_by_default()
            .unwrap()
            .sse_algorithm()
            .as_str(),
        "AES256"
    );
    let lifecycle = s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(lifecycle.rules()[0].id(), Some("logs"));
    assert_eq!(lifecycle.rules()[0].expiration().unwrap().days(), Some(30));
    let cors = s3.get_bucket_cors().bucket(bucket).send().await.unwrap();
    assert_eq!(
        cors.cors_rules()[0].allowed_origins(),
        ["https://example.com"]
    );
    let ownership = s3
        .get_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ownership.ownership_controls().unwrap().rules()[0]
            .object_ownership()
            .as_str(),
        "BucketOwnerEnforced"
    );
    let tags = s3.get_bucket_tagging().bucket(bucket).send().await.unwrap();
    let tag = |key: &str| {
        tags.tag_set()
            .iter()
            .find(|t| t.key() == key)
            .map(|t| t.value().to_string())
    };
    assert_eq!(tag("purpose").as_deref(), Some("site"));
    assert_eq!(tag("team").as_deref(), Some("storage"));
    assert_eq!(tag("strata:address").as_deref(), Some("site"));
    let policy = s3.get_bucket_policy().bucket(bucket).send().await.unwrap();
    assert!(policy.policy().unwrap().contains("KeepIt"));
    let notification = s3
        .get_bucket_notification_configuration()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let queue = &notification.queue_configurations()[0];
    assert!(queue.queue_arn().ends_with(":s3t-inbox"), "{queue:?}");
    assert_eq!(queue.events().len(), 2);
    assert_clean(&p, "create");

    // In place: versioning suspended, the rule's expiration, the policy, the events.
    p.write_stack(&bucket_stack(
        "",
        false,
        60,
        "\"s3:ObjectCreated:*\"",
        "KeepItSafe",
    ));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    for line in [
        "~ site (aws.s3.bucket) will be updated in place",
        "~ site_policy (aws.s3.bucket_policy) will be updated in place",
        "~ site_events (aws.s3.bucket_notification) will be updated in place",
    ] {
        assert!(run.stdout.contains(line), "{line}:\n{}", run.stdout);
    }
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert_eq!(recorded_id(&p, "s3t", "site"), bucket);
    assert_eq!(versioning(&s3, bucket).await.as_deref(), Some("Suspended"));
    let lifecycle = s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(lifecycle.rules()[0].expiration().unwrap().days(), Some(60));
    let policy = s3.get_bucket_policy().bucket(bucket).send().await.unwrap();
    assert!(policy.policy().unwrap().contains("KeepItSafe"));
    let notification = s3
        .get_bucket_notification_configuration()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(notification.queue_configurations()[0].events().len(), 1);
    assert_clean(&p, "the in-place change");

    // Lifecycle rules and CORS taken out of the stack are cleared in S3.
    let without = bucket_stack("", false, 60, "\"s3:ObjectCreated:*\"", "KeepItSafe")
        .replace(
            "      lifecycle_rules:\n        - id: logs\n          prefix: logs/\n          expiration_days: 60\n          transitions: [{ days: 10, storage_class: STANDARD_IA }]\n",
            "",
        )
        .replace(
            "      cors_rules:\n        - { allowed_methods: [GET], allowed_origins: [\"https://example.com\"], max_age_seconds: 60 }\n",
            "",
        );
    assert!(!without.contains("lifecycle_rules"), "{without}");
    p.write_stack(&without);
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
        .is_err());
    assert!(s3.get_bucket_cors().bucket(bucket).send().await.is_err());
    assert_clean(&p, "taking lifecycle rules and CORS out");

    // A new name replaces the bucket, and with it the policy and notifications on it.
    let renamed = bucket_stack(
        "bucket: s3t-renamed",
        false,
        60,
        "\"s3:ObjectCreated:*\"",
        "KeepItSafe",
    );
    p.write_stack(&renamed);
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("-/+ site (aws.s3.bucket) must be replaced"),
        "{}",
        run.stdout
    );
    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(!bucket_exists(&s3, bucket).await, "the old bucket is gone");
    assert!(bucket_exists(&s3, "s3t-renamed").await);
    assert_eq!(recorded_id(&p, "s3t", "site"), "s3t-renamed");
    let policy = s3
        .get_bucket_policy()
        .bucket("s3t-renamed")
        .send()
        .await
        .unwrap();
    assert!(policy.policy().unwrap().contains("s3t-renamed"));
    assert_clean(&p, "the replacement");

    // Forgotten, then imported by their ids (each the bucket name): nothing to do after.
    for address in ["site", "site_policy", "site_events"] {
        assert_code(&p.strata(&["state", "rm", address]), 0);
        let run = p.strata(&["import", address, "s3t-renamed"]);
        assert_code(&run, 0);
    }
    assert_clean(&p, "import");

    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(!bucket_exists(&s3, "s3t-renamed").await);
    assert!(!bucket_exists(&s3, bucket).await);
}

/// Runs strata in `eu-west-1` (the emulator's environment names `us-east-1`, which a stack's
/// `region:` does not override).
fn in_eu(p: &Project, args: &[&str]) -> strata_tests::Run {
    p.strata(&[&["--region", "eu-west-1"], args].concat())
}

/// A versioned bucket in `eu-west-1` that strata may empty, a page from a local file and a
/// note from text.
fn object_stack(note_key: &str, note_type: &str) -> String {
    format!(
        r#"stack: objs
region: eu-west-1
resources:
  data:
    type: aws.s3.bucket
    properties: {{ versioning: true, force_destroy: true }}
  page:
    type: aws.s3.object
    properties:
      bucket: "${{data.bucket}}"
      key: site/index.html
      source: site/index.html
      content_type: text/html
      tags: {{ kind: page }}
  note:
    type: aws.s3.object
    properties:
      bucket: "${{data.bucket}}"
      key: {note_key}
      content: hello
      content_type: {note_type}
"#
    )
}

async fn body(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> String {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    let bytes = out.body.collect().await.unwrap().into_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn versions(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> usize {
    let out = s3
        .list_object_versions()
        .bucket(bucket)
        .prefix(key)
        .send()
        .await
        .unwrap();
    out.versions()
        .iter()
        .filter(|v| v.key() == Some(key))
        .count()
        + out
            .delete_markers()
            .iter()
            .filter(|m| m.key() == Some(key))
            .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn objects_upload_again_when_their_file_changes_and_force_destroy_empties_a_versioned_bucket()
{
    let p = Project::new(&object_stack("notes/hello.txt", "text/plain"));
    std::fs::create_dir_all(p.path().join("site")).unwrap();
    std::fs::write(p.path().join("site/index.html"), "<h1>v1</h1>").unwrap();
    let s3 = s3(&p);
    let bucket = "objs-data";

    let run = in_eu(&p, &["apply", "--auto-approve"]);
    assert_code(&run, 0);
    // Made in the stack's region, not the client's.
    let location = s3
        .get_bucket_location()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        location.location_constraint().map(|l| l.as_str()),
        Some("eu-west-1")
    );
    assert_eq!(body(&s3, bucket, "site/index.html").await, "<h1>v1</h1>");
    assert_eq!(body(&s3, bucket, "notes/hello.txt").await, "hello");
    let head = s3
        .head_object()
        .bucket(bucket)
        .key("site/index.html")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("text/html"));
    let tags = s3
        .get_object_tagging()
        .bucket(bucket)
        .key("site/index.html")
        .send()
        .await
        .unwrap();
    assert!(tags
        .tag_set()
        .iter()
        .any(|t| t.key() == "kind" && t.value() == "page"));
    let first_version = recorded(&p, "objs", "page")["attributes"]["version_id"].clone();
    assert_eq!(recorded_id(&p, "objs", "page"), "objs-data/site/index.html");
    assert_clean_in_eu(&p, "create");

    // Editing the file is a change of `source`: uploaded again, a new version, the same id.
    std::fs::write(p.path().join("site/index.html"), "<h1>v2</h1>").unwrap();
    let run = in_eu(&p, &["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("~ page (aws.s3.object) will be updated in place"),
        "{}",
        run.stdout
    );
    let run = in_eu(&p, &["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert_eq!(body(&s3, bucket, "site/index.html").await, "<h1>v2</h1>");
    assert_eq!(recorded_id(&p, "objs", "page"), "objs-data/site/index.html");
    assert_ne!(
        recorded(&p, "objs", "page")["attributes"]["version_id"],
        first_version
    );
    assert_clean_in_eu(&p, "the file was uploaded again");

    // A content type is changed in place; a new key replaces the object, every version of the
    // old key gone.
    p.write_stack(&object_stack("notes/hello.txt", "text/markdown"));
    let run = in_eu(&p, &["apply", "--auto-approve"]);
    assert_code(&run, 0);
    let head = s3
        .head_object()
        .bucket(bucket)
        .key("notes/hello.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_type(), Some("text/markdown"));
    assert_eq!(recorded_id(&p, "objs", "note"), "objs-data/notes/hello.txt");
    assert_clean_in_eu(&p, "the content type change");
    p.write_stack(&object_stack("notes/hi.txt", "text/markdown"));
    let run = in_eu(&p, &["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("-/+ note (aws.s3.object) must be replaced"),
        "{}",
        run.stdout
    );
    let run = in_eu(&p, &["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert_eq!(versions(&s3, bucket, "notes/hello.txt").await, 0);
    assert_eq!(body(&s3, bucket, "notes/hi.txt").await, "hello");
    assert_clean_in_eu(&p, "the replacement");

    // Forgotten, then imported: the file still matches the object, so nothing to do.
    for (address, id) in [
        ("page", "objs-data/site/index.html"),
        ("note", "objs-data/notes/hi.txt"),
        ("data", "objs-data"),
    ] {
        assert_code(&in_eu(&p, &["state", "rm", address]), 0);
        assert_code(&in_eu(&p, &["import", address, id]), 0);
    }
    assert_clean_in_eu(&p, "import");

    // Objects put behind strata's back, in several versions and with a delete marker: the
    // bucket is emptied of all of them and deleted.
    for body in ["one", "two"] {
        s3.put_object()
            .bucket(bucket)
            .key("stray.txt")
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .unwrap();
    }
    s3.delete_object()
        .bucket(bucket)
        .key("stray.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(versions(&s3, bucket, "stray.txt").await, 3);
    let run = in_eu(&p, &["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(!bucket_exists(&s3, bucket).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bucket_holding_objects_without_force_destroy_is_not_deleted_and_says_why() {
    let p = Project::new(
        "stack: keep\nregion: us-east-1\nresources:\n  data:\n    type: aws.s3.bucket\n",
    );
    let s3 = s3(&p);
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    s3.put_object()
        .bucket("keep-data")
        .key("precious.txt")
        .body(b"keep me".to_vec().into())
        .send()
        .await
        .unwrap();
    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 1);
    assert!(run.stderr.contains("BucketNotEmpty"), "{}", run.stderr);
    assert!(run.stderr.contains("force_destroy"), "{}", run.stderr);
    assert_eq!(body(&s3, "keep-data", "precious.txt").await, "keep me");
}
