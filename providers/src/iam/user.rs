//! `aws.iam.user`: an IAM user.
//!
//! `CreateUser` makes it with its path, permissions boundary and tags; `UpdateUser` moves it
//! to a new path, `Put`/`DeleteUserPermissionsBoundary` set or clear the boundary, and tags
//! change key by key. IAM refuses to delete a user that still belongs to groups or holds
//! credentials or policies. As terraform-provider-aws does, delete always takes the user out
//! of its groups; with `force_destroy` it first also deletes the login profile, access keys,
//! SSH public keys and signing certificates, deactivates MFA devices, deletes inline policies
//! and detaches managed ones (what other tools or people made for the user). `force_destroy`
//! is strata's own setting: never sent to AWS. The id is the user name.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::policy_attachment::PrincipalPolicies;
use super::user_policy_attachment::UserPolicies;
use super::{iam_tags, tags_from_iam, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, given, required_str};
use crate::retry::{wait_for, with_backoff, Wait};
use crate::tags::{reconcile, tag_api, tag_strings};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.iam.user";

/// IAM's limit on a user name.
const NAME_MAX_LEN: usize = 64;

/// How long a user just created or changed may take to become readable (IAM is eventually
/// consistent), looking every 2 s: terraform-provider-aws's two-minute propagation timeout.
const USER_READABLE: Wait = Wait {
    timeout: Duration::from_secs(120),
    interval: Duration::from_secs(2),
};

/// How long `DeleteLoginProfile` keeps retrying `EntityTemporarilyUnmodifiable` (a login
/// profile still being created): terraform-provider-aws's propagation timeout.
const LOGIN_PROFILE_UNMODIFIABLE_BUDGET: Duration = Duration::from_secs(120);

tag_api! {
    /// IAM's tagging calls for one user (`TagUser`, `UntagUser`), by user name.
    UserTags(aws_sdk_iam::Client) by user_name: tag_user(iam_tags), untag_user
}

