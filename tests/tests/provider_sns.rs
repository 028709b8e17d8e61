//! The SNS providers (`aws.sns.topic`, `aws.sns.topic_policy`, `aws.sns.subscription`) against
//! the local emulator:
//! create, read back through the SDK and through the provider, update in place, tags, find,
//! delete, and delete again.

use std::collections::BTreeMap;

use providers::sns::subscription::SubscriptionProvider;
use providers::sns::topic::TopicProvider;
use providers::sns::topic_policy::TopicPolicyProvider;
use serde_json::json;
use stacks::Value;
use strata_tests::kit::{
    assert_reads_back, context, delete, map, read, string_map, topic_attributes, update, TestStack,
    ACCOUNT,
};
use strata_tests::Emulator;

const STACK: TestStack = TestStack::named("orders");

fn topic_arn(name: &str) -> String {
    format!("arn:aws:sns:us-east-1:{ACCOUNT}:{name}")
}

async fn topic_tags(sns: &aws_sdk_sns::Client, arn: &str) -> BTreeMap<String, String> {
    sns.list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListTagsForResource {arn}: {e:?}"))
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

async fn subscription_attributes(sns: &aws_sdk_sns::Client, arn: &str) -> BTreeMap<String, String> {
    sns.get_subscription_attributes()
        .subscription_arn(arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GetSubscriptionAttributes {arn}: {e:?}"))
        .attributes()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .collect()
}

fn parse(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A policy whose `Statement` is a single object, not a list.
fn publish_policy(arn: &str) -> serde_json::Value {
    json!({
        "Version": "2012-10-17",
        "Statement": {
            "Sid": "AllowPublish",
            "Effect": "Allow",
            "Principal": { "Service": "events.amazonaws.com" },
            "Action": "sns:Publish",
            "Resource": arn,
        }
    })
}

#[tokio::test]
async fn a_topic_created_with_every_property_reads_back_as_requested() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let topics = TopicProvider::new(&ctx);
    let sns = aws_sdk_sns::Client::new(&ctx.sdk);

    let arn = topic_arn("orders-events");
    let requested = map(json!({
        "name": "orders-events",
        "fifo_topic": false,
        "display_name": "Order events",
        "policy": publish_policy(&arn),
        "kms_master_key_id": "alias/aws/sns",
        "tags": STACK.tags_for("events", json!({ "team": "payments" })),
    }));
    let topic = STACK.create(&topics, "events", &requested).await;

    assert_eq!(topic.id, arn);
    assert_eq!(topic.attributes["arn"], Value::str(&arn));
    assert_eq!(topic.attributes["name"], Value::str("orders-events"));

    let attrs = topic_attributes(&sns, &arn).await;
    assert_eq!(
        attrs.get("DisplayName").map(String::as_str),
        Some("Order events")
    );
    assert_eq!(
        attrs.get("KmsMasterKeyId").map(String::as_str),
        Some("alias/aws/sns")
    );
    assert_eq!(parse(&attrs["Policy"]), publish_policy(&arn));
    assert_eq!(attrs.get("FifoTopic"), None);
    let tags = topic_tags(&sns, &arn).await;
    assert_eq!(
        tags,
        string_map([
            ("strata:address", "events"),
            ("strata:stack", STACK.name),
            ("team", "payments"),
        ])
    );

    assert_reads_back(&topic, &requested);
    let again = read(&topics, "events", &topic)
        .await
        .expect("the topic exists");
    assert_reads_back(&again, &requested);
    assert_eq!(again, topic);
}

#[tokio::test]
async fn a_fifo_topic_reads_back_its_fifo_settings() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let topics = TopicProvider::new(&ctx);
    let sns = aws_sdk_sns::Client::new(&ctx.sdk);

    let requested = map(json!({
        "name": "orders-events.fifo",
        "fifo_topic": true,
        "content_based_deduplication": true,
        "tags": STACK.tags_for("events", json!({})),
    }));
    let topic = STACK.create(&topics, "events", &requested).await;
    let attrs = topic_attributes(&sns, &topic.id).await;
    assert_eq!(attrs.get("FifoTopic").map(String::as_str), Some("true"));
    assert_eq!(
        attrs.get("ContentBasedDeduplication").map(String::as_str),
        Some("true")
    );
    assert_reads_back(&read(&topics, "events", &topic).await.unwrap(), &requested);

    let second = map(json!({
        "name": "orders-events.fifo",
        "fifo_topic": true,
        "content_based_deduplication": false,
        "tags": STACK.tags_for("events", json!({})),
    }));
    let updated = update(
        &topics,
        "events",
        &topic,
        &second,
        &["content_based_deduplication"],
    )
    .await;
    assert_eq!(updated.id, topic.id);
    let attrs = topic_attributes(&sns, &topic.id).await;
    assert_eq!(
        attrs.get("ContentBasedDeduplication").map(String::as_str),
        Some("false")
    );
    assert_reads_back(&updated, &second);
}

#[tokio::test]
async fn updating_a_topic_changes_attributes_in_place_and_removing_its_policy_restores_the_default()
{
    let emu = Emulator::start();
    let ctx = context(&emu);
    let topics = TopicProvider::new(&ctx);
    let sns = aws_sdk_sns::Client::new(&ctx.sdk);

    let arn = topic_arn("orders-events");
    let first = map(json!({
        "name": "orders-events",
        "display_name": "Order events",
        "policy": publish_policy(&arn),
        "kms_master_key_id": "alias/aws/sns",
        "tags": STACK.tags_for("events", json!({})),
    }));
    let topic = STACK.create(&topics, "events", &first).await;

    let second = map(json!({
        "name": "orders-events",
        "display_name": "Orders",
        "tags": STACK.tags_for("events", json!({})),
    }));
    let updated = update(
        &topics,
        "events",
        &topic,
        &second,
        &["display_name", "policy", "kms_master_key_id"],
    )
    .await;
    assert_eq!(updated.id, arn);
    assert_eq!(updated.attributes, topic.attributes);

    let attrs = topic_attributes(&sns, &arn).await;
    assert_eq!(attrs.get("DisplayName").map(String::as_str), Some("Orders"));
    assert_eq!(
        attrs
            .get("KmsMasterKeyId")
            .map(String::as_str)
            .unwrap_or(""),
        ""
    );
    let policy = parse(&attrs["Policy"]);
    assert_eq!(policy["Id"], "__default_policy_ID", "{policy}");
    assert_eq!(policy["Statement"][0]["Resource"], json!(arn));
    assert_eq!(
        policy["Statement"][0]["Condition"]["StringEquals"]["AWS:SourceOwner"],
        ACCOUNT
    );

    assert_reads_back(&updated, &second);
    assert!(!updated.properties.contains_key("kms_master_key_id"));
    assert_eq!(
        updated.properties.get("policy"),
        Some(&Value::from_json(policy))
    );
}

#[tokio::test]
async fn updating_topic_tags_adds_changes_and_removes_only_the_keys_that_differ() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let topics = TopicProvider::new(&ctx);
    let sns = aws_sdk_sns::Client::new(&ctx.sdk);

    let first = map(json!({
        "name": "orders-events",
        "tags": STACK.tags_for("events", json!({ "team": "payments", "env": "dev", "old": "x" })),
    }));
    let topic = STACK.create(&topics, "events", &first).await;
    sns.tag_resource()
        .resource_arn(&topic.id)
        .tags(
            aws_sdk_sns::types::Tag::builder()
                .key("owner")
                .value("ops")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let second = map(json!({
        "name": "orders-events",
        "tags": STACK.tags_for("events", json!({ "team": "payments", "env": "prod", "new": "y" })),
    }));
    let updated = update(&topics, "events", &topic, &second, &["tags"]).await;
    assert_eq!(updated.id, topic.id);

    let expected = string_map([
        ("env", "prod"),
        ("new", "y"),
        ("owner", "ops"),
        ("strata:address", "events"),
        ("strata:stack", STACK.name),
        ("team", "payments"),
    ]);
    assert_eq!(topic_tags(&sns, &topic.id).await, expected);
    let read_tags = updated.properties["tags"].as_map().unwrap();
    assert_eq!(read_tags.get("env"), Some(&Value::str("prod")));
    assert!(!read_tags.contains_key("old"));
}

#[tokio::test]
async fn a_deleted_topic_is_gone_and_deleting_reading_or_finding_it_again_is_harmless() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let topics = TopicProvider::new(&ctx);
    let sns = aws_sdk_sns::Client::new(&ctx.sdk);

    // A neighbour whose name ends like ours must not be taken for it.
    STACK
        .create(
            &topics,
            "neighbour",
            &map(json!({ "name": "x-orders-events" })),
        )
        .await;
    let requested = map(json!({
        "name": "orders-events",
        "tags": STACK.tags_for("events", json!({})),
    }));
    let topic = STACK.create(&topics, "events", &requested).await;

    let found = STACK
        .find(&topics, "events", &requested)
        .await
        .expect("the topic is found by its name");
    assert_eq!(found, topic);
    assert_eq!(
        STACK
            .find(&topics, "other", &map(json!({ "name": "orders-other" })))
            .await,
        None
    );

    delete(&topics, "events", &topic).await;
    let gone = sns
        .get_topic_attributes()
        .topic_arn(&topic.id)
        .send()
        .await
        .expect_err("the topic is gone");
    assert_eq!(
        aws_sdk_sns::error::ProvideErrorMetadata::code(&gone),
        Some("NotFound"),
        "{gone:?}"
    );

    delete(&topics, "events", &topic).await;
    assert_eq!(read(&topics, "events", &topic).await, None);
    assert_eq!(STACK.find(&topics, "events", &requested).await, None);
}

