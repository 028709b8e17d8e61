//! `aws.kms.key`: a customer managed KMS key.
//!
//! A key has no name: its id is the key id KMS gives it, and a crash before the id was recorded
//! is recovered by finding the key by its `strata:` tags. KMS never deletes a key at once:
//! delete schedules the deletion after `deletion_window_in_days` (7 to 30 days, AWS requires a
//! window), and a key pending deletion counts as gone, as in terraform-provider-aws (it can no
//! longer be used, and `CancelKeyDeletion` is a person's decision, not strata's).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_kms::types::{KeySpec, KeyState, KeyUsageType};
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{kms_tags, KeyTags, KMS_NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::document::{document_from_aws, document_json};
use crate::props::{desired, given};
use crate::retry::{wait_for, with_backoff, Wait};
use crate::tags::{reconcile, tag_strings, tags_value};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.kms.key";

/// The only name a key policy has.
const POLICY_NAME: &str = "default";

/// AWS's pending window when none is given, and terraform-provider-aws's.
const DEFAULT_DELETION_WINDOW_DAYS: i64 = 30;

/// How long a new key may take to be readable everywhere (KMS is eventually consistent),
/// looking every 2 s: terraform-provider-aws's `propagationTimeout`.
const KEY_READABLE: Wait = Wait {
    timeout: Duration::from_secs(120),
    interval: Duration::from_secs(2),
};

/// How long `CreateKey` is retried while KMS does not know a principal its policy names yet
/// (IAM is eventually consistent): terraform-provider-aws's `iamPropagationTimeout`.
const IAM_PROPAGATION: Duration = Duration::from_secs(120);

/// How KMS refuses a policy whose principals it cannot see yet.
const MALFORMED_POLICY: &[&str] = &["MalformedPolicyDocumentException"];

/// How KMS refuses a call on a key in the wrong state (pending deletion, disabled).
const INVALID_STATE: &[&str] = &["KMSInvalidStateException"];

/// How KMS refuses rotation on keys that cannot rotate (asymmetric and HMAC keys).
const UNSUPPORTED: &[&str] = &["UnsupportedOperationException"];

/// The key's properties, with Terraform's defaults.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("description", Kind::String)
                .length(0, 8192)
                .resettable(),
            Prop::new("key_usage", Kind::String)
                .force_new()
                .default("ENCRYPT_DECRYPT")
                .allowed(KeyUsageType::values()),
            Prop::new("customer_master_key_spec", Kind::String)
                .force_new()
                .default("SYMMETRIC_DEFAULT")
                .allowed(KeySpec::values()),
            Prop::new("policy", Kind::Document).policy(stacks::PolicyRole::Resource),
            Prop::new("enable_key_rotation", Kind::Bool).default(false),
            Prop::new("deletion_window_in_days", Kind::Integer)
                .range(7, 30)
                .default(DEFAULT_DELETION_WINDOW_DAYS),
            Prop::new("is_enabled", Kind::Bool).default(true),
            Prop::new("multi_region", Kind::Bool)
                .force_new()
                .default(false),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["arn", "key_id"],
        taggable: true,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.kms.key`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(KeyProvider::new(ctx)),
    about: "A customer managed KMS key. Deleting it schedules its deletion after \
            `deletion_window_in_days` (KMS never deletes a key at once); a key pending deletion \
            counts as gone.",
    import_id: "the key id",
    attributes: &[
        ("arn", "the key's ARN"),
        (
            "key_id",
            "the key id, which aliases, parameters and secrets name",
        ),
    ],
    property_notes: &[
        (
            "deletion_window_in_days",
            "days between a delete (or a replacement) and KMS deleting the key: the key is \
             scheduled for deletion, not deleted, and can be recovered with \
             `aws kms cancel-key-deletion` until then; kept in the state only",
        ),
        (
            "policy",
            "taking it out of the stack leaves the key's policy as it is (KMS requires one); \
             it must let the deployer manage the key",
        ),
        ("enable_key_rotation", "symmetric encryption keys only"),
    ],
    actions: Actions {
        create: &[
            "kms:CreateKey",
            "kms:TagResource",
            "kms:EnableKeyRotation",
            "kms:DisableKey",
            "kms:DescribeKey",
            "kms:GetKeyPolicy",
            "kms:GetKeyRotationStatus",
            "kms:ListResourceTags",
        ],
        read: &[
            "kms:DescribeKey",
            "kms:GetKeyPolicy",
            "kms:GetKeyRotationStatus",
            "kms:ListResourceTags",
            "kms:ListKeys",
        ],
        update: &[
            "kms:EnableKey",
            "kms:DisableKey",
            "kms:EnableKeyRotation",
            "kms:DisableKeyRotation",
            "kms:UpdateKeyDescription",
            "kms:PutKeyPolicy",
            "kms:TagResource",
            "kms:UntagResource",
        ],
        delete: &["kms:ScheduleKeyDeletion"],
    },
    resources: &["arn:{partition}:kms:{region}:{account}:key/{id}"],
    passes_role: &[],
};

/// Manages KMS keys; the id is the key id.
pub struct KeyProvider {
    schema: TypeSchema,
    kms: aws_sdk_kms::Client,
}

impl KeyProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            kms: crate::aws::sdk_client!(aws_sdk_kms, ctx),
        }
    }

    /// The key in the stack's terms, or `None` when it does not exist or is pending deletion.
    /// `prior` gives what only the state holds (`deletion_window_in_days`).
    async fn find_key(&self, id: &str, prior: &Map) -> Result<Option<Resource>> {
        let out = self
            .kms
            .describe_key()
            .key_id(id)
            .send()
            .await
            .map_err(api_error);
        let Some(out) = missing_is_none(out, KMS_NOT_FOUND)? else {
            return Ok(None);
        };
        let meta = out.key_metadata().ok_or_else(|| {
            ProviderError::invalid(format!("DescribeKey returned nothing for {id}"))
        })?;
        if matches!(
            meta.key_state(),
            Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
        ) {
            return Ok(None);
        }
        let key_id = meta.key_id().to_string();
        let policy = self
            .kms
            .get_key_policy()
            .key_id(&key_id)
            .policy_name(POLICY_NAME)
            .send()
            .await
            .map_err(api_error);
        let Some(policy) = missing_is_none(policy, KMS_NOT_FOUND)? else {
            return Ok(None);
        };
        let rotation = self
            .kms
            .get_key_rotation_status()
            .key_id(&key_id)
            .send()
            .await
            .map_err(api_error);
        let rotation = match rotation {
            Ok(out) => out.key_rotation_enabled(),
            Err(e) if e.is_code(UNSUPPORTED) => false,
            Err(e) if e.is_code(KMS_NOT_FOUND) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut tags = Vec::new();
        let mut pages = self
            .kms
            .list_resource_tags()
            .key_id(&key_id)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let Some(page) = missing_is_none(page.map_err(api_error), KMS_NOT_FOUND)? else {
                return Ok(None);
            };
            tags.extend(
                page.tags()
                    .iter()
                    .map(|t| (t.tag_key().to_string(), t.tag_value().to_string())),
            );
        }

        let mut properties = Map::new();
        if let Some(description) = meta.description().filter(|d| !d.is_empty()) {
            properties.insert("description".into(), Value::str(description));
        }
        // AWS always returns the usage; where an answer leaves it out (the emulator's
        // DescribeKey does), it is what was recorded, which cannot change.
        let usage = match meta.key_usage() {
            Some(usage) => Some(Value::str(usage.as_str())),
            None => given(prior, "key_usage"),
        };
        if let Some(usage) = usage {
            properties.insert("key_usage".into(), usage);
        }
        if let Some(spec) = meta.key_spec() {
            properties.insert("customer_master_key_spec".into(), Value::str(spec.as_str()));
        }
        if let Some(text) = policy.policy().filter(|p| !p.trim().is_empty()) {
            properties.insert("policy".into(), document_from_aws("policy", text)?);
        }
        properties.insert("enable_key_rotation".into(), Value::Bool(rotation));
        let window = given(prior, "deletion_window_in_days")
            .unwrap_or(Value::int(DEFAULT_DELETION_WINDOW_DAYS));
        properties.insert("deletion_window_in_days".into(), window);
        properties.insert("is_enabled".into(), Value::Bool(meta.enabled()));
        properties.insert(
            "multi_region".into(),
            Value::Bool(meta.multi_region().unwrap_or(false)),
        );
        properties.insert("tags".into(), tags_value(tags));

        let arn = meta.arn().unwrap_or_default();
        let attributes = Map::from([
            ("arn".to_string(), Value::str(arn)),
            ("key_id".to_string(), Value::str(&key_id)),
        ]);
        Ok(Some(Resource {
            id: key_id,
            properties,
            attributes,
        }))
    }

    /// Reads a key that must exist (it was just created or changed), waiting out KMS's
    /// eventual consistency.
    async fn read_existing(&self, id: &str, props: &Map) -> Result<Resource> {
        wait_for(
            &format!("KMS key {id} to be readable"),
            KEY_READABLE,
            || self.find_key(id, props),
        )
        .await
    }

    async fn set_rotation(&self, id: &str, enabled: bool) -> Result<()> {
        if enabled {
            self.kms
                .enable_key_rotation()
                .key_id(id)
                .send()
                .await
                .map_err(api_error)?;
        } else {
            self.kms
                .disable_key_rotation()
                .key_id(id)
                .send()
                .await
                .map_err(api_error)?;
        }
        Ok(())
    }

    async fn set_enabled(&self, id: &str, enabled: bool) -> Result<()> {
        if enabled {
            self.kms
                .enable_key()
                .key_id(id)
                .send()
                .await
                .map_err(api_error)?;
        } else {
            self.kms
                .disable_key()
                .key_id(id)
                .send()
                .await
                .map_err(api_error)?;
        }
        Ok(())
    }

    fn switch(&self, props: &Map, prop: &str) -> bool {
        desired(&self.schema, props, prop).and_then(|v| v.as_bool()) == Some(true)
    }
}

#[async_trait]
impl Provider for KeyProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Creates the key with its policy and tags, then turns rotation on and the key off when
    /// the stack says so (`CreateKey` takes neither).
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let text = |prop: &str| {
            desired(&self.schema, props, prop).and_then(|v| v.as_str().map(str::to_string))
        };
        let policy = match given(props, "policy") {
            Some(policy) => Some(document_json("policy", &policy)?),
            None => None,
        };
        let tags = kms_tags(tag_strings(props.get("tags"))?)?;
        let out = with_backoff(
            IAM_PROPAGATION,
            |e| e.is_code(MALFORMED_POLICY),
            || {
                let call = self
                    .kms
                    .create_key()
                    .set_description(text("description"))
                    .set_key_usage(text("key_usage").map(|u| KeyUsageType::from(u.as_str())))
                    .set_key_spec(
                        text("customer_master_key_spec").map(|s| KeySpec::from(s.as_str())),
                    )
                    .multi_region(self.switch(props, "multi_region"))
                    .set_policy(policy.clone())
                    .set_tags((!tags.is_empty()).then(|| tags.clone()));
                async move { call.send().await.map_err(api_error) }
            },
        )
        .await?;
        let id = out
            .key_metadata()
            .map(|m| m.key_id().to_string())
            .ok_or_else(|| ProviderError::invalid("CreateKey returned no key id"))?;
        after_made(&id, async {
            if self.switch(props, "enable_key_rotation") {
                self.set_rotation(&id, true).await?;
            }
            if !self.switch(props, "is_enabled") {
                self.set_enabled(&id, false).await?;
            }
            self.read_existing(&id, props).await
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_key(&req.id, &req.prior_properties).await
    }

    /// Enables the key first and disables it last, as a disabled key takes no other change;
    /// between them the description, policy, rotation and tags that changed.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let id = req.id.as_str();
        let props = &req.properties;
        let changed = |prop: &str| req.changed.iter().any(|c| c == prop);
        let enabled = self.switch(props, "is_enabled");
        if changed("is_enabled") && enabled {
            self.set_enabled(id, true).await?;
        }
        for prop in &req.changed {
            match prop.as_str() {
                "description" => {
                    let description = given(props, "description")
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default();
                    self.kms
                        .update_key_description()
                        .key_id(id)
                        .description(description)
                        .send()
                        .await
                        .map_err(api_error)?;
                }
                "policy" => {
                    // A policy taken out of the stack is left as it is: KMS requires one.
                    if let Some(policy) = given(props, "policy") {
                        let policy = document_json("policy", &policy)?;
                        with_backoff(
                            IAM_PROPAGATION,
                            |e| e.is_code(MALFORMED_POLICY),
                            || {
                                let call = self
                                    .kms
                                    .put_key_policy()
                                    .key_id(id)
                                    .policy_name(POLICY_NAME)
                                    .policy(policy.clone());
                                async move { call.send().await.map_err(api_error) }
                            },
                        )
                        .await?;
                    }
                }
                "enable_key_rotation" => {
                    self.set_rotation(id, self.switch(props, "enable_key_rotation"))
                        .await?;
                }
                "tags" => {
                    let api = KeyTags {
                        client: &self.kms,
                        id,
                    };
                    reconcile(&api, &req.prior_properties, props).await?;
                }
                // Kept in the state only, for delete.
                "deletion_window_in_days" | "is_enabled" => {}
                other => return Err(ProviderError::not_in_place(other, TYPE_NAME)),
            }
        }
        if changed("is_enabled") && !enabled {
            self.set_enabled(id, false).await?;
        }
        self.read_existing(id, props).await
    }

    /// Schedules the key's deletion after its window; a key already gone or already pending
    /// deletion is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let window = given(&req.properties, "deletion_window_in_days")
            .and_then(|v| v.as_i64())
            .unwrap_or(DEFAULT_DELETION_WINDOW_DAYS);
        let out = self
            .kms
            .schedule_key_deletion()
            .key_id(&req.id)
            .pending_window_in_days(window as i32)
            .send()
            .await
            .map_err(api_error);
        match out {
            Err(e)
                if e.is_code(INVALID_STATE)
                    && e.message().is_some_and(|m| m.contains("pending deletion")) =>
            {
                Ok(())
            }
            other => missing_is_none(other, KMS_NOT_FOUND).map(|_| ()),
        }
    }

    /// Finds the key by its `strata:stack` and `strata:address` tags among the account's keys
    /// in this region (a key has no name to look it up by).
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let address_tag = stacks::address_tag(&req.address);
        let wanted = [
            (stacks::STACK_TAG, req.stack.as_str()),
            (stacks::ADDRESS_TAG, address_tag.as_str()),
        ];
        let mut keys = self.kms.list_keys().into_paginator().items().send();
        while let Some(key) = keys.next().await {
            let key = key.map_err(api_error)?;
            let Some(id) = key.key_id() else { continue };
            let tags = self
                .kms
                .list_resource_tags()
                .key_id(id)
                .send()
                .await
                .map_err(api_error);
            // Keys of other accounts' grants or AWS managed keys may refuse the call.
            let Ok(tags) = tags else { continue };
            let has = |(k, v): &(&str, &str)| {
                tags.tags()
                    .iter()
                    .any(|t| t.tag_key() == *k && t.tag_value() == *v)
            };
            if wanted.iter().all(has) {
                if let Some(found) = self.find_key(id, &req.properties).await? {
                    return Ok(Some(found));
                }
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_spec_and_usage_take_what_kms_takes() {
        let schema = schema();
        let spec = schema.prop("customer_master_key_spec").unwrap();
        assert!(spec.allowed.contains(&"SYMMETRIC_DEFAULT"));
        assert!(spec.allowed.contains(&"RSA_2048"));
        let usage = schema.prop("key_usage").unwrap();
        assert!(usage.allowed.contains(&"ENCRYPT_DECRYPT"));
    }
}
