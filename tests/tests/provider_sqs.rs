//! The SQS providers (`aws.sqs.queue`, `aws.sqs.queue_policy`) against the local emulator:
//! create, read back through the SDK and through the provider, update in place, tags, find,
//! delete, and delete again.

use aws_sdk_sqs::types::QueueAttributeName;
use providers::sqs::queue::QueueProvider;
use providers::sqs::queue_policy::QueuePolicyProvider;
use serde_json::json;
use stacks::Value;
use strata_tests::kit::{assert_reads_back, context, delete, map, read, update, TestStack};
use strata_tests::Emulator;

const STACK: TestStack = TestStack::named("orders");

async fn queue_attributes(
    sqs: &aws_sdk_sqs::Client,
    url: &str,
) -> std::collections::HashMap<QueueAttributeName, String> {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetQueueAttributes {url}: {e:?}"))
        .attributes()
        .cloned()
        .unwrap_or_default()
}

fn json_attr(
    attrs: &std::collections::HashMap<QueueAttributeName, String>,
    name: QueueAttributeName,
) -> serde_json::Value {
    let text = attrs
        .get(&name)
        .unwrap_or_else(|| panic!("no {name:?} in {attrs:?}"));
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{name:?} is not JSON ({e}): {text}"))
}

fn send_policy(queue_arn: &str) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": {
            "Sid": "AllowSend",
            "Effect": "Allow",
            "Principal": { "AWS": "*" },
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
        }
    })
}

#[tokio::test]
async fn a_queue_created_with_every_property_reads_back_as_requested() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let queues = QueueProvider::new(&ctx);
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk);

    let dlq = STACK
        .create(
            &queues,
            "dlq",
            &map(json!({ "name": "orders-dlq", "tags": STACK.tags_for("dlq", json!({})) })),
        )
        .await;
    let dlq_arn = dlq.attributes["arn"].as_str().unwrap().to_string();

    let arn = "arn:aws:sqs:us-east-1:123456789012:orders-orders";
    let requested = map(json!({
        "name": "orders-orders",
        "fifo_queue": false,
        "visibility_timeout_seconds": 60,
        "message_retention_seconds": 86400,
        "delay_seconds": 5,
        "max_message_size": 2048,
        "receive_wait_time_seconds": 10,
        "redrive_policy": { "dead_letter_target_arn": dlq_arn, "max_receive_count": 4 },
        "policy": send_policy(arn),
        "sqs_managed_sse_enabled": false,
        "tags": STACK.tags_for("orders", json!({ "team": "payments" })),
    }));
    let queue = STACK.create(&queues, "orders", &requested).await;

    assert_eq!(queue.attributes["arn"], Value::str(arn));
    assert_eq!(queue.attributes["name"], Value::str("orders-orders"));
    assert_eq!(queue.attributes["url"], Value::str(&queue.id));
    assert!(queue.id.ends_with("/orders-orders"), "{}", queue.id);

    let attrs = queue_attributes(&sqs, &queue.id).await;
    let get = |name: QueueAttributeName| attrs.get(&name).map(String::as_str);
    assert_eq!(get(QueueAttributeName::VisibilityTimeout), Some("60"));
    assert_eq!(
        get(QueueAttributeName::MessageRetentionPeriod),
        Some("86400")
    );
    assert_eq!(get(QueueAttributeName::DelaySeconds), Some("5"));
    assert_eq!(get(QueueAttributeName::MaximumMessageSize), Some("2048"));
    assert_eq!(
        get(QueueAttributeName::ReceiveMessageWaitTimeSeconds),
        Some("10")
    );
    assert_eq!(get(QueueAttributeName::SqsManagedSseEnabled), Some("false"));
    assert_eq!(get(QueueAttributeName::FifoQueue), None);
    assert_eq!(
        json_attr(&attrs, QueueAttributeName::RedrivePolicy),
        json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": 4 })
    );
    assert_eq!(
        json_attr(&attrs, QueueAttributeName::Policy),
        send_policy(arn)
    );
    let tags = sqs
        .list_queue_tags()
        .queue_url(&queue.id)
        .send()
        .await
        .unwrap();
    let tags = tags.tags().cloned().unwrap_or_default();
    assert_eq!(tags.get("team").map(String::as_str), Some("payments"));
    assert_eq!(
        tags.get("strata:stack").map(String::as_str),
        Some(STACK.name)
    );
    assert_eq!(
        tags.get("strata:address").map(String::as_str),
        Some("orders")
    );
    assert_eq!(tags.len(), 3);

    assert_reads_back(&queue, &requested);
    let again = read(&queues, "orders", &queue)
        .await
        .expect("the queue exists");
    assert_reads_back(&again, &requested);
    assert_eq!(again, queue);
}

