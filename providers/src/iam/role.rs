//! `aws.iam.role`: an IAM role, its trust policy, and the policies it carries.
//!
//! A role is several IAM objects that each have their own API: the role itself (`CreateRole`,
//! `UpdateRole`, `UpdateAssumeRolePolicy`), its attached managed policies
//! (`Attach`/`DetachRolePolicy`), its inline policies (`Put`/`DeleteRolePolicy`), its permissions
//! boundary and its tags. Update touches only the parts that changed, and within the policy
//! lists only the entries that differ. IAM returns documents URL-encoded; read parses them back
//! into mappings. The id is the role name.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::{iam_tags, tags_from_iam, RoleTags, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::document::{document_from_aws, document_json};
use crate::props::{desired, given, required_str, set_in_prior_order};
use crate::retry::{delete_with_backoff, wait_for, with_backoff, Wait};
use crate::tags::{reconcile, tag_strings};
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.iam.role";

/// IAM's limit on a role name.
const NAME_MAX_LEN: usize = 64;

/// IAM's default (and the schema's) maximum session duration, in seconds.
const DEFAULT_MAX_SESSION_DURATION: i64 = 3600;

/// How long `CreateRole` keeps retrying a trust policy whose principal IAM does not know yet
/// ("Invalid principal in policy"): a role or user created moments ago propagates within
/// seconds; terraform-provider-aws allows two minutes.
const TRUST_PRINCIPAL_PROPAGATION_BUDGET: Duration = Duration::from_secs(120);

/// How long a role just created or changed may take to become readable (IAM is eventually
/// consistent), looking every 2 s.
const ROLE_READABLE: Wait = Wait {
    timeout: Duration::from_secs(120),
    interval: Duration::from_secs(2),
};

/// How long `DeleteRole` keeps retrying `DeleteConflict`: a policy detached or an instance
/// profile left a moment ago may still count for a few seconds.
const ROLE_DELETE_CONFLICT_BUDGET: Duration = Duration::from_secs(120);

