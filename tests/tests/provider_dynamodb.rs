//! `aws.dynamodb.table` through the built binary against the emulator: a table with a global
//! secondary index applies, reads back through the SDK and re-plans clean; billing, time to
//! live, point-in-time recovery and the global secondary indexes change in place (the same
//! table: an item put in it survives); a new hash key replaces it; import by name re-plans
//! clean; deletion protection refuses destroy until it is turned off; destroy leaves nothing.
//! And a Lambda event source mapping from a table's stream applies and re-plans clean.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{AttributeValue, BillingMode, PointInTimeRecoveryStatus};
use providers::aws::AwsContext;
use strata_tests::{assert_code, Project};

const TABLE: &str = "ddb-orders";

/// What one step of the table's life declares.
struct Table {
    hash_key: &'static str,
    provisioned: bool,
    /// The global secondary indexes: `(name, hash key)`.
    indexes: &'static [(&'static str, &'static str)],
    ttl: bool,
    point_in_time_recovery: bool,
    deletion_protection: bool,
}

const FIRST: Table = Table {
    hash_key: "id",
    provisioned: false,
    indexes: &[("by_email", "email")],
    ttl: false,
    point_in_time_recovery: false,
    deletion_protection: false,
};

fn stack(t: &Table) -> String {
    let capacity = |indent: &str| {
        if t.provisioned {
            format!("{indent}read_capacity: 5\n{indent}write_capacity: 4\n")
        } else {
            String::new()
        }
    };
    let mut attributes = format!(
        "        - {{ name: {}, type: S }}\n        - {{ name: created, type: N }}\n",
        t.hash_key
    );
    let mut indexes = String::new();
    for (name, hash) in t.indexes {
        attributes.push_str(&format!("        - {{ name: {hash}, type: S }}\n"));
        indexes.push_str(&format!(
            "        - name: {name}\n          hash_key: {hash}\n          range_key: created\n          projection_type: INCLUDE\n          non_key_attributes: [total, status_note]\n{}",
            capacity("          ")
        ));
    }
    let indexes = if indexes.is_empty() {
        String::new()
    } else {
        format!("      global_secondary_indexes:\n{indexes}")
    };
    let ttl = if t.ttl {
        "      ttl: { attribute_name: expires, enabled: true }\n"
    } else {
        ""
    };
    format!(
        r#"stack: ddb
region: us-east-1
resources:
  orders:
    type: aws.dynamodb.table
    properties:
      hash_key: {hash}
      range_key: created
      attributes:
{attributes}      billing_mode: {billing}
{capacity}{indexes}{ttl}      point_in_time_recovery: {pitr}
      deletion_protection_enabled: {protection}
      tags: {{ team: orders }}
"#,
        hash = t.hash_key,
        billing = if t.provisioned {
            "PROVISIONED"
        } else {
            "PAY_PER_REQUEST"
        },
        capacity = capacity("      "),
        pitr = t.point_in_time_recovery,
        protection = t.deletion_protection,
    )
}

fn dynamodb(ctx: &AwsContext) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(&ctx.sdk)
}

/// The table as DynamoDB describes it, or `None` when there is no such table.
async fn described(
    ctx: &AwsContext,
    name: &str,
) -> Option<aws_sdk_dynamodb::types::TableDescription> {
    match dynamodb(ctx).describe_table().table_name(name).send().await {
        Ok(out) => out.table,
        Err(e)
            if e.as_service_error()
                .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            None
        }
        Err(e) => panic!("DescribeTable {name}: {e:?}"),
    }
}

/// The names of the table's global secondary indexes, sorted.
async fn index_names(ctx: &AwsContext) -> Vec<String> {
    let table = described(ctx, TABLE).await.expect("the table exists");
    let mut names: Vec<String> = table
        .global_secondary_indexes()
        .iter()
        .filter_map(|ix| ix.index_name().map(str::to_string))
        .collect();
    names.sort();
    names
}

/// Puts one item whose key is `hash_key` = "o-1", created 1.
async fn put_item(ctx: &AwsContext, hash_key: &str) {
    dynamodb(ctx)
        .put_item()
        .table_name(TABLE)
        .item(hash_key, AttributeValue::S("o-1".into()))
        .item("created", AttributeValue::N("1".into()))
        .send()
        .await
        .unwrap();
}

async fn item_count(ctx: &AwsContext) -> usize {
    dynamodb(ctx)
        .scan()
        .table_name(TABLE)
        .send()
        .await
        .unwrap()
        .items()
        .len()
}

