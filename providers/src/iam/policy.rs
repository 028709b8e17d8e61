//! `aws.iam.policy`: a customer-managed IAM policy.
//!
//! IAM never edits a managed policy's document: a change is a new version made the default.
//! A policy holds at most five versions, so before adding a sixth the oldest version that is
//! not the default is deleted (as terraform-provider-aws does). Delete removes the non-default
//! versions first, since IAM refuses to delete a policy that has any. The id is the policy ARN.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::{iam_tags, tags_from_iam, PolicyTags, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::document::{document_from_aws, required_document_json};
use crate::props::{desired, given, required_str};
use crate::retry::{wait_for, Wait};
use crate::tags::{reconcile, tag_strings};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.iam.policy";

/// IAM's limit on a managed policy name.
const NAME_MAX_LEN: usize = 128;

/// How many versions IAM keeps of one managed policy.
const MAX_POLICY_VERSIONS: usize = 5;

/// How long a policy just created or changed may take to become readable (IAM is eventually
/// consistent), looking every 2 s.
const POLICY_READABLE: Wait = Wait {
    timeout: Duration::from_secs(120),
    interval: Duration::from_secs(2),
};

/// The policy's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String).force_new(),
            Prop::new("path", Kind::String).force_new().default("/"),
            Prop::new("description", Kind::String).force_new(),
            Prop::new("policy", Kind::Document)
                .required()
                .policy(stacks::PolicyRole::Identity),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["arn", "id"],
        taggable: true,
        check: None,
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.iam.policy`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(PolicyProvider::new(ctx)),
    about: "A customer-managed IAM policy; a new document becomes a new default version (the \
            oldest non-default version is deleted when IAM's five are used).",
    import_id: "the policy ARN",
    attributes: &[
        ("arn", "the policy ARN, which roles attach"),
        ("id", "IAM's unique id of the policy (`ANPA…`)"),
    ],
    property_notes: &[],
    actions: Actions {
        create: &[
            "iam:CreatePolicy",
            "iam:TagPolicy",
            "iam:GetPolicy",
            "iam:GetPolicyVersion",
        ],
        read: &["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicies"],
        update: &[
            "iam:CreatePolicyVersion",
            "iam:ListPolicyVersions",
            "iam:DeletePolicyVersion",
            "iam:TagPolicy",
            "iam:UntagPolicy",
        ],
        delete: &[
            "iam:ListPolicyVersions",
            "iam:DeletePolicyVersion",
            "iam:DeletePolicy",
        ],
    },
    resources: &["arn:{partition}:iam::{account}:policy{path=/}{name}"],
    passes_role: &[],
};

/// A version of a policy, as far as choosing one to delete needs.
#[derive(Clone, Debug, PartialEq)]
struct Version {
    id: String,
    is_default: bool,
    /// Seconds since the epoch; IAM always gives it, the emulator may not.
    created: Option<i64>,
}

impl Version {
    /// The number in `v7`, to order versions when creation dates are missing or equal.
    fn number(&self) -> u64 {
        self.id
            .trim_start_matches('v')
            .split('.')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(u64::MAX)
    }
}

/// The version to delete before adding one to a policy that holds `versions`: the oldest that
/// is not the default, and only when the policy is full.
fn version_to_make_room(versions: &[Version]) -> Option<&Version> {
    if versions.len() < MAX_POLICY_VERSIONS {
        return None;
    }
    versions
        .iter()
        .filter(|v| !v.is_default)
        .min_by_key(|v| (v.created.unwrap_or(i64::MAX), v.number()))
}

/// Manages customer-managed IAM policies; the id is the policy ARN.
pub struct PolicyProvider {
    schema: TypeSchema,
    iam: aws_sdk_iam::Client,
}

impl PolicyProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            iam: crate::aws::sdk_client!(aws_sdk_iam, ctx),
        }
    }

    /// The policy at `arn` in the stack's terms, or `None` when it does not exist.
    async fn find_policy(&self, arn: &str) -> Result<Option<Resource>> {
        let out = self
            .iam
            .get_policy()
            .policy_arn(arn)
            .send()
            .await
            .map_err(api_error);
        let Some(out) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let policy = out.policy().ok_or_else(|| {
            ProviderError::invalid(format!("GetPolicy returned nothing for {arn}"))
        })?;
        let default_version = policy.default_version_id().ok_or_else(|| {
            ProviderError::invalid(format!("GetPolicy returned no default version for {arn}"))
        })?;
        let version = self
            .iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(default_version)
            .send()
            .await
            .map_err(api_error);
        let Some(version) = missing_is_none(version, NOT_FOUND)? else {
            return Ok(None);
        };
        let document = version
            .policy_version()
            .and_then(|v| v.document())
            .ok_or_else(|| {
                ProviderError::invalid(format!(
                    "GetPolicyVersion returned no document for {arn} {default_version}"
                ))
            })?;

        let name = policy.policy_name().unwrap_or_default();
        let mut properties = Map::new();
        properties.insert("name".into(), Value::str(name));
        properties.insert("path".into(), Value::str(policy.path().unwrap_or("/")));
        if let Some(description) = policy.description().filter(|d| !d.is_empty()) {
            properties.insert("description".into(), Value::str(description));
        }
        properties.insert("policy".into(), document_from_aws("policy", document)?);
        properties.insert("tags".into(), tags_from_iam(policy.tags()));

        let attributes = Map::from([
            ("arn".to_string(), Value::str(arn)),
            (
                "id".to_string(),
                Value::str(policy.policy_id().unwrap_or_default()),
            ),
        ]);
        Ok(Some(Resource {
            id: arn.to_string(),
            properties,
            attributes,
        }))
    }

    /// Reads a policy that must exist (it was just created or changed), waiting out IAM's
    /// eventual consistency.
    async fn read_existing(&self, arn: &str) -> Result<Resource> {
        wait_for(
            &format!("policy {arn} to be readable"),
            POLICY_READABLE,
            || self.find_policy(arn),
        )
        .await
    }

    async fn versions(&self, arn: &str) -> Result<Vec<Version>> {
        let mut pages = self
            .iam
            .list_policy_versions()
            .policy_arn(arn)
            .into_paginator()
            .items()
            .send();
        let mut versions = Vec::new();
        while let Some(version) = pages.next().await {
            let version = version.map_err(api_error)?;
            if let Some(id) = version.version_id() {
                versions.push(Version {
                    id: id.to_string(),
                    is_default: version.is_default_version(),
                    created: version.create_date().map(|d| d.secs()),
                });
            }
        }
        Ok(versions)
    }

    async fn delete_version(&self, arn: &str, version: &str) -> Result<()> {
        let out = self
            .iam
            .delete_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// Makes `document` the policy's default version, deleting the oldest non-default version
    /// first when the policy already holds as many as IAM allows.
    async fn new_default_version(&self, arn: &str, document: String) -> Result<()> {
        let versions = self.versions(arn).await?;
        if let Some(oldest) = version_to_make_room(&versions) {
            self.delete_version(arn, &oldest.id).await?;
        }
        self.iam
            .create_policy_version()
            .policy_arn(arn)
            .policy_document(document)
            .set_as_default(true)
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }

    /// The ARN of the local policy called `name` under `path`, if there is one.
    async fn arn_by_name(&self, name: &str, path: &str) -> Result<Option<String>> {
        let mut pages = self
            .iam
            .list_policies()
            .scope(aws_sdk_iam::types::PolicyScopeType::Local)
            .path_prefix(path)
            .into_paginator()
            .items()
            .send();
        while let Some(policy) = pages.next().await {
            let policy = policy.map_err(api_error)?;
            if policy.policy_name() == Some(name) && policy.path().unwrap_or("/") == path {
                return Ok(policy.arn().map(str::to_string));
            }
        }
        Ok(None)
    }
}

#[async_trait]
impl Provider for PolicyProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = required_str(props, "name")?;
        let path = desired(&self.schema, props, "path")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "/".to_string());
        let description = given(props, "description").and_then(|v| v.as_str().map(str::to_string));
        let tags = iam_tags(tag_strings(props.get("tags"))?)?;
        let out = self
            .iam
            .create_policy()
            .policy_name(&name)
            .path(&path)
            .set_description(description)
            .policy_document(required_document_json(props, "policy")?)
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(api_error)?;
        let arn = out
            .policy()
            .and_then(|p| p.arn())
            .ok_or_else(|| ProviderError::invalid("CreatePolicy returned no policy ARN"))?;
        after_made(arn, async { self.read_existing(arn).await }).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_policy(&req.id).await
    }

    /// A new document becomes a new default version; tags change key by key.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let arn = req.id.as_str();
        for prop in &req.changed {
            match prop.as_str() {
                "policy" => {
                    self.new_default_version(
                        arn,
                        required_document_json(&req.properties, "policy")?,
                    )
                    .await?
                }
                "tags" => {
                    let api = PolicyTags {
                        client: &self.iam,
                        id: arn,
                    };
                    reconcile(&api, &req.prior_properties, &req.properties).await?
                }
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            }
        }
        self.read_existing(arn).await
    }

    /// Deletes the non-default versions, then the policy; one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let arn = req.id.as_str();
        let Some(versions) = missing_is_none(self.versions(arn).await, NOT_FOUND)? else {
            return Ok(());
        };
        for version in versions.iter().filter(|v| !v.is_default) {
            self.delete_version(arn, &version.id).await?;
        }
        let out = self
            .iam
            .delete_policy()
            .policy_arn(arn)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// Finds the policy by its deterministic name and its path among the account's own
    /// policies.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "name")?;
        let path = desired(&self.schema, &req.properties, "path")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "/".to_string());
        match self.arn_by_name(&name, &path).await? {
            Some(arn) => self.find_policy(&arn).await,
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(id: &str, is_default: bool, created: Option<i64>) -> Version {
        Version {
            id: id.into(),
            is_default,
            created,
        }
    }

    #[test]
    fn a_policy_with_room_keeps_all_its_versions() {
        let versions = vec![version("v1", false, Some(1)), version("v2", true, Some(2))];
        assert_eq!(version_to_make_room(&versions), None);
    }

    #[test]
    fn a_full_policy_loses_its_oldest_non_default_version() {
        let versions = vec![
            version("v1", true, Some(1)),
            version("v2", false, Some(2)),
            version("v3", false, Some(3)),
            version("v4", false, Some(4)),
            version("v5", false, Some(5)),
        ];
        assert_eq!(
            version_to_make_room(&versions).map(|v| v.id.as_str()),
            Some("v2")
        );
        // Without dates, the lowest version number is the oldest (v10 comes after v9).
        let versions = vec![
            version("v10", false, None),
            version("v9", false, None),
            version("v11", false, None),
            version("v12", false, None),
            version("v13", true, None),
        ];
        assert_eq!(
            version_to_make_room(&versions).map(|v| v.id.as_str()),
            Some("v9")
        );
    }
}