#[tokio::test]
async fn a_subscription_reads_back_as_requested_and_updates_its_delivery_in_place() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let topics = TopicProvider::new(&ctx);
    let subscriptions = SubscriptionProvider::new(&ctx);
    let sns = aws_sdk_sns::Client::new(&ctx.sdk);
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk);

    let topic = STACK
        .create(&topics, "events", &map(json!({ "name": "orders-events" })))
        .await;
    sqs.create_queue()
        .queue_name("orders-inbox")
        .send()
        .await
        .unwrap();
    let queue_arn = format!("arn:aws:sqs:us-east-1:{ACCOUNT}:orders-inbox");

    let filter = json!({ "event": ["created", "paid"], "amount": [{ "numeric": [">", 100] }] });
    let requested = map(json!({
        "topic_arn": topic.id,
        "protocol": "sqs",
        "endpoint": queue_arn,
        "raw_message_delivery": true,
        "filter_policy": filter,
    }));
    let subscription = STACK.create(&subscriptions, "inbox", &requested).await;
    assert!(
        subscription.id.starts_with(&format!("{}:", topic.id)),
        "{}",
        subscription.id
    );
    assert_eq!(subscription.attributes["arn"], Value::str(&subscription.id));

    let attrs = subscription_attributes(&sns, &subscription.id).await;
    assert_eq!(attrs.get("TopicArn"), Some(&topic.id));
    assert_eq!(attrs.get("Protocol").map(String::as_str), Some("sqs"));
    assert_eq!(attrs.get("Endpoint"), Some(&queue_arn));
    assert_eq!(
        attrs.get("RawMessageDelivery").map(String::as_str),
        Some("true")
    );
    assert_eq!(parse(&attrs["FilterPolicy"]), filter);

    assert_reads_back(&subscription, &requested);
    let again = read(&subscriptions, "inbox", &subscription)
        .await
        .expect("the subscription exists");
    assert_eq!(again, subscription);

    // Raw delivery back to its default, a narrower filter.
    let narrower = json!({ "event": ["paid"] });
    let second = map(json!({
        "topic_arn": topic.id,
        "protocol": "sqs",
        "endpoint": queue_arn,
        "filter_policy": narrower,
    }));
    let updated = update(
        &subscriptions,
        "inbox",
        &subscription,
        &second,
        &["raw_message_delivery", "filter_policy"],
    )
    .await;
    assert_eq!(updated.id, subscription.id);
    let attrs = subscription_attributes(&sns, &subscription.id).await;
    assert_eq!(
        attrs.get("RawMessageDelivery").map(String::as_str),
        Some("false")
    );
    assert_eq!(parse(&attrs["FilterPolicy"]), narrower);
    assert_reads_back(&updated, &second);
    assert_eq!(
        updated.properties["raw_message_delivery"],
        Value::Bool(false)
    );

    // Removing the filter delivers everything again.
    let third = map(json!({ "topic_arn": topic.id, "protocol": "sqs", "endpoint": queue_arn }));
    let unfiltered = update(
        &subscriptions,
        "inbox",
        &updated,
        &third,
        &["filter_policy"],
    )
    .await;
    let attrs = subscription_attributes(&sns, &subscription.id).await;
    assert_eq!(
        attrs.get("FilterPolicy").map(String::as_str).unwrap_or(""),
        ""
    );
    assert!(!unfiltered.properties.contains_key("filter_policy"));
    assert_reads_back(&unfiltered, &third);
}