async fn tags(ctx: &AwsContext, arn: &str) -> BTreeMap<String, String> {
    dynamodb(ctx)
        .list_tags_of_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap()
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

async fn ttl_status(ctx: &AwsContext) -> String {
    dynamodb(ctx)
        .describe_time_to_live()
        .table_name(TABLE)
        .send()
        .await
        .unwrap()
        .time_to_live_description()
        .and_then(|d| d.time_to_live_status())
        .map(|s| s.as_str().to_string())
        .unwrap_or_default()
}

async fn point_in_time_recovery(ctx: &AwsContext) -> bool {
    dynamodb(ctx)
        .describe_continuous_backups()
        .table_name(TABLE)
        .send()
        .await
        .unwrap()
        .continuous_backups_description()
        .and_then(|c| c.point_in_time_recovery_description())
        .and_then(|p| p.point_in_time_recovery_status())
        == Some(&PointInTimeRecoveryStatus::Enabled)
}

fn assert_clean_plan(p: &Project) {
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);
}

/// Applies `t`, after checking the plan does `expect` to the table.
fn apply(p: &Project, t: &Table, expect: &str) {
    p.write_stack(&stack(t));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains(&format!("orders (aws.dynamodb.table) {expect}")),
        "{}",
        run.stdout
    );
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_table_changes_in_place_is_replaced_on_a_new_hash_key_imports_and_destroys_cleanly() {
    let p = Project::new(&stack(&FIRST));
    let ctx = p.ctx();

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    let table = described(&ctx, TABLE).await.expect("the table was created");
    assert_eq!(
        table.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    assert_eq!(index_names(&ctx).await, ["by_email"]);
    let index = &table.global_secondary_indexes()[0];
    let projection = index.projection().unwrap();
    assert_eq!(projection.projection_type().unwrap().as_str(), "INCLUDE");
    let mut non_key = projection.non_key_attributes().to_vec();
    non_key.sort();
    assert_eq!(non_key, ["status_note", "total"]);
    let tags = tags(&ctx, table.table_arn().unwrap()).await;
    assert_eq!(tags.get("team").map(String::as_str), Some("orders"));
    assert_eq!(
        tags.get("strata:address").map(String::as_str),
        Some("orders")
    );
    assert_clean_plan(&p);
    put_item(&ctx, "id").await;

    // Provisioned capacity (for the index too), time to live and point-in-time recovery: the
    // same table, its item still there.
    let provisioned = Table {
        provisioned: true,
        ttl: true,
        point_in_time_recovery: true,
        ..FIRST
    };
    apply(&p, &provisioned, "will be updated in place");
    let table = described(&ctx, TABLE).await.unwrap();
    assert_eq!(
        table.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::Provisioned)
    );
    let throughput = table.provisioned_throughput().unwrap();
    assert_eq!(
        (
            throughput.read_capacity_units(),
            throughput.write_capacity_units()
        ),
        (Some(5), Some(4))
    );
    let index_throughput = table.global_secondary_indexes()[0]
        .provisioned_throughput()
        .unwrap();
    assert_eq!(index_throughput.read_capacity_units(), Some(5));
    assert_eq!(ttl_status(&ctx).await, "ENABLED");
    assert!(point_in_time_recovery(&ctx).await);
    assert_eq!(item_count(&ctx).await, 1);
    assert_clean_plan(&p);

    // Back on demand, time to live and recovery off, and one index swapped for another: added
    // and removed in place.
    let swapped = Table {
        indexes: &[("by_customer", "customer")],
        ..FIRST
    };
    apply(&p, &swapped, "will be updated in place");
    assert_eq!(index_names(&ctx).await, ["by_customer"]);
    let table = described(&ctx, TABLE).await.unwrap();
    assert_eq!(
        table.billing_mode_summary().and_then(|b| b.billing_mode()),
        Some(&BillingMode::PayPerRequest)
    );
    assert_eq!(ttl_status(&ctx).await, "DISABLED");
    assert!(!point_in_time_recovery(&ctx).await);
    assert_eq!(item_count(&ctx).await, 1);
    assert_clean_plan(&p);

    // Both indexes, then none: each added or removed in place.
    let both = Table {
        indexes: &[("by_customer", "customer"), ("by_email", "email")],
        ..FIRST
    };
    apply(&p, &both, "will be updated in place");
    assert_eq!(index_names(&ctx).await, ["by_customer", "by_email"]);
    assert_clean_plan(&p);
    let none = Table {
        indexes: &[],
        ..FIRST
    };
    apply(&p, &none, "will be updated in place");
    assert!(index_names(&ctx).await.is_empty());
    assert_eq!(item_count(&ctx).await, 1);
    assert_clean_plan(&p);

    // A new hash key is a new table: the item went with the old one.
    let rekeyed = Table {
        hash_key: "order_id",
        ..FIRST
    };
    apply(&p, &rekeyed, "must be replaced");
    let table = described(&ctx, TABLE).await.unwrap();
    assert_eq!(table.key_schema()[0].attribute_name(), "order_id");
    assert_eq!(index_names(&ctx).await, ["by_email"]);
    assert_eq!(item_count(&ctx).await, 0);
    assert_clean_plan(&p);

    // Forgotten, then imported by its name: the next plan has nothing to do.
    assert_code(&p.strata(&["state", "rm", "orders"]), 0);
    assert_code(&p.strata(&["import", "orders", TABLE]), 0);
    assert_clean_plan(&p);

    // Deletion protection refuses destroy until it is turned off.
    let protected = Table {
        deletion_protection: true,
        ..rekeyed
    };
    apply(&p, &protected, "will be updated in place");
    assert_eq!(
        described(&ctx, TABLE)
            .await
            .unwrap()
            .deletion_protection_enabled(),
        Some(true)
    );
    let run = p.strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 1);
    assert!(
        run.stderr.to_lowercase().contains("deletion"),
        "{}",
        run.stderr
    );
    assert!(described(&ctx, TABLE).await.is_some());
    apply(&p, &rekeyed, "will be updated in place");
    assert_code(&p.strata(&["destroy", "--auto-approve"]), 0);
    assert!(described(&ctx, TABLE).await.is_none());
    let left = dynamodb(&ctx).list_tables().send().await.unwrap();
    assert!(left.table_names().is_empty(), "{:?}", left.table_names());
}

