//! `aws.secretsmanager.secret`: a secret's metadata (name, key, policy, tags). Its value is an
//! `aws.secretsmanager.secret_version`.
//!
//! The id is the secret's ARN. Delete honours `recovery_window_in_days`: 7 to 30 days schedules
//! the deletion (the secret can be restored until then, and its name stays taken), 0 deletes it
//! at once (`ForceDeleteWithoutRecovery`). A secret scheduled for deletion counts as gone, as
//! in terraform-provider-aws.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use stacks::{Failure, Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::{marked_for_deletion, secret_tags, SecretTags, SECRET_NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::document::{document_from_aws, document_json};
use crate::kms::key_as_written;
use crate::props::{given, required_str};
use crate::retry::{wait_for, with_backoff, Wait};
use crate::tags::{reconcile, tag_strings, tags_value};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.secretsmanager.secret";

/// Secrets Manager's limit on a secret name.
const NAME_MAX_LEN: usize = 512;

/// AWS's recovery window when none is given, and terraform-provider-aws's.
const DEFAULT_RECOVERY_WINDOW_DAYS: i64 = 30;

/// How long create retries a name whose secret was just deleted without recovery (Secrets
/// Manager frees it asynchronously), and how long a policy naming a principal IAM has not
/// propagated yet is retried: terraform-provider-aws's `PropagationTimeout`.
const PROPAGATION: Duration = Duration::from_secs(120);

/// How long a new secret may take to be readable, and a deleted one to read as gone.
const SECRET_SETTLED: Wait = Wait {
    timeout: Duration::from_secs(120),
    interval: Duration::from_secs(1),
};

/// How Secrets Manager refuses a policy naming a principal IAM does not know yet.
const MALFORMED_POLICY: &[&str] = &["MalformedPolicyDocumentException"];

/// A recovery window Secrets Manager takes: 0 (delete at once) or 7 to 30 days.
fn recovery_window(value: &Value) -> std::result::Result<(), Failure> {
    match value.as_i64() {
        Some(0 | 7..=30) | None => Ok(()),
        Some(_) => Err(Failure {
            problem: "is not a recovery window".into(),
            help: "AWS takes 0 (delete at once, without recovery) or 7 to 30 days".into(),
        }),
    }
}

/// A secret name as Secrets Manager takes it: letters, digits and `/_+=.@-`.
fn secret_name(value: &Value) -> std::result::Result<(), Failure> {
    match value.as_str() {
        Some(name)
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c)) =>
        {
            Err(Failure {
                problem: "is not a secret name".into(),
                help: "use letters, digits and `/_+=.@-`".into(),
            })
        }
        _ => Ok(()),
    }
}

/// The secret's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String)
                .force_new()
                .length(1, NAME_MAX_LEN)
                .rule(secret_name),
            Prop::new("description", Kind::String)
                .length(0, 2048)
                .resettable(),
            Prop::new("kms_key_id", Kind::String),
            Prop::new("policy", Kind::Document)
                .policy(stacks::PolicyRole::Resource)
                .resettable(),
            Prop::new("recovery_window_in_days", Kind::Integer)
                .default(DEFAULT_RECOVERY_WINDOW_DAYS)
                .rule(recovery_window),
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

/// How the catalogue knows `aws.secretsmanager.secret`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(SecretProvider::new(ctx)),
    about: "A Secrets Manager secret (its name, key, policy and tags; the value is an \
            `aws.secretsmanager.secret_version`). Deleting it honours \
            `recovery_window_in_days`.",
    import_id: "the secret's ARN",
    attributes: &[
        ("arn", "the secret's ARN"),
        ("id", "the secret's ARN, as Terraform's `id`"),
    ],
    property_notes: &[
        (
            "recovery_window_in_days",
            "0 deletes the secret at once, without recovery; 7 to 30 schedules its deletion \
             (the name stays taken until then); kept in the state only",
        ),
        (
            "kms_key_id",
            "the KMS key that encrypts the secret's values (`${key.arn}`); AWS's \
             `aws/secretsmanager` key when not given",
        ),
    ],
    actions: Actions {
        create: &[
            "secretsmanager:CreateSecret",
            "secretsmanager:TagResource",
            "secretsmanager:PutResourcePolicy",
        ],
        read: &[
            "secretsmanager:DescribeSecret",
            "secretsmanager:GetResourcePolicy",
        ],
        update: &[
            "secretsmanager:UpdateSecret",
            "secretsmanager:PutResourcePolicy",
            "secretsmanager:DeleteResourcePolicy",
            "secretsmanager:TagResource",
            "secretsmanager:UntagResource",
        ],
        delete: &[
            "secretsmanager:DeleteSecret",
            "secretsmanager:DescribeSecret",
        ],
    },
    resources: &["arn:{partition}:secretsmanager:{region}:{account}:secret:{name}-??????"],
    passes_role: &[],
};

