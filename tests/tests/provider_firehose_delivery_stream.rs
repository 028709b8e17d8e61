//! `aws.firehose.delivery_stream` through the built binary against the emulator: a delivery
//! stream fed by a Kinesis stream and a direct-put one with server-side encryption apply and
//! re-plan clean; the S3 settings change in place on the same delivery stream (and go back to
//! Firehose's defaults when taken out), encryption is stopped when taken out, tags follow; a
//! new name replaces the delivery stream and the old one is gone; `state rm` + `import` by ARN
//! plans nothing; a destination other than `extended_s3` is refused at load time; destroy
//! leaves nothing.

use aws_sdk_firehose::types::DeliveryStreamDescription;
use providers::aws::AwsContext;
use strata_tests::{assert_code, Project};

use crate::provider_kinesis_stream::{assert_clean_plan, recorded_id, stream_names};

/// The stack: a bucket, a Kinesis stream and a role for Firehose; `delivery` reads the stream
/// (with `name`, the S3 settings `s3` and `tags`), `direct` is direct put (with `sse`).
fn stack(name: &str, destination: &str, s3: &str, tags: &str, sse: &str) -> String {
    format!(
        r#"stack: fh
region: us-east-1
resources:
  bucket:
    type: aws.s3.bucket
  source:
    type: aws.kinesis.stream
    properties: {{ shard_count: 1 }}
  role:
    type: aws.iam.role
    properties:
      assume_role_policy:
        Version: "2012-10-17"
        Statement: {{ Effect: Allow, Principal: {{ Service: firehose.amazonaws.com }}, Action: sts:AssumeRole }}
  delivery:
    type: aws.firehose.delivery_stream
    properties:
      {name}
      destination: {destination}
      extended_s3_configuration:
        role_arn: ${{role.arn}}
        bucket_arn: ${{bucket.arn}}
{s3}
      kinesis_source_configuration:
        kinesis_stream_arn: ${{source.arn}}
        role_arn: ${{role.arn}}
      tags: {tags}
  direct:
    type: aws.firehose.delivery_stream
    properties:
      destination: extended_s3
      extended_s3_configuration: {{ role_arn: "${{role.arn}}", bucket_arn: "${{bucket.arn}}" }}
{sse}
"#
    )
}

const NO_NAME: &str = "# named by strata";
const TUNED: &str = "        prefix: raw/
        error_output_prefix: errors/
        buffering_size: 10
        buffering_interval: 60
        compression_format: GZIP";
const ENCRYPTED: &str = "      server_side_encryption: { enabled: true }";

/// The description of delivery stream `name`; `None` when it does not exist.
async fn describe(ctx: &AwsContext, name: &str) -> Option<DeliveryStreamDescription> {
    aws_sdk_firehose::Client::new(&ctx.sdk)
        .describe_delivery_stream()
        .delivery_stream_name(name)
        .send()
        .await
        .ok()
        .and_then(|o| o.delivery_stream_description)
}

/// Every delivery stream name, sorted.
async fn delivery_stream_names(ctx: &AwsContext) -> Vec<String> {
    let out = aws_sdk_firehose::Client::new(&ctx.sdk)
        .list_delivery_streams()
        .send()
        .await
        .unwrap();
    let mut names = out.delivery_stream_names().to_vec();
    names.sort();
    names
}

/// `(prefix, size MiB, interval s, compression)` of a delivery stream's S3 destination.
fn s3_settings(out: &DeliveryStreamDescription) -> (String, i32, i32, String) {
    let s3 = out.destinations()[0]
        .extended_s3_destination_description()
        .expect("an extended S3 destination");
    let hints = s3.buffering_hints().expect("buffering hints");
    (
        s3.prefix().unwrap_or_default().to_string(),
        hints.size_in_mbs().unwrap_or_default(),
        hints.interval_in_seconds().unwrap_or_default(),
        s3.compression_format().as_str().to_string(),
    )
}

fn encryption_status(out: &DeliveryStreamDescription) -> Option<String> {
    out.delivery_stream_encryption_configuration()
        .and_then(|c| c.status())
        .map(|s| s.as_str().to_string())
}

async fn user_tags(ctx: &AwsContext, name: &str) -> Vec<String> {
    let out = aws_sdk_firehose::Client::new(&ctx.sdk)
        .list_tags_for_delivery_stream()
        .delivery_stream_name(name)
        .send()
        .await
        .unwrap();
    let mut tags: Vec<String> = out
        .tags()
        .iter()
        .filter(|t| !t.key().starts_with("strata:"))
        .map(|t| format!("{}={}", t.key(), t.value().unwrap_or_default()))
        .collect();
    tags.sort();
    tags
}

