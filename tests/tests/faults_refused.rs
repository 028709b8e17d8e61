//! Every follow-up call of a multi-call create in the network and serverless examples refused
//! once, through the fault-injection proxy (an access-denied error nobody retries): the apply
//! fails, the object already made is recorded (tainted) or undone, the next apply converges, a
//! following plan is clean, the emulator holds exactly what the example makes, and destroy
//! leaves nothing orphaned.

use strata_tests::census::{Census, Example};
use strata_tests::proxy::{Fault, Faults, Proxy};
use strata_tests::{assert_code_while, kit, run_strata, Emulator};

/// The calls a create makes after the object exists: attaching the internet gateway, turning
/// on public addresses of a subnet, adding a route and associating a subnet with a route
/// table, adding a security group's rules, turning on a VPC's DNS hostnames.
const NETWORK_FOLLOW_UPS: &[&str] = &[
    "AttachInternetGateway",
    "ModifySubnetAttribute",
    "CreateRoute",
    "AssociateRouteTable",
    "AuthorizeSecurityGroupIngress",
    "ModifyVpcAttribute",
];

/// The serverless example's: attaching the role's managed policy and putting its inline one,
/// and putting an event rule's targets. (A function's create is one call: it is read again
/// only while Lambda says it is `Pending`, which the emulator never does.)
const SERVERLESS_FOLLOW_UPS: &[&str] = &["AttachRolePolicy", "PutRolePolicy", "PutTargets"];

#[tokio::test(flavor = "multi_thread")]
async fn each_follow_up_call_of_the_network_creates_refused_once_is_recovered_without_orphans() {
    refused_once_and_recovered(
        Example::Network,
        NETWORK_FOLLOW_UPS,
        "UnauthorizedOperation",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn each_follow_up_call_of_the_serverless_creates_refused_once_is_recovered_without_orphans() {
    refused_once_and_recovered(Example::Serverless, SERVERLESS_FOLLOW_UPS, "AccessDenied").await;
}

/// Refuses each of `follow_ups` once in an apply of `example` from scratch, expecting AWS's
/// `code` in the error, then checks that the next apply converges and destroy leaves nothing.
async fn refused_once_and_recovered(example: Example, follow_ups: &[&str], code: &str) {
    let emu = Emulator::start();
    let ctx = kit::context(&emu);
    let proxy = Proxy::start(&emu, Faults::default());
    let env = proxy.aws_env();
    let before = example.census(&ctx).await;
    let apply = ["apply", "--auto-approve"];

    for action in follow_ups {
        let dir = example.checkout();
        proxy.set_faults(Faults::refuse_once(&[action]));
        proxy.clear();
        let run = run_strata(dir.path(), &apply, &env);
        let doing = format!("{action} refused once");
        assert_code_while(&run, 1, &doing);
        let refused: Vec<_> = proxy
            .calls()
            .into_iter()
            .filter(|c| c.fault == Some(Fault::Refused))
            .collect();
        assert_eq!(refused.len(), 1, "{doing}: {refused:?}");
        assert_eq!(refused[0].action, *action);
        assert!(run.stderr.contains(code), "{doing}: {}", run.stderr);

        proxy.set_faults(Faults::default());
        let run = run_strata(dir.path(), &apply, &env);
        assert_code_while(&run, 0, &format!("{doing}, the next apply"));
        let plan = run_strata(dir.path(), &["plan", "--detailed-exitcode"], &env);
        assert_code_while(&plan, 0, &format!("{doing}, the plan after converging"));
        assert_eq!(
            example.census(&ctx).await.since(&before),
            example.made(),
            "{doing}: the emulator holds something twice or lacks something"
        );
        let destroy = run_strata(dir.path(), &["destroy", "--auto-approve"], &env);
        assert_code_while(&destroy, 0, &format!("{doing}, destroy"));
        assert_eq!(
            example.census(&ctx).await.since(&before),
            Census::default(),
            "{doing}: destroy left something behind"
        );
    }
}