#[tokio::test]
async fn a_fifo_queue_reads_back_its_fifo_settings_and_key() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let queues = QueueProvider::new(&ctx);
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk);

    let requested = map(json!({
        "name": "orders-jobs.fifo",
        "fifo_queue": true,
        "content_based_deduplication": true,
        "kms_master_key_id": "alias/aws/sqs",
        "tags": STACK.tags_for("jobs", json!({})),
    }));
    let queue = STACK.create(&queues, "jobs", &requested).await;

    let attrs = queue_attributes(&sqs, &queue.id).await;
    assert_eq!(
        attrs
            .get(&QueueAttributeName::FifoQueue)
            .map(String::as_str),
        Some("true")
    );
    assert_eq!(
        attrs
            .get(&QueueAttributeName::ContentBasedDeduplication)
            .map(String::as_str),
        Some("true")
    );
    assert_eq!(
        attrs
            .get(&QueueAttributeName::KmsMasterKeyId)
            .map(String::as_str),
        Some("alias/aws/sqs")
    );
    // Defaults the stack left out are AWS's (and the schema's).
    assert_eq!(
        attrs
            .get(&QueueAttributeName::VisibilityTimeout)
            .map(String::as_str),
        Some("30")
    );
    let read_back = read(&queues, "jobs", &queue)
        .await
        .expect("the queue exists");
    assert_reads_back(&read_back, &requested);
    for (prop, default) in [
        ("visibility_timeout_seconds", 30),
        ("message_retention_seconds", 345_600),
        ("delay_seconds", 0),
        ("max_message_size", 1_048_576),
        ("receive_wait_time_seconds", 0),
    ] {
        assert_eq!(read_back.properties[prop], Value::int(default), "{prop}");
    }
}

#[tokio::test]
async fn updating_a_queue_changes_only_the_changed_attributes_and_keeps_its_url() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let queues = QueueProvider::new(&ctx);
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk);

    let dlq = STACK
        .create(&queues, "dlq", &map(json!({ "name": "orders-dlq" })))
        .await;
    let dlq_arn = dlq.attributes["arn"].as_str().unwrap().to_string();
    let first = map(json!({
        "name": "orders-orders",
        "visibility_timeout_seconds": 60,
        "delay_seconds": 5,
        "receive_wait_time_seconds": 10,
        "redrive_policy": { "dead_letter_target_arn": dlq_arn, "max_receive_count": 4 },
        "policy": send_policy("*"),
        "tags": STACK.tags_for("orders", json!({})),
    }));
    let queue = STACK.create(&queues, "orders", &first).await;

    // Change the timeout, drop the delay (back to its default), the redrive policy and the
    // policy (cleared); the wait time is not among the changes and stays.
    let second = map(json!({
        "name": "orders-orders",
        "visibility_timeout_seconds": 120,
        "receive_wait_time_seconds": 10,
        "tags": STACK.tags_for("orders", json!({})),
    }));
    let updated = update(
        &queues,
        "orders",
        &queue,
        &second,
        &[
            "visibility_timeout_seconds",
            "delay_seconds",
            "redrive_policy",
            "policy",
        ],
    )
    .await;
    assert_eq!(updated.id, queue.id);
    assert_eq!(updated.attributes, queue.attributes);

    let attrs = queue_attributes(&sqs, &queue.id).await;
    let get = |name: QueueAttributeName| attrs.get(&name).map(String::as_str);
    assert_eq!(get(QueueAttributeName::VisibilityTimeout), Some("120"));
    assert_eq!(get(QueueAttributeName::DelaySeconds), Some("0"));
    assert_eq!(
        get(QueueAttributeName::ReceiveMessageWaitTimeSeconds),
        Some("10")
    );
    assert_eq!(get(QueueAttributeName::RedrivePolicy).unwrap_or(""), "");
    assert_eq!(get(QueueAttributeName::Policy).unwrap_or(""), "");

    assert_reads_back(&updated, &second);
    assert_eq!(updated.properties["delay_seconds"], Value::int(0));
    assert!(!updated.properties.contains_key("redrive_policy"));
    assert!(!updated.properties.contains_key("policy"));
}

