//! `aws.iam.user_policy_attachment`: one managed policy attached to one user.
//!
//! The provider is the one every attachment type shares ([`super::policy_attachment`]); this
//! file says which calls are a user's. The id is `USER/POLICY_ARN`, as terraform-provider-aws's
//! import takes it.

use std::sync::Arc;

use stacks::TypeSchema;

use super::policy_attachment::{self, attachment_calls, PolicyAttachmentProvider};
use crate::catalogue::entry::{Actions, Entry};

pub const TYPE_NAME: &str = "aws.iam.user_policy_attachment";

attachment_calls! {
    /// A user's attachment calls, by user name.
    UserPolicies(TYPE_NAME, "user") by user_name:
        attach_user_policy, detach_user_policy, list_attached_user_policies
}

/// The attachment's properties: which policy on which user, both replacing.
pub fn schema() -> TypeSchema {
    policy_attachment::schema::<UserPolicies>()
}

/// How the catalogue knows `aws.iam.user_policy_attachment`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(PolicyAttachmentProvider::<UserPolicies>::new(ctx)),
    about: "One managed policy attached to one user; additive: other policies attached to the \
            user are left alone.",
    import_id: "`USER/POLICY_ARN`: the user name, a `/`, and the policy ARN",
    attributes: &[("id", "`USER/POLICY_ARN`, the id `strata import` takes")],
    property_notes: &[
        ("user", "the user's name (`${user.name}`)"),
        (
            "policy_arn",
            "an AWS managed policy's ARN or a customer policy's (`${policy.arn}`)",
        ),
    ],
    actions: Actions {
        create: &["iam:AttachUserPolicy"],
        read: &["iam:ListAttachedUserPolicies"],
        update: &[],
        delete: &["iam:DetachUserPolicy"],
    },
    resources: &[
        "arn:{partition}:iam::{account}:user/{user}",
        "arn:{partition}:iam::{account}:user/*/{user}",
    ],
    passes_role: &[],
};