#[tokio::test]
async fn a_deleted_subscription_is_gone_and_deleting_reading_or_finding_it_again_is_harmless() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let topics = TopicProvider::new(&ctx);
    let subscriptions = SubscriptionProvider::new(&ctx);
    let sns = aws_sdk_sns::Client::new(&ctx.sdk);

    let topic = STACK
        .create(&topics, "events", &map(json!({ "name": "orders-events" })))
        .await;
    let queue_arn = |name: &str| format!("arn:aws:sqs:us-east-1:{ACCOUNT}:{name}");
    // Another endpoint on the same topic must not be taken for ours.
    STACK
        .create(
            &subscriptions,
            "other",
            &map(
                json!({ "topic_arn": topic.id, "protocol": "sqs", "endpoint": queue_arn("other") }),
            ),
        )
        .await;
    let requested = map(json!({
        "topic_arn": topic.id,
        "protocol": "sqs",
        "endpoint": queue_arn("inbox"),
    }));
    let subscription = STACK.create(&subscriptions, "inbox", &requested).await;

    let found = STACK
        .find(&subscriptions, "inbox", &requested)
        .await
        .expect("the subscription is found by topic, protocol and endpoint");
    assert_eq!(found, subscription);

    delete(&subscriptions, "inbox", &subscription).await;
    let gone = sns
        .get_subscription_attributes()
        .subscription_arn(&subscription.id)
        .send()
        .await
        .expect_err("the subscription is gone");
    assert_eq!(
        aws_sdk_sns::error::ProvideErrorMetadata::code(&gone),
        Some("NotFound"),
        "{gone:?}"
    );

    delete(&subscriptions, "inbox", &subscription).await;
    assert_eq!(read(&subscriptions, "inbox", &subscription).await, None);
    assert_eq!(STACK.find(&subscriptions, "inbox", &requested).await, None);

    // With the topic gone, there is nothing to find either.
    delete(&topics, "events", &topic).await;
    assert_eq!(STACK.find(&subscriptions, "inbox", &requested).await, None);
}

