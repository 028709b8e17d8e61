//! `aws.iam.role_policy_attachment`: one managed policy attached to one role.
//!
//! The provider is the one every attachment type shares ([`super::policy_attachment`]); this
//! file says which calls are a role's. The id is `ROLE/POLICY_ARN`, as terraform-provider-aws's
//! import takes it.
//!
//! Ownership, as in Terraform: a role whose `managed_policy_arns` the stack sets owns its whole
//! list (strata detaches what is not in it), so a role managed by separate attachments leaves
//! `managed_policy_arns` out; then the role never touches its attachments.

use std::sync::Arc;

use stacks::TypeSchema;

use super::policy_attachment::{self, attachment_calls, PolicyAttachmentProvider};
use crate::catalogue::entry::{Actions, Entry};

pub const TYPE_NAME: &str = "aws.iam.role_policy_attachment";

attachment_calls! {
    /// A role's attachment calls, by role name.
    RolePolicies(TYPE_NAME, "role") by role_name:
        attach_role_policy, detach_role_policy, list_attached_role_policies
}

/// The attachment's properties: which policy on which role, both replacing.
pub fn schema() -> TypeSchema {
    policy_attachment::schema::<RolePolicies>()
}

/// How the catalogue knows `aws.iam.role_policy_attachment`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(PolicyAttachmentProvider::<RolePolicies>::new(ctx)),
    about: "One managed policy attached to one role, managed apart from the role (leave the \
            role's `managed_policy_arns` out: when set, that list is exclusive).",
    import_id: "`ROLE/POLICY_ARN`: the role name, a `/`, and the policy ARN",
    attributes: &[("id", "`ROLE/POLICY_ARN`, the id `strata import` takes")],
    property_notes: &[
        ("role", "the role's name (`${role.name}`)"),
        (
            "policy_arn",
            "an AWS managed policy's ARN or a customer policy's (`${policy.arn}`)",
        ),
    ],
    actions: Actions {
        create: &["iam:AttachRolePolicy"],
        read: &["iam:ListAttachedRolePolicies"],
        update: &[],
        delete: &["iam:DetachRolePolicy"],
    },
    resources: &[
        "arn:{partition}:iam::{account}:role/{role}",
        "arn:{partition}:iam::{account}:role/*/{role}",
    ],
    passes_role: &[],
};