#[tokio::test(flavor = "multi_thread")]
async fn delivery_streams_apply_change_in_place_replace_on_a_new_name_import_and_destroy_cleanly() {
    let first = stack(NO_NAME, "extended_s3", "", "{ team: data }", ENCRYPTED);
    let p = Project::new(&first);
    let ctx = p.ctx();

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("Apply complete: 5 added"),
        "{}",
        run.stdout
    );
    let delivery = describe(&ctx, "fh-delivery")
        .await
        .expect("delivery exists");
    assert_eq!(delivery.delivery_stream_status().as_str(), "ACTIVE");
    assert_eq!(
        delivery.delivery_stream_type().as_str(),
        "KinesisStreamAsSource"
    );
    let source = delivery
        .source()
        .and_then(|s| s.kinesis_stream_source_description())
        .expect("a Kinesis source");
    assert!(
        source
            .kinesis_stream_arn()
            .is_some_and(|a| a.ends_with(":stream/fh-source")),
        "{source:?}"
    );
    let s3 = delivery.destinations()[0]
        .extended_s3_destination_description()
        .unwrap();
    assert_eq!(s3.bucket_arn(), "arn:aws:s3:::fh-bucket");
    assert!(s3.role_arn().ends_with(":role/fh-role"), "{s3:?}");
    assert_eq!(
        s3_settings(&delivery),
        (String::new(), 5, 300, "UNCOMPRESSED".to_string())
    );
    assert_eq!(user_tags(&ctx, "fh-delivery").await, ["team=data"]);
    let direct = describe(&ctx, "fh-direct").await.expect("direct exists");
    assert_eq!(direct.delivery_stream_type().as_str(), "DirectPut");
    assert_eq!(encryption_status(&direct).as_deref(), Some("ENABLED"));
    assert_clean_plan(&p);

    // The S3 settings and tags change in place; encryption taken out is stopped.
    p.write_stack(&stack(
        NO_NAME,
        "extended_s3",
        TUNED,
        "{ team: analytics }",
        "",
    ));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    for line in [
        "~ delivery (aws.firehose.delivery_stream) will be updated in place",
        "~ direct (aws.firehose.delivery_stream) will be updated in place",
        "Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy.",
    ] {
        assert!(run.stdout.contains(line), "{line}\n{}", run.stdout);
    }
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    let tuned = describe(&ctx, "fh-delivery")
        .await
        .expect("delivery exists");
    assert_eq!(tuned.delivery_stream_arn(), delivery.delivery_stream_arn());
    assert_ne!(tuned.version_id(), delivery.version_id(), "a new version");
    assert_eq!(
        s3_settings(&tuned),
        ("raw/".to_string(), 10, 60, "GZIP".to_string())
    );
    assert_eq!(user_tags(&ctx, "fh-delivery").await, ["team=analytics"]);
    let direct = describe(&ctx, "fh-direct").await.expect("direct exists");
    assert_eq!(encryption_status(&direct).as_deref(), Some("DISABLED"));
    assert_clean_plan(&p);

    // Taken out, the settings go back to Firehose's defaults and the prefix is cleared.
    p.write_stack(&stack(
        NO_NAME,
        "extended_s3",
        "",
        "{ team: analytics }",
        "",
    ));
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    let plain = describe(&ctx, "fh-delivery")
        .await
        .expect("delivery exists");
    assert_eq!(
        s3_settings(&plain),
        (String::new(), 5, 300, "UNCOMPRESSED".to_string())
    );
    assert_clean_plan(&p);

    // A new name is a new delivery stream; the old one is gone.
    let renamed = stack(
        "name: fh-delivery-v2",
        "extended_s3",
        "",
        "{ team: analytics }",
        "",
    );
    p.write_stack(&renamed);
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("-/+ delivery (aws.firehose.delivery_stream) must be replaced"),
        "{}",
        run.stdout
    );
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    assert_eq!(
        delivery_stream_names(&ctx).await,
        ["fh-delivery-v2", "fh-direct"]
    );
    assert_eq!(recorded_id(&p, "fh", "delivery"), "fh-delivery-v2");
    assert_clean_plan(&p);

    // Forgotten, then imported by its ARN (the id Terraform imports): nothing to do.
    let arn = describe(&ctx, "fh-delivery-v2")
        .await
        .unwrap()
        .delivery_stream_arn()
        .to_string();
    assert_code(&p.strata(&["state", "rm", "delivery"]), 0);
    assert_code(&p.strata(&["import", "delivery", &arn]), 0);
    assert_clean_plan(&p);
    assert_code(&p.strata(&["state", "rm", "direct"]), 0);
    assert_code(&p.strata(&["import", "direct", "fh-direct"]), 0);
    assert_clean_plan(&p);

    // Another destination is refused before any call, at its line.
    p.write_stack(&stack(
        "name: fh-delivery-v2",
        "s3",
        "",
        "{ team: analytics }",
        "",
    ));
    let run = p.strata(&["validate"]);
    assert_code(&run, 1);
    assert!(run.stderr.contains("stack.yaml:19:20"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("`s3` is not an allowed value of property `destination`"),
        "{}",
        run.stderr
    );
    p.write_stack(&renamed);

    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(delivery_stream_names(&ctx).await.is_empty());
    assert!(stream_names(&ctx).await.is_empty());
}