/// Manages secrets; the id is the secret's ARN.
pub struct SecretProvider {
    schema: TypeSchema,
    sm: aws_sdk_secretsmanager::Client,
}

impl SecretProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            sm: crate::aws::sdk_client!(aws_sdk_secretsmanager, ctx),
        }
    }

    /// The secret `id` (ARN or name) in the stack's terms, or `None` when it does not exist or
    /// is scheduled for deletion. `prior` gives what only the state holds
    /// (`recovery_window_in_days`) and the form the stack wrote its key in.
    async fn find_secret(&self, id: &str, prior: &Map) -> Result<Option<Resource>> {
        let out = self
            .sm
            .describe_secret()
            .secret_id(id)
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
        if out.deleted_date().is_some() {
            return Ok(None);
        }
        let arn = out
            .arn()
            .ok_or_else(|| {
                ProviderError::invalid(format!("DescribeSecret returned no ARN for {id}"))
            })?
            .to_string();
        let policy = self
            .sm
            .get_resource_policy()
            .secret_id(&arn)
            .send()
            .await
            .map_err(api_error);
        let Some(policy) = missing_is_none(policy, SECRET_NOT_FOUND)? else {
            return Ok(None);
        };

        let key = out.kms_key_id().filter(|k| !k.is_empty()).map(|key| {
            let written = prior.get("kms_key_id").and_then(Value::as_str);
            key_as_written(written, key)
        });
        secret_resource(
            &arn,
            out.name().unwrap_or_default(),
            out.description(),
            key.as_deref(),
            policy.resource_policy(),
            prior,
            tags_value(out.tags().iter().filter_map(|t| {
                Some((
                    t.key()?.to_string(),
                    t.value().unwrap_or_default().to_string(),
                ))
            })),
        )
        .map(Some)
    }

    async fn read_existing(&self, id: &str, prior: &Map) -> Result<Resource> {
        wait_for(
            &format!("secret {id} to be readable"),
            SECRET_SETTLED,
            || self.find_secret(id, prior),
        )
        .await
    }

    /// Puts the secret's resource policy, retrying while IAM has not propagated a principal it
    /// names.
    async fn put_policy(&self, arn: &str, policy: String) -> Result<()> {
        with_backoff(
            PROPAGATION,
            |e| {
                e.is_code(MALFORMED_POLICY)
                    && e.message()
                        .is_some_and(|m| m.contains("unsupported principal"))
            },
            || {
                let call = self
                    .sm
                    .put_resource_policy()
                    .secret_id(arn)
                    .resource_policy(policy.clone());
                async move { call.send().await.map_err(api_error) }
            },
        )
        .await?;
        Ok(())
    }
}

/// The secret `arn` in the stack's terms: what read gives, and what create records from what
/// it sent. `prior` gives what only the state holds (`recovery_window_in_days`); an empty
/// description, key or policy is none.
fn secret_resource(
    arn: &str,
    name: &str,
    description: Option<&str>,
    key: Option<&str>,
    policy: Option<&str>,
    prior: &Map,
    tags: Value,
) -> Result<Resource> {
    let mut properties = Map::new();
    properties.insert("name".into(), Value::str(name));
    if let Some(description) = description.filter(|d| !d.is_empty()) {
        properties.insert("description".into(), Value::str(description));
    }
    if let Some(key) = key.filter(|k| !k.is_empty()) {
        properties.insert("kms_key_id".into(), Value::str(key));
    }
    if let Some(text) = policy.filter(|p| !p.trim().is_empty()) {
        properties.insert("policy".into(), document_from_aws("policy", text)?);
    }
    let window =
        given(prior, "recovery_window_in_days").unwrap_or(Value::int(DEFAULT_RECOVERY_WINDOW_DAYS));
    properties.insert("recovery_window_in_days".into(), window);
    properties.insert("tags".into(), tags);
    Ok(Resource {
        id: arn.to_string(),
        properties,
        attributes: Map::from([
            ("arn".to_string(), Value::str(arn)),
            ("id".to_string(), Value::str(arn)),
        ]),
    })
}

