//! `aws.secretsmanager.secret_version`: one value of a secret.
//!
//! A version is immutable: a new `secret_string` is a new version (a replacement, as in
//! Terraform), which `PutSecretValue` makes current, leaving the old one as `AWSPREVIOUS`.
//! Its staging labels (`version_stages`) move in place. Secrets Manager has no call that
//! deletes a version: delete takes the version's labels off (except `AWSCURRENT`, which only
//! moves when another version becomes current), and AWS deletes versions without labels;
//! deleting the secret deletes every version. The id is `SECRET_ARN|VERSION_ID`, as
//! terraform-provider-aws's.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::{marked_for_deletion, SECRET_NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{given, required_str, set_in_prior_order};
use crate::retry::{wait_for, Wait};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.secretsmanager.secret_version";

/// The label of a secret's current version, which can only move to another version.
const CURRENT: &str = "AWSCURRENT";

/// How long a new version may take to be readable (Secrets Manager is eventually consistent).
const VERSION_READABLE: Wait = Wait {
    timeout: Duration::from_secs(120),
    interval: Duration::from_secs(1),
};

/// The version's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("secret_id", Kind::String).required().force_new(),
            Prop::new("secret_string", Kind::String)
                .required()
                .force_new()
                .sensitive()
                .length(1, 65_536),
            Prop::new("version_stages", Kind::List(Box::new(Kind::String))),
        ],
        attrs: vec!["arn", "version_id"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.secretsmanager.secret_version`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(SecretVersionProvider::new(ctx)),
    about: "One value of a Secrets Manager secret; `secret_string` is sensitive (never printed), \
            and a new one is a new version, made current.",
    import_id: "`SECRET_ARN|VERSION_ID`: the secret's ARN, a `|`, and the version id",
    attributes: &[
        ("arn", "the secret's ARN"),
        ("version_id", "the version's id"),
    ],
    property_notes: &[
        ("secret_id", "the secret's ARN or name (`${secret.arn}`)"),
        (
            "version_stages",
            "staging labels, moved in place; when not given, the new version is `AWSCURRENT`; \
             the first version of a secret is always `AWSCURRENT`, so list it there",
        ),
        (
            "secret_string",
            "deleting a version takes its labels off (a version cannot be deleted on its own; \
             `AWSCURRENT` stays until another version takes it)",
        ),
    ],
    actions: Actions {
        create: &[
            "secretsmanager:PutSecretValue",
            "secretsmanager:GetSecretValue",
            "kms:GenerateDataKey",
            "kms:Decrypt",
        ],
        read: &["secretsmanager:GetSecretValue", "kms:Decrypt"],
        update: &[
            "secretsmanager:DescribeSecret",
            "secretsmanager:UpdateSecretVersionStage",
        ],
        delete: &[
            "secretsmanager:GetSecretValue",
            "secretsmanager:UpdateSecretVersionStage",
        ],
    },
    resources: &[
        "arn:{partition}:secretsmanager:{region}:{account}:secret:{secret_id|name}*",
        "arn:{partition}:kms:{region}:{account}:key/*",
    ],
    passes_role: &[],
};

/// The secret and the version a version's id names.
fn split_id(id: &str) -> Result<(&str, &str)> {
    id.split_once('|')
        .filter(|(secret, version)| !secret.is_empty() && !version.is_empty())
        .ok_or_else(|| {
            ProviderError::invalid(format!(
                "`{id}` is not a secret version id: write SECRET_ARN|VERSION_ID"
            ))
        })
}

/// True when `written` (what the stack gave as `secret_id`: a name or an ARN) names the
/// secret whose ARN is `arn` (`...:secret:NAME-SUFFIX`, the suffix Secrets Manager adds).
fn names_secret(written: &str, arn: &str) -> bool {
    if written == arn {
        return true;
    }
    let Some(tail) = arn.split_once(":secret:").map(|(_, t)| t) else {
        return false;
    };
    tail == written
        || tail
            .strip_prefix(written)
            .is_some_and(|rest| rest.starts_with('-') && rest.len() == 7)
}

/// Manages secret versions; the id is `SECRET_ARN|VERSION_ID`.
pub struct SecretVersionProvider {
    schema: TypeSchema,
    sm: aws_sdk_secretsmanager::Client,
}

impl SecretVersionProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            sm: crate::aws::sdk_client!(aws_sdk_secretsmanager, ctx),
        }
    }

    /// The version in the stack's terms, or `None` when it (or its secret) is gone. Chosen by
    /// version id, or else by staging label.
    async fn find_version(
        &self,
        secret: &str,
        version: Option<&str>,
        stage: Option<&str>,
        prior: &Map,
    ) -> Result<Option<Resource>> {
        let out = self
            .sm
            .get_secret_value()
            .secret_id(secret)
            .set_version_id(version.map(str::to_string))
            .set_version_stage(stage.map(str::to_string))
            .send()
            .await
            .map_err(api_error);
        let out = match out {
            Err(e) if marked_for_deletion(&e) => return Ok(None),
            other => other,
        };
        let Some(out) = missing_is_none(out, SECRET_NOT_FOUND)? else {
            return Ok(None);
        };
        let arn = out.arn().unwrap_or(secret).to_string();
        let version_id = out
            .version_id()
            .ok_or_else(|| ProviderError::invalid("GetSecretValue returned no version id"))?
            .to_string();
        let secret_id = match prior.get("secret_id").and_then(Value::as_str) {
            Some(written) if names_secret(written, &arn) => written.to_string(),
            _ => arn.clone(),
        };
        let properties = Map::from([
            ("secret_id".to_string(), Value::str(secret_id)),
            (
                "secret_string".to_string(),
                Value::str(out.secret_string().unwrap_or_default()),
            ),
            (
                "version_stages".to_string(),
                set_in_prior_order(
                    prior.get("version_stages"),
                    out.version_stages().iter().cloned(),
                ),
            ),
        ]);
        let attributes = Map::from([
            ("arn".to_string(), Value::str(&arn)),
            ("version_id".to_string(), Value::str(&version_id)),
        ]);
        Ok(Some(Resource {
            id: format!("{arn}|{version_id}"),
            properties,
            attributes,
        }))
    }

    async fn read_existing(&self, id: &str, prior: &Map) -> Result<Resource> {
        let (secret, version) = split_id(id)?;
        wait_for(
            &format!("secret version {id} to be readable"),
            VERSION_READABLE,
            || self.find_version(secret, Some(version), None, prior),
        )
        .await
    }

    /// The labels of the secret's versions, by version id.
    async fn stages(&self, secret: &str) -> Result<Vec<(String, Vec<String>)>> {
        let out = self
            .sm
            .describe_secret()
            .secret_id(secret)
            .send()
            .await
            .map_err(api_error)?;
        Ok(out
            .version_ids_to_stages()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default())
    }

    /// Takes `stage` off `version`.
    async fn remove_stage(&self, secret: &str, version: &str, stage: &str) -> Result<()> {
        self.sm
            .update_secret_version_stage()
            .secret_id(secret)
            .version_stage(stage)
            .remove_from_version_id(version)
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }
}

/// The labels a property value lists.
fn stage_list(value: Option<Value>) -> BTreeSet<String> {
    value
        .as_ref()
        .and_then(Value::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect()
}

#[async_trait]
impl Provider for SecretVersionProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// `PutSecretValue`: a new version, labelled as the stack says (`AWSCURRENT` when it does
    /// not say).
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let secret = required_str(props, "secret_id")?;
        let stages = given(props, "version_stages").map(|v| stage_list(Some(v)));
        let out = self
            .sm
            .put_secret_value()
            .secret_id(&secret)
            .secret_string(required_str(props, "secret_string")?)
            .set_version_stages(stages.map(|s| s.into_iter().collect()))
            .send()
            .await
            .map_err(api_error)?;
        let (Some(arn), Some(version)) = (out.arn(), out.version_id()) else {
            return Err(ProviderError::invalid(
                "PutSecretValue returned no ARN or version id",
            ));
        };
        let id = format!("{arn}|{version}");
        after_made(&id, self.read_existing(&id, props)).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (secret, version) = split_id(&req.id)?;
        self.find_version(secret, Some(version), None, &req.prior_properties)
            .await
    }

    /// Moves labels onto this version (from whichever version holds them) and takes off the
    /// ones the stack no longer lists (`AWSCURRENT` excepted: it can only move).
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        if let Some(other) = req.changed.iter().find(|c| *c != "version_stages") {
            return Err(ProviderError::not_in_place(other, TYPE_NAME));
        }
        let (secret, version) = split_id(&req.id)?;
        if let Some(wanted) = given(&req.properties, "version_stages") {
            let wanted = stage_list(Some(wanted));
            let all = self.stages(secret).await?;
            let mine: BTreeSet<String> = all
                .iter()
                .find(|(v, _)| v == version)
                .map(|(_, s)| s.iter().cloned().collect())
                .unwrap_or_default();
            for stage in wanted.difference(&mine) {
                let holder = all
                    .iter()
                    .find(|(v, s)| v != version && s.contains(stage))
                    .map(|(v, _)| v.clone());
                self.sm
                    .update_secret_version_stage()
                    .secret_id(secret)
                    .version_stage(stage)
                    .move_to_version_id(version)
                    .set_remove_from_version_id(holder)
                    .send()
                    .await
                    .map_err(api_error)?;
            }
            for stage in mine.difference(&wanted).filter(|s| *s != CURRENT) {
                self.remove_stage(secret, version, stage).await?;
            }
        }
        self.read_existing(&req.id, &req.properties).await
    }

    /// Takes the version's labels off (all but `AWSCURRENT`); a version or secret already gone
    /// is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let (secret, version) = split_id(&req.id)?;
        let Some(found) = self
            .find_version(secret, Some(version), None, &req.properties)
            .await?
        else {
            return Ok(());
        };
        for stage in stage_list(found.properties.get("version_stages").cloned()) {
            if stage != CURRENT {
                let out = self.remove_stage(secret, version, &stage).await;
                missing_is_none(out, SECRET_NOT_FOUND)?;
            }
        }
        Ok(())
    }

    /// Adopts the secret's version that holds the stack's first label (`AWSCURRENT` when it
    /// lists none) when its value is the stack's: a version has no name or tags, and its value
    /// is what identifies it.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let props = &req.properties;
        let secret = required_str(props, "secret_id")?;
        let stage = stage_list(given(props, "version_stages"))
            .into_iter()
            .next()
            .unwrap_or_else(|| CURRENT.to_string());
        let found = self
            .find_version(&secret, None, Some(&stage), props)
            .await?;
        let wanted = given(props, "secret_string");
        Ok(found.filter(|r| r.properties.get("secret_string") == wanted.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_id_names_its_secret_and_version() {
        let id = "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf|v-1";
        assert_eq!(
            split_id(id).unwrap(),
            (
                "arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf",
                "v-1"
            )
        );
        assert!(split_id("no-bar").is_err());
    }

    #[test]
    fn a_secret_named_or_by_arn_is_the_same_secret() {
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-db-AbCdEf";
        assert!(names_secret(arn, arn));
        assert!(names_secret("orders-db", arn));
        assert!(!names_secret("orders", arn));
    }
}