#[tokio::test]
async fn updating_queue_tags_adds_changes_and_removes_only_the_keys_that_differ() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let queues = QueueProvider::new(&ctx);
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk);

    let first = map(json!({
        "name": "orders-orders",
        "tags": STACK.tags_for("orders", json!({ "team": "payments", "env": "dev", "old": "x" })),
    }));
    let queue = STACK.create(&queues, "orders", &first).await;
    // A tag someone else manages, on a key strata never had.
    sqs.tag_queue()
        .queue_url(&queue.id)
        .tags("owner", "ops")
        .send()
        .await
        .unwrap();

    let second = map(json!({
        "name": "orders-orders",
        "tags": STACK.tags_for("orders", json!({ "team": "payments", "env": "prod", "new": "y" })),
    }));
    let updated = update(&queues, "orders", &queue, &second, &["tags"]).await;

    let tags = sqs
        .list_queue_tags()
        .queue_url(&queue.id)
        .send()
        .await
        .unwrap();
    let mut tags: Vec<(String, String)> = tags
        .tags()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect();
    tags.sort();
    let expected: Vec<(String, String)> = [
        ("env", "prod"),
        ("new", "y"),
        ("owner", "ops"),
        ("strata:address", "orders"),
        ("strata:stack", STACK.name),
        ("team", "payments"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(tags, expected);
    assert_eq!(updated.id, queue.id);
    let read_tags = updated.properties["tags"].as_map().unwrap();
    assert_eq!(read_tags.get("env"), Some(&Value::str("prod")));
    assert!(!read_tags.contains_key("old"));
}

#[tokio::test]
async fn a_deleted_queue_is_gone_and_deleting_reading_or_finding_it_again_is_harmless() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let queues = QueueProvider::new(&ctx);
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk);

    let requested = map(json!({
        "name": "orders-orders",
        "visibility_timeout_seconds": 45,
        "tags": STACK.tags_for("orders", json!({})),
    }));
    let queue = STACK.create(&queues, "orders", &requested).await;

    let found = STACK
        .find(&queues, "orders", &requested)
        .await
        .expect("the queue is found by its name");
    assert_eq!(found, queue);
    assert_eq!(
        STACK
            .find(&queues, "other", &map(json!({ "name": "orders-other" })))
            .await,
        None
    );

    delete(&queues, "orders", &queue).await;
    let gone = sqs
        .get_queue_url()
        .queue_name("orders-orders")
        .send()
        .await
        .expect_err("the queue is gone");
    let code = aws_sdk_sqs::error::ProvideErrorMetadata::code(&gone).map(str::to_string);
    assert!(
        matches!(
            code.as_deref(),
            Some("AWS.SimpleQueueService.NonExistentQueue" | "QueueDoesNotExist")
        ),
        "{gone:?}"
    );

    delete(&queues, "orders", &queue).await;
    assert_eq!(read(&queues, "orders", &queue).await, None);
    assert_eq!(STACK.find(&queues, "orders", &requested).await, None);
}

#[tokio::test]
async fn a_queue_policy_with_a_single_statement_object_reads_back_as_the_same_mapping() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let queues = QueueProvider::new(&ctx);
    let policies = QueuePolicyProvider::new(&ctx);
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk);

    let queue = STACK
        .create(&queues, "orders", &map(json!({ "name": "orders-orders" })))
        .await;
    let queue_arn = queue.attributes["arn"].as_str().unwrap().to_string();
    let requested = map(json!({
        "queue_url": queue.id,
        "policy": send_policy(&queue_arn),
    }));
    let policy = STACK.create(&policies, "orders_policy", &requested).await;

    assert_eq!(policy.id, queue.id);
    assert_eq!(policy.attributes["id"], Value::str(&queue.id));
    let attrs = queue_attributes(&sqs, &queue.id).await;
    assert_eq!(
        json_attr(&attrs, QueueAttributeName::Policy),
        send_policy(&queue_arn)
    );
    assert_reads_back(&policy, &requested);
    let again = read(&policies, "orders_policy", &policy)
        .await
        .expect("the policy exists");
    assert_reads_back(&again, &requested);
    // The queue's own read sees the same document.
    let queue_now = read(&queues, "orders", &queue).await.unwrap();
    assert_eq!(queue_now.properties.get("policy"), requested.get("policy"));

    // Update in place: a two-statement policy.
    let mut wider = send_policy(&queue_arn);
    wider["Statement"] = json!([
        wider["Statement"].clone(),
        { "Sid": "AllowReceive", "Effect": "Allow", "Principal": { "AWS": "*" },
          "Action": "sqs:ReceiveMessage", "Resource": queue_arn },
    ]);
    let second = map(json!({ "queue_url": queue.id, "policy": wider }));
    let updated = update(&policies, "orders_policy", &policy, &second, &["policy"]).await;
    assert_eq!(updated.id, queue.id);
    assert_reads_back(&updated, &second);
    let attrs = queue_attributes(&sqs, &queue.id).await;
    assert_eq!(json_attr(&attrs, QueueAttributeName::Policy), wider);

    let found = STACK
        .find(&policies, "orders_policy", &second)
        .await
        .expect("the policy is found on its queue");
    assert_eq!(found, updated);

    delete(&policies, "orders_policy", &updated).await;
    let attrs = queue_attributes(&sqs, &queue.id).await;
    assert_eq!(
        attrs
            .get(&QueueAttributeName::Policy)
            .map(String::as_str)
            .unwrap_or(""),
        ""
    );
    delete(&policies, "orders_policy", &updated).await;
    assert_eq!(read(&policies, "orders_policy", &updated).await, None);
    assert_eq!(STACK.find(&policies, "orders_policy", &second).await, None);

    // The policy of a queue that is gone is gone too.
    delete(&queues, "orders", &queue).await;
    delete(&policies, "orders_policy", &updated).await;
    assert_eq!(read(&policies, "orders_policy", &updated).await, None);
}
