//! The build-hosts example as a user drives it: a role whose managed policies are separate
//! attachments, with an inline role policy and an instance profile; an operators group with an
//! attachment, and a user in it. Applied through the built binary against the emulator,
//! checked through IAM, re-planned clean, and destroyed leaving nothing.

use strata_tests::kit;
use strata_tests::{assert_code, copy_dir, run_strata, workspace_root, Emulator};

#[tokio::test(flavor = "multi_thread")]
async fn the_build_hosts_example_applies_replans_clean_and_destroys_cleanly() {
    let emu = Emulator::start();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&workspace_root().join("examples/build-hosts"), dir.path());
    let env = emu.aws_env();
    let strata = |args: &[&str]| run_strata(dir.path(), args, &env);
    let iam = aws_sdk_iam::Client::new(&kit::context(&emu).sdk);

    let run = strata(&["apply", "--auto-approve"]);
    assert_code(&run, 0);
    assert!(
        run.stdout.contains("Apply complete: 10 added"),
        "{}",
        run.stdout
    );

    let mut attached: Vec<String> = iam
        .list_attached_role_policies()
        .role_name("build-hosts-host-role")
        .send()
        .await
        .unwrap()
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_name().map(str::to_string))
        .collect();
    attached.sort();
    assert_eq!(
        attached,
        [
            "AmazonSSMManagedInstanceCore",
            "CloudWatchAgentServerPolicy"
        ]
    );
    let inline = iam
        .list_role_policies()
        .role_name("build-hosts-host-role")
        .send()
        .await
        .unwrap();
    assert_eq!(inline.policy_names(), ["build-hosts-host-artifacts"]);
    let profile = iam
        .get_instance_profile()
        .instance_profile_name("build-hosts-host-profile")
        .send()
        .await
        .unwrap();
    let roles: Vec<&str> = profile
        .instance_profile()
        .unwrap()
        .roles()
        .iter()
        .map(|r| r.role_name())
        .collect();
    assert_eq!(roles, ["build-hosts-host-role"]);
    let groups = iam
        .list_groups_for_user()
        .user_name("build-ana")
        .send()
        .await
        .unwrap();
    let groups: Vec<&str> = groups.groups().iter().map(|g| g.group_name()).collect();
    assert_eq!(groups, ["build-hosts-operators"]);

    let run = strata(&["plan", "--detailed-exitcode"]);
    assert_code(&run, 0);
    assert!(run.stdout.contains("No changes."), "{}", run.stdout);

    // Another operator replaces the user; the membership follows it.
    let run = strata(&["apply", "--auto-approve", "--var", "operators=bo"]);
    assert_code(&run, 0);
    assert!(iam.get_user().user_name("build-ana").send().await.is_err());
    let groups = iam
        .list_groups_for_user()
        .user_name("build-bo")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.groups().len(), 1);

    let run = strata(&["destroy", "--auto-approve", "--var", "operators=bo"]);
    assert_code(&run, 0);
    assert!(iam
        .get_role()
        .role_name("build-hosts-host-role")
        .send()
        .await
        .is_err());
    assert!(iam
        .get_instance_profile()
        .instance_profile_name("build-hosts-host-profile")
        .send()
        .await
        .is_err());
    assert!(iam
        .get_group()
        .group_name("build-hosts-operators")
        .send()
        .await
        .is_err());
    assert!(iam.get_user().user_name("build-bo").send().await.is_err());
}
