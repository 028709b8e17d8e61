//! The order-workflow example as a user drives it: an HTTP API whose `POST /orders` starts a
//! Step Functions execution through an AWS service integration, a nightly schedule starting the
//! same workflow, and a custom bus whose rule routes order events to a queue. Applied through
//! the built binary against the emulator, checked through the AWS API, re-planned clean, and
//! destroyed leaving nothing.

use strata_tests::kit;
use strata_tests::{assert_code, copy_dir, run_strata, workspace_root, Emulator};

#[tokio::test(flavor = "multi_thread")]
async fn the_order_workflow_example_applies_replans_clean_and_destroys_cleanly() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &workspace_root().join("examples/order-workflow"),
        dir.path(),
    );
    let env = emu.aws_env();
    let strata = |args: &[&str]| run_strata(dir.path(), args, &env);
    let ctx = kit::context(&emu);
    let sfn = aws_sdk_sfn::Client::new(&ctx.sdk);
    let apis = aws_sdk_apigatewayv2::Client::new(&ctx.sdk);
    let events = aws_sdk_eventbridge::Client::new(&ctx.sdk);
    let scheduler = aws_sdk_scheduler::Client::new(&ctx.sdk);
    let sqs = aws_sdk_sqs::Client::new(&ctx.sdk);

    let run = strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("Apply complete: 15 added"),
        "{}",
        run.stdout
    );

    // The workflow, publishing to the orders bus.
    let machines = sfn.list_state_machines().send().await.unwrap();
    assert_eq!(machines.state_machines().len(), 1, "{machines:?}");
    let machine_arn = machines.state_machines()[0].state_machine_arn().to_string();
    let machine = sfn
        .describe_state_machine()
        .state_machine_arn(&machine_arn)
        .send()
        .await
        .unwrap();
    let definition: serde_json::Value = serde_json::from_str(machine.definition()).unwrap();
    assert_eq!(
        definition["States"]["Announce"]["Parameters"]["Entries"][0]["EventBusName"],
        "orders"
    );

    // POST /orders starts it: a service integration naming the machine, as the API's role.
    let api_id = apis.get_apis().send().await.unwrap().items()[0]
        .api_id()
        .unwrap()
        .to_string();
    let integrations = apis
        .get_integrations()
        .api_id(&api_id)
        .send()
        .await
        .unwrap();
    let integration = &integrations.items()[0];
    assert_eq!(
        integration.integration_subtype(),
        Some("StepFunctions-StartExecution")
    );
    assert!(
        integration
            .credentials_arn()
            .is_some_and(|arn| arn.ends_with(":role/order-workflow-api-role")),
        "{integration:?}"
    );
    let params = integration.request_parameters().unwrap();
    assert_eq!(params.get("StateMachineArn"), Some(&machine_arn));
    assert_eq!(
        params.get("Input").map(String::as_str),
        Some("$request.body")
    );
    let routes = apis.get_routes().api_id(&api_id).send().await.unwrap();
    assert_eq!(routes.items()[0].route_key(), Some("POST /orders"));

    // The nightly schedule starts the same machine.
    let schedule = scheduler
        .get_schedule()
        .group_name("order-workflow-jobs")
        .name("order-workflow-nightly-reconcile")
        .send()
        .await
        .unwrap();
    assert_eq!(schedule.target().unwrap().arn(), machine_arn);
    assert_eq!(
        schedule.schedule_expression_timezone(),
        Some("Europe/Berlin")
    );

    // The rule on the custom bus routes to the queue, which lets EventBridge send to it.
    let targets = events
        .list_targets_by_rule()
        .rule("order-workflow-order-placed")
        .event_bus_name("orders")
        .send()
        .await
        .unwrap();
    let queue_url = sqs
        .get_queue_url()
        .queue_name("order-workflow-fulfilment")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    assert!(
        targets.targets()[0]
            .arn()
            .ends_with(":order-workflow-fulfilment"),
        "{targets:?}"
    );
    let policy = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::Policy)
        .send()
        .await
        .unwrap();
    let policy = policy
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::Policy))
        .unwrap();
    assert!(policy.contains("events.amazonaws.com"), "{policy}");

    // An order event put on the bus (what the workflow's task does) arrives in the queue.
    let put = events
        .put_events()
        .entries(
            aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                .event_bus_name("orders")
                .source("shop.orders")
                .detail_type("OrderPlaced")
                .detail(r#"{"order":"o-1"}"#)
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(put.failed_entry_count(), 0, "{put:?}");
    let received = sqs
        .receive_message()
        .queue_url(&queue_url)
        .wait_time_seconds(5)
        .send()
        .await
        .unwrap();
    let body = received.messages()[0].body().unwrap_or_default();
    assert!(body.contains("o-1"), "{body}");

    let run = strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    let run = strata(&["destroy", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(sfn
        .list_state_machines()
        .send()
        .await
        .unwrap()
        .state_machines()
        .is_empty());
    assert!(apis.get_apis().send().await.unwrap().items().is_empty());
    let buses = events.list_event_buses().send().await.unwrap();
    let bus_names: Vec<&str> = buses
        .event_buses()
        .iter()
        .filter_map(|b| b.name())
        .collect();
    assert_eq!(bus_names, ["default"]);
    assert!(scheduler
        .list_schedules()
        .send()
        .await
        .unwrap()
        .schedules()
        .is_empty());
    assert!(kit::queue_urls(&ctx).await.is_empty());
}