fn stream_stack(retries: i64) -> String {
    format!(
        r#"stack: feed
region: us-east-1
resources:
  events:
    type: aws.dynamodb.table
    properties:
      hash_key: id
      attributes: [{{ name: id, type: S }}]
      stream_enabled: true
      stream_view_type: NEW_AND_OLD_IMAGES
  role:
    type: aws.iam.role
    properties:
      assume_role_policy:
        Version: "2012-10-17"
        Statement: {{ Effect: Allow, Principal: {{ Service: lambda.amazonaws.com }}, Action: sts:AssumeRole }}
  handler:
    type: aws.lambda.function
    properties:
      runtime: python3.12
      handler: index.handler
      role: ${{role.arn}}
      code: {{ path: src }}
  from_events:
    type: aws.lambda.event_source_mapping
    properties:
      function_name: ${{handler.name}}
      event_source_arn: ${{events.stream_arn}}
      starting_position: LATEST
      batch_size: 50
      maximum_batching_window_in_seconds: 5
      parallelization_factor: 2
      maximum_retry_attempts: {retries}
      maximum_record_age_in_seconds: 3600
      bisect_batch_on_function_error: true
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mapping_from_a_table_stream_to_a_function_applies_replans_clean_and_changes_in_place() {
    let p = Project::new(&stream_stack(3));
    std::fs::create_dir_all(p.path().join("src")).unwrap();
    std::fs::write(
        p.path().join("src/index.py"),
        "def handler(event, context):\n    return len(event['Records'])\n",
    )
    .unwrap();
    let ctx = p.ctx();

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    let table = described(&ctx, "feed-events").await.unwrap();
    let stream_arn = table.latest_stream_arn().expect("the table has a stream");
    let lambda = aws_sdk_lambda::Client::new(&ctx.sdk);
    let mappings = lambda
        .list_event_source_mappings()
        .function_name("feed-handler")
        .send()
        .await
        .unwrap()
        .event_source_mappings
        .unwrap_or_default();
    assert_eq!(mappings.len(), 1);
    let mapping = &mappings[0];
    assert_eq!(mapping.event_source_arn(), Some(stream_arn));
    assert_eq!(
        mapping.starting_position().map(|s| s.as_str()),
        Some("LATEST")
    );
    assert_eq!(mapping.parallelization_factor(), Some(2));
    assert_eq!(mapping.maximum_retry_attempts(), Some(3));
    assert_eq!(mapping.bisect_batch_on_function_error(), Some(true));
    let uuid = mapping.uuid().unwrap().to_string();
    assert_clean_plan(&p);

    // A stream setting changes in place: the same mapping.
    p.write_stack(&stream_stack(5));
    let run = p.strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 2);
    assert!(
        run.stdout
            .contains("from_events (aws.lambda.event_source_mapping) will be updated in place"),
        "{}",
        run.stdout
    );
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    let mapping = lambda
        .get_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(mapping.maximum_retry_attempts(), Some(5));
    assert_clean_plan(&p);

    assert_code(&p.strata(&["destroy", "--auto-approve"]), 0);
    assert!(described(&ctx, "feed-events").await.is_none());
    assert!(lambda
        .get_event_source_mapping()
        .uuid(&uuid)
        .send()
        .await
        .is_err());
}