/// The role's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String).force_new(),
            Prop::new("path", Kind::String).force_new().default("/"),
            Prop::new("assume_role_policy", Kind::Document)
                .required()
                .policy(stacks::PolicyRole::Trust),
            Prop::new("managed_policy_arns", Kind::List(Box::new(Kind::String)))
                .arn(&["iam"])
                .resettable()
                .shared_when_unset(),
            Prop::new("inline_policies", Kind::Map(Box::new(Kind::Document)))
                .resettable()
                .shared_when_unset()
                .policy(stacks::PolicyRole::Identity),
            Prop::new("description", Kind::String).resettable(),
            Prop::new("max_session_duration", Kind::Integer)
                .range(3600, 43_200)
                .default(DEFAULT_MAX_SESSION_DURATION),
            Prop::new("permissions_boundary", Kind::String),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["arn", "name", "id"],
        taggable: true,
        check: None,
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.iam.role`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(RoleProvider::new(ctx)),
    about: "An IAM role with its trust policy, attached managed policies and inline policies; \
            an update changes only the parts, and the list entries, that differ.",
    import_id: "the role name",
    attributes: &[
        (
            "arn",
            "the role ARN, which Lambda functions and rules take as `role`",
        ),
        ("name", "the role name"),
        ("id", "IAM's unique id of the role (`AROA…`)"),
    ],
    property_notes: &[
        (
            "managed_policy_arns",
            "the ARNs of the managed policies attached, kept as a set",
        ),
        ("inline_policies", "inline policy names to documents"),
    ],
    actions: Actions {
        create: &[
            "iam:CreateRole",
            "iam:TagRole",
            "iam:AttachRolePolicy",
            "iam:PutRolePolicy",
            "iam:PutRolePermissionsBoundary",
            "iam:ListAttachedRolePolicies",
            "iam:ListRolePolicies",
            "iam:ListInstanceProfilesForRole",
            "iam:DetachRolePolicy",
            "iam:DeleteRolePolicy",
            "iam:DeleteRole",
        ],
        read: &[
            "iam:GetRole",
            "iam:ListAttachedRolePolicies",
            "iam:ListRolePolicies",
            "iam:GetRolePolicy",
        ],
        update: &[
            "iam:UpdateRole",
            "iam:UpdateAssumeRolePolicy",
            "iam:AttachRolePolicy",
            "iam:DetachRolePolicy",
            "iam:PutRolePolicy",
            "iam:DeleteRolePolicy",
            "iam:PutRolePermissionsBoundary",
            "iam:DeleteRolePermissionsBoundary",
            "iam:TagRole",
            "iam:UntagRole",
        ],
        delete: &[
            "iam:ListAttachedRolePolicies",
            "iam:DetachRolePolicy",
            "iam:ListRolePolicies",
            "iam:DeleteRolePolicy",
            "iam:ListInstanceProfilesForRole",
            "iam:RemoveRoleFromInstanceProfile",
            "iam:DeleteRole",
        ],
    },
    resources: &[
        "arn:{partition}:iam::{account}:role{path=/}{name}",
        "arn:{partition}:iam::{account}:instance-profile/*",
    ],
    passes_role: &[],
};

/// Manages IAM roles; the id is the role name.
pub struct RoleProvider {
    schema: TypeSchema,
    iam: aws_sdk_iam::Client,
}

/// The policy ARNs a stack gives, as strings.
fn policy_arns(value: Option<Value>) -> Result<Vec<String>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let items = value
        .as_list()
        .ok_or_else(|| ProviderError::invalid("`managed_policy_arns` must be a list of ARNs"))?;
    items
        .iter()
        .map(|v| {
            v.as_str().map(str::to_string).ok_or_else(|| {
                ProviderError::invalid("`managed_policy_arns` must be a list of ARN strings")
            })
        })
        .collect()
}

/// The inline policies a stack gives: name to document.
fn inline_policies(value: Option<Value>) -> Result<Map> {
    match value {
        None => Ok(Map::new()),
        Some(Value::Map(map)) => Ok(map),
        Some(_) => Err(ProviderError::invalid(
            "`inline_policies` must be a mapping of policy names to documents",
        )),
    }
}

/// `Ok(())` when the call succeeded or its object is already gone.
fn gone_is_ok<T>(result: Result<T>) -> Result<()> {
    missing_is_none(result, NOT_FOUND).map(|_| ())
}

impl RoleProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            iam: crate::aws::sdk_client!(aws_sdk_iam, ctx),
        }
    }

    /// The ARNs of the managed policies attached to the role, in IAM's order.
    async fn attached_policy_arns(&self, role: &str) -> Result<Vec<String>> {
        let mut pages = self
            .iam
            .list_attached_role_policies()
            .role_name(role)
            .into_paginator()
            .items()
            .send();
        let mut arns = Vec::new();
        while let Some(policy) = pages.next().await {
            let policy = policy.map_err(api_error)?;
            if let Some(arn) = policy.policy_arn() {
                arns.push(arn.to_string());
            }
        }
        Ok(arns)
    }

    /// The names of the role's inline policies.
    async fn inline_policy_names(&self, role: &str) -> Result<Vec<String>> {
        let mut pages = self
            .iam
            .list_role_policies()
            .role_name(role)
            .into_paginator()
            .items()
            .send();
        let mut names = Vec::new();
        while let Some(name) = pages.next().await {
            names.push(name.map_err(api_error)?);
        }
        Ok(names)
    }

    /// The role in the stack's terms, or `None` when it does not exist. `prior` gives the order
    /// in which the stack lists the managed policies.
    async fn find_role(&self, name: &str, prior: &Map) -> Result<Option<Resource>> {
        let out = self
            .iam
            .get_role()
            .role_name(name)
            .send()
            .await
            .map_err(api_error);
        let Some(out) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let role = out.role().ok_or_else(|| {
            ProviderError::invalid(format!("GetRole returned no role for {name}"))
        })?;
        let Some(attached) = missing_is_none(self.attached_policy_arns(name).await, NOT_FOUND)?
        else {
            return Ok(None);
        };
        let Some(inline_names) = missing_is_none(self.inline_policy_names(name).await, NOT_FOUND)?
        else {
            return Ok(None);
        };
        let mut inline = Map::new();
        for policy_name in inline_names {
            let out = self
                .iam
                .get_role_policy()
                .role_name(name)
                .policy_name(&policy_name)
                .send()
                .await
                .map_err(api_error);
            // Deleted between the listing and now: it is not there.
            if let Some(out) = missing_is_none(out, NOT_FOUND)? {
                let document = document_from_aws("inline_policies", out.policy_document())?;
                inline.insert(policy_name, document);
            }
        }

        let managed = set_in_prior_order(prior.get("managed_policy_arns"), attached);
        role_resource(role, role.tags(), managed, inline).map(Some)
    }

    /// Reads a role that must exist (it was just created or changed), waiting out IAM's
    /// eventual consistency.
    async fn read_existing(&self, name: &str, prior: &Map) -> Result<Resource> {
        wait_for(
            &format!("role {name} to be readable"),
            ROLE_READABLE,
            || self.find_role(name, prior),
        )
        .await
    }

    async fn attach(&self, role: &str, arns: &[String]) -> Result<()> {
        for arn in arns {
            self.attach_one(role, arn).await?;
        }
        Ok(())
    }

    async fn attach_one(&self, role: &str, arn: &str) -> Result<()> {
        self.iam
            .attach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }

    async fn detach(&self, role: &str, arns: &[String]) -> Result<()> {
        for arn in arns {
            let out = self
                .iam
                .detach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
                .await
                .map_err(api_error);
            gone_is_ok(out)?;
        }
        Ok(())
    }

    async fn put_inline(&self, role: &str, name: &str, document: &Value) -> Result<()> {
        let text = document_json(&format!("inline_policies.{name}"), document)?;
        self.put_inline_text(role, name, text).await
    }

    /// Puts inline policy `name`, whose document is already JSON text.
    async fn put_inline_text(&self, role: &str, name: &str, text: String) -> Result<()> {
        self.iam
            .put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(text)
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }

    async fn delete_inline(&self, role: &str, name: &str) -> Result<()> {
        let out = self
            .iam
            .delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .map_err(api_error);
        gone_is_ok(out)
    }

    /// Detaches the managed policies, deletes the inline ones, takes the role out of any
    /// instance profile, then deletes it: IAM refuses to delete a role that still has any.
    /// A role already gone is success.
    async fn remove(&self, role: &str) -> Result<()> {
        let Some(attached) = missing_is_none(self.attached_policy_arns(role).await, NOT_FOUND)?
        else {
            return Ok(());
        };
        self.detach(role, &attached).await?;
        let Some(inline) = missing_is_none(self.inline_policy_names(role).await, NOT_FOUND)? else {
            return Ok(());
        };
        for name in &inline {
            self.delete_inline(role, name).await?;
        }
        let mut profiles = self
            .iam
            .list_instance_profiles_for_role()
            .role_name(role)
            .into_paginator()
            .items()
            .send();
        let mut profile_names = Vec::new();
        while let Some(profile) = profiles.next().await {
            match missing_is_none(profile.map_err(api_error), NOT_FOUND)? {
                Some(profile) => profile_names.push(profile.instance_profile_name().to_string()),
                None => return Ok(()),
            }
        }
        for profile in profile_names {
            let out = self
                .iam
                .remove_role_from_instance_profile()
                .instance_profile_name(profile)
                .role_name(role)
                .send()
                .await
                .map_err(api_error);
            gone_is_ok(out)?;
        }
        delete_with_backoff(
            ROLE_DELETE_CONFLICT_BUDGET,
            &["DeleteConflict", "DeleteConflictException"],
            NOT_FOUND,
            || {
                let call = self.iam.delete_role().role_name(role);
                async move { call.send().await.map_err(api_error) }
            },
        )
        .await
    }

    /// Attaches and detaches only the policies that differ between `prior` and `desired`.
    async fn reconcile_managed(
        &self,
        role: &str,
        prior: &[String],
        desired: &[String],
    ) -> Result<()> {
        let prior_set: BTreeSet<&String> = prior.iter().collect();
        let desired_set: BTreeSet<&String> = desired.iter().collect();
        let removed: Vec<String> = prior_set
            .difference(&desired_set)
            .map(|s| s.to_string())
            .collect();
        let added: Vec<String> = desired_set
            .difference(&prior_set)
            .map(|s| s.to_string())
            .collect();
        self.detach(role, &removed).await?;
        self.attach(role, &added).await
    }

    /// Puts the inline policies that are new or changed and deletes the ones that went.
    async fn reconcile_inline(&self, role: &str, prior: &Map, desired: &Map) -> Result<()> {
        for name in prior.keys().filter(|name| !desired.contains_key(*name)) {
            self.delete_inline(role, name).await?;
        }
        for (name, document) in desired {
            if prior.get(name) != Some(document) {
                self.put_inline(role, name, document).await?;
            }
        }
        Ok(())
    }
}

/// The role in the stack's terms, from IAM's description of it (`GetRole`'s or `CreateRole`'s),
/// its `tags`, and its managed and inline policies.
fn role_resource(
    role: &aws_sdk_iam::types::Role,
    tags: &[aws_sdk_iam::types::Tag],
    managed_policy_arns: Value,
    inline_policies: Map,
) -> Result<Resource> {
    let mut properties = Map::new();
    properties.insert("name".into(), Value::str(role.role_name()));
    properties.insert("path".into(), Value::str(role.path()));
    if let Some(document) = role.assume_role_policy_document() {
        properties.insert(
            "assume_role_policy".into(),
            document_from_aws("assume_role_policy", document)?,
        );
    }
    properties.insert("managed_policy_arns".into(), managed_policy_arns);
    properties.insert("inline_policies".into(), Value::Map(inline_policies));
    if let Some(description) = role.description().filter(|d| !d.is_empty()) {
        properties.insert("description".into(), Value::str(description));
    }
    properties.insert(
        "max_session_duration".into(),
        Value::int(
            role.max_session_duration()
                .map_or(DEFAULT_MAX_SESSION_DURATION, i64::from),
        ),
    );
    if let Some(boundary) = role
        .permissions_boundary()
        .and_then(|b| b.permissions_boundary_arn())
        .filter(|arn| !arn.is_empty())
    {
        properties.insert("permissions_boundary".into(), Value::str(boundary));
    }
    properties.insert("tags".into(), tags_from_iam(tags));

    let attributes = Map::from([
        ("arn".to_string(), Value::str(role.arn())),
        ("name".to_string(), Value::str(role.role_name())),
        ("id".to_string(), Value::str(role.role_id())),
    ]);
    Ok(Resource {
        id: role.role_name().to_string(),
        properties,
        attributes,
    })
}

/// True for the error IAM gives while a principal named in a trust policy is not visible yet.
fn principal_not_propagated(e: &ProviderError) -> bool {
    e.is_code(&[
        "MalformedPolicyDocument",
        "MalformedPolicyDocumentException",
    ]) && e.message().is_some_and(|m| m.contains("Invalid principal"))
}

#[async_trait]
impl Provider for RoleProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Creates the role with its trust policy, description, session duration, boundary and tags
    /// in one call, then attaches the managed policies and puts the inline ones, all at once:
    /// two sequential requests whatever the number of policies, and no read back.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = required_str(props, "name")?;
        let path = desired(&self.schema, props, "path")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "/".to_string());
        let trust = document_json(
            "assume_role_policy",
            props
                .get("assume_role_policy")
                .ok_or_else(|| ProviderError::invalid("`assume_role_policy` is required"))?,
        )?;
        let description = given(props, "description").and_then(|v| v.as_str().map(str::to_string));
        let max_session = desired(&self.schema, props, "max_session_duration")
            .and_then(|v| v.as_i64())
            .unwrap_or(DEFAULT_MAX_SESSION_DURATION);
        let max_session = i32::try_from(max_session).map_err(|_| {
            ProviderError::invalid(format!(
                "`max_session_duration` {max_session} is out of range"
            ))
        })?;
        let boundary =
            given(props, "permissions_boundary").and_then(|v| v.as_str().map(str::to_string));
        let tags = iam_tags(tag_strings(props.get("tags"))?)?;

        let created = with_backoff(
            TRUST_PRINCIPAL_PROPAGATION_BUDGET,
            principal_not_propagated,
            || {
                let call = self
                    .iam
                    .create_role()
                    .role_name(&name)
                    .path(&path)
                    .assume_role_policy_document(&trust)
                    .set_description(description.clone())
                    .max_session_duration(max_session)
                    .set_permissions_boundary(boundary.clone())
                    .set_tags((!tags.is_empty()).then(|| tags.clone()));
                async move { call.send().await.map_err(api_error) }
            },
        )
        .await?;

        // The policies are independent of each other: attach and put them all at once. What
        // the role now holds is what CreateRole answered plus exactly these, so nothing is read
        // back (documents as a read gives them: parsed from the text IAM was sent).
        let attach_all = async {
            let role = created
                .role()
                .ok_or_else(|| ProviderError::invalid("CreateRole returned no role"))?;
            let arns = policy_arns(given(props, "managed_policy_arns"))?;
            let inline = inline_policies(given(props, "inline_policies"))?;
            let mut puts = Vec::new();
            let mut documents = Map::new();
            for (policy_name, document) in &inline {
                let text = document_json(&format!("inline_policies.{policy_name}"), document)?;
                documents.insert(
                    policy_name.clone(),
                    document_from_aws("inline_policies", &text)?,
                );
                puts.push(self.put_inline_text(&name, policy_name, text));
            }
            let attaches = arns.iter().map(|arn| self.attach_one(&name, arn));
            futures::future::try_join(
                futures::future::try_join_all(attaches),
                futures::future::try_join_all(puts),
            )
            .await?;
            let managed = set_in_prior_order(props.get("managed_policy_arns"), arns);
            let mut made = role_resource(role, &tags, managed, documents)?;
            // What CreateRole was sent, whether or not its answer repeats it.
            let sent = [
                (
                    "assume_role_policy",
                    Some(document_from_aws("assume_role_policy", &trust)?),
                ),
                ("description", description.as_deref().map(Value::str)),
                ("max_session_duration", Some(Value::int(max_session.into()))),
                ("permissions_boundary", boundary.as_deref().map(Value::str)),
            ];
            for (prop, value) in sent {
                if let Some(value) = value {
                    made.properties.insert(prop.to_string(), value);
                }
            }
            Ok::<_, ProviderError>(made)
        };
        match attach_all.await {
            Ok(role) => Ok(role),
            // Undo the half-made role; if that fails too, it is recorded as tainted.
            Err(err) => Err(err.after_rollback(&name, self.remove(&name).await)),
        }
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_role(&req.id, &req.prior_properties).await
    }

    /// Changes each changed part with its own API: the trust policy, the description and
    /// session duration (one `UpdateRole`), the boundary, the policy attachments and inline
    /// policies that differ, and the tag keys that differ.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let role = req.id.as_str();
        let props = &req.properties;
        let prior = &req.prior_properties;
        let changed = |prop: &str| req.changed.iter().any(|c| c == prop);
        for prop in &req.changed {
            if !matches!(
                prop.as_str(),
                "assume_role_policy"
                    | "managed_policy_arns"
                    | "inline_policies"
                    | "description"
                    | "max_session_duration"
                    | "permissions_boundary"
                    | "tags"
            ) {
                return Err(ProviderError::not_in_place(prop, TYPE_NAME));
            }
        }

        if changed("assume_role_policy") {
            let trust = document_json(
                "assume_role_policy",
                props
                    .get("assume_role_policy")
                    .ok_or_else(|| ProviderError::invalid("`assume_role_policy` is required"))?,
            )?;
            with_backoff(
                TRUST_PRINCIPAL_PROPAGATION_BUDGET,
                principal_not_propagated,
                || {
                    let call = self
                        .iam
                        .update_assume_role_policy()
                        .role_name(role)
                        .policy_document(&trust);
                    async move { call.send().await.map_err(api_error) }
                },
            )
            .await?;
        }

        if changed("description") || changed("max_session_duration") {
            // UpdateRole sets both: a description the stack does not manage keeps its value.
            let description = given(props, "description")
                .or_else(|| {
                    (!changed("description"))
                        .then(|| given(prior, "description"))
                        .flatten()
                })
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            let max_session = desired(&self.schema, props, "max_session_duration")
                .and_then(|v| v.as_i64())
                .unwrap_or(DEFAULT_MAX_SESSION_DURATION);
            let max_session = i32::try_from(max_session).map_err(|_| {
                ProviderError::invalid(format!(
                    "`max_session_duration` {max_session} is out of range"
                ))
            })?;
            self.iam
                .update_role()
                .role_name(role)
                .description(description)
                .max_session_duration(max_session)
                .send()
                .await
                .map_err(api_error)?;
        }

        if changed("permissions_boundary") {
            match given(props, "permissions_boundary").and_then(|v| v.as_str().map(str::to_string))
            {
                Some(arn) => {
                    self.iam
                        .put_role_permissions_boundary()
                        .role_name(role)
                        .permissions_boundary(arn)
                        .send()
                        .await
                        .map_err(api_error)?;
                }
                None => {
                    let out = self
                        .iam
                        .delete_role_permissions_boundary()
                        .role_name(role)
                        .send()
                        .await
                        .map_err(api_error);
                    gone_is_ok(out)?;
                }
            }
        }

        if changed("managed_policy_arns") {
            self.reconcile_managed(
                role,
                &policy_arns(given(prior, "managed_policy_arns"))?,
                &policy_arns(given(props, "managed_policy_arns"))?,
            )
            .await?;
        }

        if changed("inline_policies") {
            self.reconcile_inline(
                role,
                &inline_policies(given(prior, "inline_policies"))?,
                &inline_policies(given(props, "inline_policies"))?,
            )
            .await?;
        }

        if changed("tags") {
            let api = RoleTags {
                client: &self.iam,
                id: role,
            };
            reconcile(&api, prior, props).await?;
        }
        self.read_existing(role, props).await
    }

    /// Removes the role and everything it carries; a role already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        self.remove(&req.id).await
    }

    /// Finds the role by its deterministic name.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "name")?;
        self.find_role(&name, &req.properties).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attached_policies_read_back_in_the_stacks_order_when_the_set_matches() {
        let prior = Value::List(vec![Value::str("arn:b"), Value::str("arn:a")]);
        let live = vec!["arn:a".to_string(), "arn:b".to_string()];
        assert_eq!(set_in_prior_order(Some(&prior), live), prior);
        let live = vec!["arn:c".to_string(), "arn:a".to_string()];
        assert_eq!(
            set_in_prior_order(Some(&prior), live),
            Value::List(vec![Value::str("arn:a"), Value::str("arn:c")])
        );
    }

    #[test]
    fn the_trust_propagation_retry_is_only_for_unknown_principals() {
        let unknown = ProviderError::Api {
            code: "MalformedPolicyDocument".into(),
            message: "Invalid principal in policy: \"AWS\":\"arn:aws:iam::1:role/new\"".into(),
        };
        let syntax = ProviderError::Api {
            code: "MalformedPolicyDocument".into(),
            message: "Syntax errors in policy.".into(),
        };
        assert!(principal_not_propagated(&unknown));
        assert!(!principal_not_propagated(&syntax));
    }
}
