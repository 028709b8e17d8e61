//! A create whose object is made and whose follow-up call is then refused: the object is
//! recorded as tainted (never orphaned), the next plan replaces it, and destroy leaves nothing.

use providers::aws::AwsContext;
use strata_tests::{assert_code, Project};

/// An internet gateway attached to `vpc`: creating the gateway always works, attaching it
/// is the follow-up call that AWS refuses for a VPC that does not exist.
fn stack(vpc: &str) -> String {
    format!(
        r#"stack: halfmade
region: us-east-1
resources:
  vpc:
    type: aws.ec2.vpc
    properties: {{ cidr_block: 10.8.0.0/16 }}
  gateway:
    type: aws.ec2.internet_gateway
    properties: {{ vpc_id: "{vpc}" }}
"#
    )
}

/// Every internet gateway in the emulator's account, by id.
async fn gateways(ctx: &AwsContext) -> Vec<String> {
    aws_sdk_ec2::Client::new(&ctx.sdk)
        .describe_internet_gateways()
        .send()
        .await
        .unwrap()
        .internet_gateways()
        .iter()
        .filter_map(|g| g.internet_gateway_id().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gateway_whose_attach_is_refused_is_recorded_tainted_replaced_and_destroyed() {
    let p = Project::new(&stack("vpc-0000000000000dead"));
    let ctx = p.ctx();
    let before = gateways(&ctx).await;

    let run = p.strata(&["apply", "--auto-approve"]);
    assert_code(&run, 1);
    assert!(
        run.stderr
            .contains("was created and is recorded as tainted"),
        "{}",
        run.stderr
    );
    let made: Vec<String> = gateways(&ctx)
        .await
        .into_iter()
        .filter(|g| !before.contains(g))
        .collect();
    assert_eq!(made.len(), 1, "the gateway was made: {made:?}");
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(p.path().join(".strata/halfmade.state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(state["resources"]["gateway"]["id"], made[0].as_str());
    assert_eq!(state["resources"]["gateway"]["tainted"], true);

    // Pointed at the real VPC, the tainted gateway is replaced, not updated in place.
    p.write_stack(&stack("${vpc.id}"));
    let run = p.strata(&["plan"]);
    assert_code(&run, 0);
    assert!(
        run.stdout
            .contains("gateway (aws.ec2.internet_gateway) is tainted, so must be replaced"),
        "{}",
        run.stdout
    );
    assert_code(&p.strata(&["apply", "--auto-approve"]), 0);
    let now: Vec<String> = gateways(&ctx)
        .await
        .into_iter()
        .filter(|g| !before.contains(g))
        .collect();
    assert_eq!(now.len(), 1, "{now:?}");
    assert_ne!(now[0], made[0], "the tainted gateway was replaced");
    assert_code(&p.strata(&["plan", "--detailed-exitcode"]), 0);

    assert_code(&p.strata(&["destroy", "--auto-approve"]), 0);
    let left: Vec<String> = gateways(&ctx)
        .await
        .into_iter()
        .filter(|g| !before.contains(g))
        .collect();
    assert!(left.is_empty(), "nothing orphaned: {left:?}");
}