#[tokio::test]
async fn a_topic_policy_with_a_single_statement_object_reads_back_as_the_same_mapping() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let topics = TopicProvider::new(&ctx);
    let sns = aws_sdk_sns::Client::new(&ctx.sdk);

    let arn = topic_arn("orders-events");
    let topic = STACK
        .create(&topics, "events", &map(json!({ "name": "orders-events" })))
        .await;
    // Set in place, then read back: SNS keeps the single Statement object as written.
    let requested = map(json!({ "name": "orders-events", "policy": publish_policy(&arn) }));
    let updated = update(&topics, "events", &topic, &requested, &["policy"]).await;
    let attrs = topic_attributes(&sns, &arn).await;
    assert_eq!(parse(&attrs["Policy"]), publish_policy(&arn));
    assert_reads_back(&updated, &requested);
    let statement = &updated.properties["policy"].as_map().unwrap()["Statement"];
    assert!(statement.as_map().is_some(), "{statement}");
}

#[tokio::test]
async fn a_topic_policy_sets_updates_and_on_delete_restores_the_default_policy_of_its_topic() {
    let emu = Emulator::start();
    let ctx = context(&emu);
    let topics = TopicProvider::new(&ctx);
    let policies = TopicPolicyProvider::new(&ctx);
    let sns = aws_sdk_sns::Client::new(&ctx.sdk);

    let arn = topic_arn("orders-events");
    let topic = STACK
        .create(&topics, "events", &map(json!({ "name": "orders-events" })))
        .await;
    let requested = map(json!({ "arn": arn, "policy": publish_policy(&arn) }));
    let policy = STACK.create(&policies, "events_policy", &requested).await;

    assert_eq!(policy.id, arn);
    assert_eq!(policy.attributes["id"], Value::str(&arn));
    assert_eq!(policy.attributes["owner"], Value::str(ACCOUNT));
    let attrs = topic_attributes(&sns, &arn).await;
    assert_eq!(parse(&attrs["Policy"]), publish_policy(&arn));
    assert_reads_back(&policy, &requested);
    let again = read(&policies, "events_policy", &policy)
        .await
        .expect("the policy exists");
    assert_reads_back(&again, &requested);
    // The topic's own read sees the same document.
    let topic_now = read(&topics, "events", &topic).await.unwrap();
    assert_eq!(topic_now.properties.get("policy"), requested.get("policy"));

    // Update in place: a second statement, same id.
    let mut wider = publish_policy(&arn);
    wider["Statement"] = json!([
        wider["Statement"].clone(),
        { "Sid": "AllowSubscribe", "Effect": "Allow", "Principal": { "AWS": ACCOUNT },
          "Action": "sns:Subscribe", "Resource": arn },
    ]);
    let second = map(json!({ "arn": arn, "policy": wider }));
    let updated = update(&policies, "events_policy", &policy, &second, &["policy"]).await;
    assert_eq!(updated.id, arn);
    assert_reads_back(&updated, &second);
    assert_eq!(parse(&topic_attributes(&sns, &arn).await["Policy"]), wider);

    let found = STACK
        .find(&policies, "events_policy", &second)
        .await
        .expect("the policy is found on its topic");
    assert_eq!(found, updated);

    // Delete puts back the policy SNS gives a new topic (SNS refuses an empty one).
    delete(&policies, "events_policy", &updated).await;
    let restored = parse(&topic_attributes(&sns, &arn).await["Policy"]);
    assert_eq!(restored["Id"], "__default_policy_ID", "{restored}");
    assert_eq!(restored["Statement"][0]["Resource"], json!(arn));
    assert_eq!(
        restored["Statement"][0]["Condition"]["StringEquals"]["AWS:SourceOwner"],
        ACCOUNT
    );

    // The policy of a topic that is gone is gone too, and deleting it again is harmless.
    delete(&topics, "events", &topic).await;
    assert_eq!(read(&policies, "events_policy", &updated).await, None);
    assert_eq!(STACK.find(&policies, "events_policy", &second).await, None);
    delete(&policies, "events_policy", &updated).await;
}
