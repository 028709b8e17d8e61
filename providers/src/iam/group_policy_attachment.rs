//! `aws.iam.group_policy_attachment`: one managed policy attached to one group.
//!
//! The provider is the one every attachment type shares ([`super::policy_attachment`]); this
//! file says which calls are a group's. The id is `GROUP/POLICY_ARN`, as
//! terraform-provider-aws's import takes it.

use std::sync::Arc;

use stacks::TypeSchema;

use super::policy_attachment::{self, attachment_calls, PolicyAttachmentProvider};
use crate::catalogue::entry::{Actions, Entry};

pub const TYPE_NAME: &str = "aws.iam.group_policy_attachment";

attachment_calls! {
    /// A group's attachment calls, by group name.
    GroupPolicies(TYPE_NAME, "group") by group_name:
        attach_group_policy, detach_group_policy, list_attached_group_policies
}

/// The attachment's properties: which policy on which group, both replacing.
pub fn schema() -> TypeSchema {
    policy_attachment::schema::<GroupPolicies>()
}

/// How the catalogue knows `aws.iam.group_policy_attachment`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(PolicyAttachmentProvider::<GroupPolicies>::new(ctx)),
    about: "One managed policy attached to one group; additive: other policies attached to the \
            group are left alone.",
    import_id: "`GROUP/POLICY_ARN`: the group name, a `/`, and the policy ARN",
    attributes: &[("id", "`GROUP/POLICY_ARN`, the id `strata import` takes")],
    property_notes: &[
        ("group", "the group's name (`${group.name}`)"),
        (
            "policy_arn",
            "an AWS managed policy's ARN or a customer policy's (`${policy.arn}`)",
        ),
    ],
    actions: Actions {
        create: &["iam:AttachGroupPolicy"],
        read: &["iam:ListAttachedGroupPolicies"],
        update: &[],
        delete: &["iam:DetachGroupPolicy"],
    },
    resources: &[
        "arn:{partition}:iam::{account}:group/{group}",
        "arn:{partition}:iam::{account}:group/*/{group}",
    ],
    passes_role: &[],
};