/// The user's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String).force_new(),
            Prop::new("path", Kind::String).default("/"),
            Prop::new("permissions_boundary", Kind::String).resettable(),
            Prop::new("force_destroy", Kind::Bool).default(false),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["arn", "name", "unique_id"],
        taggable: true,
        check: None,
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.iam.user`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(UserProvider::new(ctx)),
    about: "An IAM user; delete takes it out of its groups, and with `force_destroy` also \
            removes the credentials and policies that other tools gave it.",
    import_id: "the user name",
    attributes: &[
        ("arn", "the user ARN"),
        ("name", "the user name"),
        ("unique_id", "IAM's unique id of the user (`AIDA…`)"),
    ],
    property_notes: &[
        ("path", "changed in place (`UpdateUser`)"),
        (
            "permissions_boundary",
            "the ARN of the managed policy that bounds the user's permissions",
        ),
        (
            "force_destroy",
            "strata's setting, never sent to AWS (an imported user has it false): delete \
             first removes the login profile, access keys, SSH keys, signing certificates, \
             MFA devices and policies",
        ),
    ],
    actions: Actions {
        create: &[
            "iam:CreateUser",
            "iam:TagUser",
            "iam:GetUser",
            "iam:ListUserTags",
        ],
        read: &["iam:GetUser", "iam:ListUserTags"],
        update: &[
            "iam:UpdateUser",
            "iam:PutUserPermissionsBoundary",
            "iam:DeleteUserPermissionsBoundary",
            "iam:TagUser",
            "iam:UntagUser",
            "iam:GetUser",
            "iam:ListUserTags",
        ],
        delete: &[
            "iam:ListGroupsForUser",
            "iam:RemoveUserFromGroup",
            "iam:DeleteLoginProfile",
            "iam:ListAccessKeys",
            "iam:DeleteAccessKey",
            "iam:ListSSHPublicKeys",
            "iam:DeleteSSHPublicKey",
            "iam:ListSigningCertificates",
            "iam:DeleteSigningCertificate",
            "iam:ListMFADevices",
            "iam:DeactivateMFADevice",
            "iam:ListUserPolicies",
            "iam:DeleteUserPolicy",
            "iam:ListAttachedUserPolicies",
            "iam:DetachUserPolicy",
            "iam:DeleteUser",
        ],
    },
    resources: &[
        "arn:{partition}:iam::{account}:user{path=/}{name}",
        "arn:{partition}:iam::{account}:mfa/*",
    ],
    passes_role: &[],
};

/// Every item of a paginated IAM list call, or the call's error.
macro_rules! listed {
    ($call:expr) => {
        $call
            .into_paginator()
            .items()
            .send()
            .collect::<std::result::Result<Vec<_>, _>>()
            .await
            .map_err(api_error)?
    };
}

/// `Ok(())` when the call succeeded or its object is already gone.
fn gone_is_ok<T>(result: Result<T>) -> Result<()> {
    missing_is_none(result, NOT_FOUND).map(|_| ())
}

/// Manages IAM users; the id is the user name.
pub struct UserProvider {
    schema: TypeSchema,
    iam: aws_sdk_iam::Client,
}

impl UserProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            iam: crate::aws::sdk_client!(aws_sdk_iam, ctx),
        }
    }

    /// The user in the stack's terms, or `None` when it does not exist. `force_destroy` is not
    /// in AWS: it reads back as `prior` recorded it.
    async fn find_user(&self, name: &str, prior: &Map) -> Result<Option<Resource>> {
        let out = self
            .iam
            .get_user()
            .user_name(name)
            .send()
            .await
            .map_err(api_error);
        let Some(out) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let user = out.user().ok_or_else(|| {
            ProviderError::invalid(format!("GetUser returned nothing for {name}"))
        })?;
        let mut properties = Map::from([
            ("name".to_string(), Value::str(user.user_name())),
            ("path".to_string(), Value::str(user.path())),
            (
                "force_destroy".to_string(),
                desired(&self.schema, prior, "force_destroy").unwrap_or(Value::Bool(false)),
            ),
        ]);
        // GetUser carries the tags on AWS; ListUserTags is read instead because it always
        // does (the emulator's GetUser leaves them out).
        let tags = self
            .iam
            .list_user_tags()
            .user_name(name)
            .into_paginator()
            .items()
            .send()
            .collect::<std::result::Result<Vec<_>, _>>()
            .await
            .map_err(api_error);
        let Some(tags) = missing_is_none(tags, NOT_FOUND)? else {
            return Ok(None);
        };
        properties.insert("tags".into(), tags_from_iam(&tags));
        if let Some(boundary) = user
            .permissions_boundary()
            .and_then(|b| b.permissions_boundary_arn())
            .filter(|arn| !arn.is_empty())
        {
            properties.insert("permissions_boundary".into(), Value::str(boundary));
        }
        Ok(Some(Resource {
            id: user.user_name().to_string(),
            properties,
            attributes: Map::from([
                ("arn".to_string(), Value::str(user.arn())),
                ("name".to_string(), Value::str(user.user_name())),
                ("unique_id".to_string(), Value::str(user.user_id())),
            ]),
        }))
    }

    /// Reads a user that must exist, waiting out IAM's eventual consistency.
    async fn read_existing(&self, name: &str, prior: &Map) -> Result<Resource> {
        wait_for(
            &format!("user {name} to be readable"),
            USER_READABLE,
            || self.find_user(name, prior),
        )
        .await
    }

    fn path(&self, props: &Map) -> String {
        desired(&self.schema, props, "path")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "/".to_string())
    }

    /// Takes the user out of every group: IAM refuses to delete a member.
    async fn leave_groups(&self, user: &str) -> Result<()> {
        let groups: Vec<_> = listed!(self.iam.list_groups_for_user().user_name(user));
        for group in groups {
            let out = self
                .iam
                .remove_user_from_group()
                .user_name(user)
                .group_name(group.group_name())
                .send()
                .await
                .map_err(api_error);
            gone_is_ok(out)?;
        }
        Ok(())
    }

    /// Deletes the login profile, retrying while one being created cannot be changed yet.
    async fn delete_login_profile(&self, user: &str) -> Result<()> {
        let out = with_backoff(
            LOGIN_PROFILE_UNMODIFIABLE_BUDGET,
            |e| e.is_code(&["EntityTemporarilyUnmodifiable"]),
            || {
                let call = self.iam.delete_login_profile().user_name(user);
                async move { call.send().await.map_err(api_error) }
            },
        )
        .await;
        gone_is_ok(out)
    }

    /// Deletes the user's access keys, SSH public keys and signing certificates and
    /// deactivates its MFA devices.
    async fn delete_credentials(&self, user: &str) -> Result<()> {
        let keys: Vec<_> = listed!(self.iam.list_access_keys().user_name(user));
        for key in keys.iter().filter_map(|k| k.access_key_id()) {
            let out = self
                .iam
                .delete_access_key()
                .user_name(user)
                .access_key_id(key);
            gone_is_ok(out.send().await.map_err(api_error))?;
        }
        let ssh: Vec<_> = listed!(self.iam.list_ssh_public_keys().user_name(user));
        for key in &ssh {
            let out = self
                .iam
                .delete_ssh_public_key()
                .user_name(user)
                .ssh_public_key_id(key.ssh_public_key_id());
            gone_is_ok(out.send().await.map_err(api_error))?;
        }
        let certificates: Vec<_> = listed!(self.iam.list_signing_certificates().user_name(user));
        for certificate in &certificates {
            let out = self
                .iam
                .delete_signing_certificate()
                .user_name(user)
                .certificate_id(certificate.certificate_id());
            gone_is_ok(out.send().await.map_err(api_error))?;
        }
        let devices: Vec<_> = listed!(self.iam.list_mfa_devices().user_name(user));
        for device in &devices {
            let out = self
                .iam
                .deactivate_mfa_device()
                .user_name(user)
                .serial_number(device.serial_number());
            gone_is_ok(out.send().await.map_err(api_error))?;
        }
        Ok(())
    }

    /// Deletes the user's inline policies and detaches its managed ones.
    async fn delete_policies(&self, user: &str) -> Result<()> {
        let inline: Vec<String> = listed!(self.iam.list_user_policies().user_name(user));
        for name in &inline {
            let out = self
                .iam
                .delete_user_policy()
                .user_name(user)
                .policy_name(name);
            gone_is_ok(out.send().await.map_err(api_error))?;
        }
        for arn in UserPolicies::attached(&self.iam, user).await? {
            UserPolicies::detach(&self.iam, user, &arn).await?;
        }
        Ok(())
    }

    /// Removes what blocks the delete (groups always; the rest with `force_destroy`), then
    /// deletes the user.
    async fn remove(&self, user: &str, force: bool) -> Result<()> {
        self.leave_groups(user).await?;
        if force {
            self.delete_login_profile(user).await?;
            self.delete_credentials(user).await?;
            self.delete_policies(user).await?;
        }
        let out = self.iam.delete_user().user_name(user).send().await;
        gone_is_ok(out.map_err(api_error))
    }
}

#[async_trait]
impl Provider for UserProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// One `CreateUser` with the path, boundary and tags, then the read back.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = required_str(props, "name")?;
        let boundary =
            given(props, "permissions_boundary").and_then(|v| v.as_str().map(str::to_string));
        let tags = iam_tags(tag_strings(props.get("tags"))?)?;
        self.iam
            .create_user()
            .user_name(&name)
            .path(self.path(props))
            .set_permissions_boundary(boundary)
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(api_error)?;
        after_made(&name, self.read_existing(&name, props)).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_user(&req.id, &req.prior_properties).await
    }

    /// Each changed part with its own call: the path, the boundary, the tag keys that differ.
    /// `force_destroy` needs no call.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let user = req.id.as_str();
        let props = &req.properties;
        let changed = |prop: &str| req.changed.iter().any(|c| c == prop);
        if let Some(prop) = req.changed.iter().find(|p| {
            !matches!(
                p.as_str(),
                "path" | "permissions_boundary" | "force_destroy" | "tags"
            )
        }) {
            return Err(ProviderError::not_in_place(prop, TYPE_NAME));
        }
        if changed("path") {
            self.iam
                .update_user()
                .user_name(user)
                .new_path(self.path(props))
                .send()
                .await
                .map_err(api_error)?;
        }
        if changed("permissions_boundary") {
            match given(props, "permissions_boundary").and_then(|v| v.as_str().map(str::to_string))
            {
                Some(arn) => {
                    self.iam
                        .put_user_permissions_boundary()
                        .user_name(user)
                        .permissions_boundary(arn)
                        .send()
                        .await
                        .map_err(api_error)?;
                }
                None => {
                    let out = self
                        .iam
                        .delete_user_permissions_boundary()
                        .user_name(user)
                        .send()
                        .await;
                    gone_is_ok(out.map_err(api_error))?;
                }
            }
        }
        if changed("tags") {
            let api = UserTags {
                client: &self.iam,
                id: user,
            };
            reconcile(&api, &req.prior_properties, props).await?;
        }
        self.read_existing(user, props).await
    }

    /// Takes the user out of its groups (and, with `force_destroy`, removes its credentials
    /// and policies), then deletes it; a user already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let force = desired(&self.schema, &req.properties, "force_destroy")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        match self.remove(&req.id, force).await {
            Err(e) if e.is_code(NOT_FOUND) => Ok(()),
            other => other,
        }
    }

    /// Finds the user by its deterministic name.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "name")?;
        self.find_user(&name, &req.properties).await
    }
}