#[async_trait]
impl Provider for SecretProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Creates the secret without a value (versions are their own resources), then puts its
    /// policy. A name freed by a deletion without recovery moments ago is retried.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = required_str(props, "name")?;
        let text = |prop: &str| given(props, prop).and_then(|v| v.as_str().map(str::to_string));
        let tag_strings = tag_strings(props.get("tags"))?;
        let tags = secret_tags(tag_strings.clone())?;
        let out = with_backoff(PROPAGATION, marked_for_deletion, || {
            let call = self
                .sm
                .create_secret()
                .name(&name)
                .set_description(text("description"))
                .set_kms_key_id(text("kms_key_id"))
                .set_tags((!tags.is_empty()).then(|| tags.clone()));
            async move { call.send().await.map_err(api_error) }
        })
        .await?;
        let arn = out
            .arn()
            .ok_or_else(|| ProviderError::invalid("CreateSecret returned no ARN"))?
            .to_string();
        after_made(&arn, async {
            let policy = match given(props, "policy") {
                Some(policy) => Some(document_json("policy", &policy)?),
                None => None,
            };
            if let Some(policy) = &policy {
                self.put_policy(&arn, policy.clone()).await?;
            }
            // Nothing read back: what was sent is recorded.
            secret_resource(
                &arn,
                &name,
                text("description").as_deref(),
                text("kms_key_id").as_deref(),
                policy.as_deref(),
                props,
                tags_value(tag_strings),
            )
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_secret(&req.id, &req.prior_properties).await
    }

    /// `UpdateSecret` for the description and key, the policy put or deleted, the tags that
    /// changed.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let arn = req.id.as_str();
        let props = &req.properties;
        let changed = |prop: &str| req.changed.iter().any(|c| c == prop);
        if let Some(other) = req.changed.iter().find(|c| c.as_str() == "name") {
            return Err(ProviderError::not_in_place(other, TYPE_NAME));
        }
        if changed("description") || changed("kms_key_id") {
            let text = |prop: &str| given(props, prop).and_then(|v| v.as_str().map(str::to_string));
            self.sm
                .update_secret()
                .secret_id(arn)
                .set_description(
                    changed("description").then(|| text("description").unwrap_or_default()),
                )
                .set_kms_key_id(text("kms_key_id").filter(|_| changed("kms_key_id")))
                .send()
                .await
                .map_err(api_error)?;
        }
        if changed("policy") {
            match given(props, "policy") {
                Some(policy) => {
                    self.put_policy(arn, document_json("policy", &policy)?)
                        .await?
                }
                None => {
                    self.sm
                        .delete_resource_policy()
                        .secret_id(arn)
                        .send()
                        .await
                        .map_err(api_error)?;
                }
            }
        }
        if changed("tags") {
            let api = SecretTags {
                client: &self.sm,
                id: arn,
            };
            reconcile(&api, &req.prior_properties, props).await?;
        }
        self.read_existing(arn, props).await
    }

    /// Deletes the secret after its recovery window, or at once when the window is 0, and
    /// waits until it reads as gone. One already gone (or already scheduled) is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let window = given(&req.properties, "recovery_window_in_days")
            .and_then(|v| v.as_i64())
            .unwrap_or(DEFAULT_RECOVERY_WINDOW_DAYS);
        let call = self.sm.delete_secret().secret_id(&req.id);
        let call = if window == 0 {
            call.force_delete_without_recovery(true)
        } else {
            call.recovery_window_in_days(window)
        };
        let out = call.send().await.map_err(api_error);
        match out {
            Err(e) if marked_for_deletion(&e) => return Ok(()),
            other => {
                if missing_is_none(other, SECRET_NOT_FOUND)?.is_none() {
                    return Ok(());
                }
            }
        }
        wait_for(
            &format!("secret {} to be deleted", req.id),
            SECRET_SETTLED,
            || async {
                let found = self.find_secret(&req.id, &req.properties).await?;
                Ok(found.is_none().then_some(()))
            },
        )
        .await
    }

    /// Finds the secret by its deterministic name.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "name")?;
        self.find_secret(&name, &req.properties).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_take_what_secrets_manager_takes() {
        assert!(secret_name(&Value::str("orders/db-login_1+=.@")).is_ok());
        assert!(secret_name(&Value::str("orders db")).is_err());
    }

    #[test]
    fn a_recovery_window_is_zero_or_seven_to_thirty_days() {
        for ok in [0, 7, 30] {
            assert!(recovery_window(&Value::int(ok)).is_ok(), "{ok}");
        }
        for bad in [1, 6, 31] {
            assert!(recovery_window(&Value::int(bad)).is_err(), "{bad}");
        }
    }
}
