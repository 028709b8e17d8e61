//! `aws.ssm.parameter`: a Parameter Store parameter (`String`, `StringList` or `SecureString`).
//!
//! The parameter name is its id. Every change but tags is one `PutParameter` with `Overwrite`,
//! which makes a new version (the `version` attribute); tags go through SSM's tagging calls,
//! since `PutParameter` refuses tags when it overwrites. `value` is sensitive whatever the
//! type, as in Terraform: it is never printed, and a `SecureString` is read back decrypted
//! only to compare it.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_ssm::types::{ParameterStringFilter, ParameterTier, ParameterType};
use stacks::{Failure, Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::{ssm_tags, ParameterTags};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::kms::key_as_written;
use crate::props::{desired, required_str};
use crate::retry::{wait_for, Wait};
use crate::tags::{reconcile, tag_strings, tags_value};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.ssm.parameter";

/// SSM's limit on a parameter name (terraform-provider-aws's validation).
const NAME_MAX_LEN: usize = 2048;

/// How SSM says a parameter does not exist.
const PARAMETER_NOT_FOUND: &[&str] = &["ParameterNotFound"];

/// The tier that SSM reads back as `Standard` or `Advanced`, whichever it chose.
const INTELLIGENT_TIERING: &str = "Intelligent-Tiering";

/// The key AWS encrypts a `SecureString` with when given none: the account's SSM key.
const DEFAULT_KEY: &str = "alias/aws/ssm";

/// How long a new parameter may take to be readable: SSM validates `aws:ec2:image` values
/// asynchronously, and terraform-provider-aws waits 2 minutes for them.
const PARAMETER_READABLE: Wait = Wait {
    timeout: Duration::from_secs(120),
    interval: Duration::from_secs(2),
};

/// Every property a `PutParameter` writes, which therefore makes a new version.
const VERSIONED: &[&str] = &["version"];

/// A parameter name as SSM takes it: letters, digits and `_.-/`; a name with `/` in it is a
/// path and starts with `/`; none starts with `aws` or `ssm`, which AWS keeps.
fn parameter_name(value: &Value) -> std::result::Result<(), Failure> {
    let Some(name) = value.as_str() else {
        return Ok(());
    };
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_.-/".contains(c))
    {
        return Err(Failure {
            problem: "is not a parameter name".into(),
            help: "use letters, digits, `_`, `.`, `-` and `/`".into(),
        });
    }
    if name.contains('/') && !name.starts_with('/') {
        return Err(Failure {
            problem: "is a path that does not start with `/`".into(),
            help: "write a hierarchical name in full, as `/app/db/password`".into(),
        });
    }
    let first = name.trim_start_matches('/').to_ascii_lowercase();
    if first.starts_with("aws") || first.starts_with("ssm") {
        return Err(Failure {
            problem: "starts with `aws` or `ssm`, which AWS keeps".into(),
            help: "choose a name that starts otherwise".into(),
        });
    }
    Ok(())
}

/// The parameter's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String)
                .force_new()
                .length(1, NAME_MAX_LEN)
                .rule(parameter_name),
            Prop::new("type", Kind::String)
                .required()
                .allowed(&["String", "StringList", "SecureString"])
                .updates_attrs(VERSIONED),
            Prop::new("value", Kind::String)
                .required()
                .sensitive()
                .length(1, 8192)
                .updates_attrs(VERSIONED),
            Prop::new("key_id", Kind::String).updates_attrs(VERSIONED),
            Prop::new("description", Kind::String)
                .length(0, 1024)
                .resettable()
                .updates_attrs(VERSIONED),
            Prop::new("tier", Kind::String)
                .default("Standard")
                .allowed(&["Standard", "Advanced", INTELLIGENT_TIERING])
                .updates_attrs(VERSIONED),
            Prop::new("data_type", Kind::String)
                .force_new()
                .default("text")
                .allowed(&["text", "aws:ec2:image", "aws:ssm:integration"]),
            Prop::new("allowed_pattern", Kind::String)
                .length(0, 1024)
                .resettable()
                .updates_attrs(VERSIONED),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["arn", "version"],
        taggable: true,
        check: None,
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.ssm.parameter`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(ParameterProvider::new(ctx)),
    about: "A Parameter Store parameter; its `value` is sensitive (never printed), and every \
            change but tags overwrites it as a new version.",
    import_id: "the parameter name",
    attributes: &[
        ("arn", "the parameter's ARN"),
        (
            "version",
            "the parameter's version, which each change of its value or settings increments",
        ),
    ],
    property_notes: &[
        (
            "value",
            "sensitive for every type; a `SecureString` is read back decrypted to compare it",
        ),
        (
            "key_id",
            "the KMS key of a `SecureString` (`${key.key_id}`, its ARN or an alias); AWS's \
             `alias/aws/ssm` when not given",
        ),
        (
            "tier",
            "`Advanced` cannot go back to `Standard` in place (SSM refuses): replace the \
             parameter instead",
        ),
    ],
    actions: Actions {
        create: &["ssm:PutParameter", "ssm:AddTagsToResource", "kms:Encrypt"],
        read: &[
            "ssm:GetParameter",
            "ssm:DescribeParameters",
            "ssm:ListTagsForResource",
            "kms:Decrypt",
        ],
        update: &[
            "ssm:PutParameter",
            "ssm:AddTagsToResource",
            "ssm:RemoveTagsFromResource",
            "kms:Encrypt",
        ],
        delete: &["ssm:DeleteParameter"],
    },
    resources: &[
        "arn:{partition}:ssm:{region}:{account}:parameter{name|path}",
        "arn:{partition}:kms:{region}:{account}:key/*",
    ],
    passes_role: &[],
};

/// A parameter as SSM holds it: what read gets, or what create has just put.
struct Held<'a> {
    name: &'a str,
    kind: Option<&'a str>,
    value: &'a str,
    key_id: Option<&'a str>,
    description: Option<&'a str>,
    tier: &'a str,
    data_type: &'a str,
    allowed_pattern: Option<&'a str>,
    tags: Value,
    arn: &'a str,
    version: i64,
}

impl Held<'_> {
    /// The parameter in the stack's terms (an empty description or pattern is none).
    fn resource(self) -> Resource {
        let mut properties = Map::new();
        properties.insert("name".into(), Value::str(self.name));
        if let Some(kind) = self.kind {
            properties.insert("type".into(), Value::str(kind));
        }
        properties.insert("value".into(), Value::str(self.value));
        for (prop, text) in [
            ("key_id", self.key_id),
            ("description", self.description),
            ("allowed_pattern", self.allowed_pattern),
        ] {
            if let Some(text) = text.filter(|t| !t.is_empty()) {
                properties.insert(prop.into(), Value::str(text));
            }
        }
        properties.insert("tier".into(), Value::str(self.tier));
        properties.insert("data_type".into(), Value::str(self.data_type));
        properties.insert("tags".into(), self.tags);
        Resource {
            id: self.name.to_string(),
            properties,
            attributes: Map::from([
                ("arn".to_string(), Value::str(self.arn)),
                ("version".to_string(), Value::int(self.version)),
            ]),
        }
    }
}

/// Manages SSM parameters; the id is the parameter name.
pub struct ParameterProvider {
    schema: TypeSchema,
    ssm: aws_sdk_ssm::Client,
    ctx: AwsContext,
}

impl ParameterProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            ssm: crate::aws::sdk_client!(aws_sdk_ssm, ctx),
            ctx: ctx.clone(),
        }
    }

    /// The parameter in the stack's terms, or `None` when it does not exist. `prior` is what
    /// the stack wrote: a key named in another form, and `Intelligent-Tiering`, read back as
    /// written.
    async fn find_parameter(&self, name: &str, prior: &Map) -> Result<Option<Resource>> {
        let out = self
            .ssm
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .map_err(api_error);
        let Some(out) = missing_is_none(out, PARAMETER_NOT_FOUND)? else {
            return Ok(None);
        };
        let param = out.parameter().ok_or_else(|| {
            ProviderError::invalid(format!("GetParameter returned nothing for {name}"))
        })?;
        let filter = ParameterStringFilter::builder()
            .key("Name")
            .option("Equals")
            .values(name)
            .build()
            .map_err(|e| ProviderError::invalid(e.to_string()))?;
        let mut meta = None;
        let mut pages = self
            .ssm
            .describe_parameters()
            .parameter_filters(filter)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(api_error)?;
            if let Some(found) = page.parameters().iter().find(|p| p.name() == Some(name)) {
                meta = Some(found.clone());
                break;
            }
        }
        let Some(meta) = meta else {
            return Ok(None);
        };
        let tags = self
            .ssm
            .list_tags_for_resource()
            .resource_type(aws_sdk_ssm::types::ResourceTypeForTagging::Parameter)
            .resource_id(name)
            .send()
            .await
            .map_err(api_error);
        let Some(tags) = missing_is_none(tags, &["InvalidResourceId", "ParameterNotFound"])? else {
            return Ok(None);
        };

        let intelligent = prior.get("tier").and_then(Value::as_str) == Some(INTELLIGENT_TIERING);
        let tier = match meta.tier() {
            _ if intelligent => INTELLIGENT_TIERING,
            Some(tier) => tier.as_str(),
            None => "Standard",
        };
        let key = meta.key_id().filter(|k| !k.is_empty()).map(|key| {
            let written = prior.get("key_id").and_then(Value::as_str);
            key_as_written(written, key)
        });
        Ok(Some(
            Held {
                name: param.name().unwrap_or(name),
                kind: param.r#type().map(|k| k.as_str()),
                value: param.value().unwrap_or_default(),
                key_id: key.as_deref(),
                description: meta.description(),
                tier,
                data_type: param.data_type().or(meta.data_type()).unwrap_or("text"),
                allowed_pattern: meta.allowed_pattern(),
                tags: tags_value(
                    tags.tag_list()
                        .iter()
                        .map(|t| (t.key().to_string(), t.value().to_string())),
                ),
                arn: param.arn().or(meta.arn()).unwrap_or_default(),
                version: param.version(),
            }
            .resource(),
        ))
    }

    async fn read_existing(&self, name: &str, prior: &Map) -> Result<Resource> {
        wait_for(
            &format!("parameter {name} to be readable"),
            PARAMETER_READABLE,
            || self.find_parameter(name, prior),
        )
        .await
    }

    fn text(&self, props: &Map, prop: &str) -> Option<String> {
        desired(&self.schema, props, prop).and_then(|v| v.as_str().map(str::to_string))
    }
}

#[async_trait]
impl Provider for ParameterProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = required_str(props, "name")?;
        let kind = required_str(props, "type")?;
        let value = required_str(props, "value")?;
        let secure = kind == "SecureString";
        let tag_strings = tag_strings(props.get("tags"))?;
        let tags = ssm_tags(tag_strings.clone())?;
        // AWS encrypts a `SecureString` given no key with the account's SSM key.
        let key_id = secure.then(|| {
            self.text(props, "key_id")
                .unwrap_or_else(|| DEFAULT_KEY.to_string())
        });
        let (out, arn) = futures::try_join!(
            async {
                self.ssm
                    .put_parameter()
                    .name(&name)
                    .r#type(ParameterType::from(kind.as_str()))
                    .value(&value)
                    .set_key_id(self.text(props, "key_id").filter(|_| secure))
                    .set_description(self.text(props, "description"))
                    .set_tier(
                        self.text(props, "tier")
                            .map(|t| ParameterTier::from(t.as_str())),
                    )
                    .set_data_type(self.text(props, "data_type"))
                    .set_allowed_pattern(self.text(props, "allowed_pattern"))
                    .set_tags((!tags.is_empty()).then_some(tags))
                    .send()
                    .await
                    .map_err(api_error)
            },
            // The account (for the ARN) is asked while the parameter is put.
            async {
                let path = name.strip_prefix('/').unwrap_or(&name);
                Ok(self.ctx.arn("ssm", &format!("parameter/{path}")).await)
            }
        )?;
        after_made(&name, async {
            // Nothing read back: what was put is recorded.
            let tier = self
                .text(props, "tier")
                .unwrap_or_else(|| "Standard".into());
            let data_type = self
                .text(props, "data_type")
                .unwrap_or_else(|| "text".into());
            let description = self.text(props, "description");
            let allowed_pattern = self.text(props, "allowed_pattern");
            Ok(Held {
                name: &name,
                kind: Some(&kind),
                value: &value,
                key_id: key_id.as_deref(),
                description: description.as_deref(),
                tier: &tier,
                data_type: &data_type,
                allowed_pattern: allowed_pattern.as_deref(),
                tags: tags_value(tag_strings),
                arn: &arn?,
                version: out.version(),
            }
            .resource())
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_parameter(&req.id, &req.prior_properties).await
    }

    /// One `PutParameter` with `Overwrite` for every change but tags (a new version), then the
    /// tags that changed.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = req.id.as_str();
        let changed = |prop: &str| req.changed.iter().any(|c| c == prop);
        if let Some(other) = req
            .changed
            .iter()
            .find(|c| matches!(c.as_str(), "name" | "data_type"))
        {
            return Err(ProviderError::not_in_place(other, TYPE_NAME));
        }
        if req.changed.iter().any(|c| c != "tags") {
            let kind = required_str(props, "type")?;
            let secure = kind == "SecureString";
            // A setting taken out of the stack is cleared with an empty string.
            let cleared = |prop: &str| {
                self.text(props, prop)
                    .or_else(|| changed(prop).then(String::new))
            };
            self.ssm
                .put_parameter()
                .name(name)
                .overwrite(true)
                .r#type(ParameterType::from(kind.as_str()))
                .value(required_str(props, "value")?)
                .set_key_id(
                    self.text(props, "key_id")
                        .filter(|_| secure && (changed("key_id") || changed("type"))),
                )
                .set_description(cleared("description").filter(|_| changed("description")))
                .set_tier(
                    self.text(props, "tier")
                        .map(|t| ParameterTier::from(t.as_str())),
                )
                .set_allowed_pattern(cleared("allowed_pattern"))
                .send()
                .await
                .map_err(api_error)?;
        }
        if changed("tags") {
            let api = ParameterTags {
                client: &self.ssm,
                id: name,
            };
            reconcile(&api, &req.prior_properties, props).await?;
        }
        self.read_existing(name, props).await
    }

    /// Deletes the parameter (every version of it); one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let out = self
            .ssm
            .delete_parameter()
            .name(&req.id)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, PARAMETER_NOT_FOUND).map(|_| ())
    }

    /// Finds the parameter by its deterministic name.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "name")?;
        self.find_parameter(&name, &req.properties).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_names_are_checked_as_ssm_does() {
        assert!(parameter_name(&Value::str("/orders/db/password")).is_ok());
        assert!(parameter_name(&Value::str("orders-db-password")).is_ok());
        assert!(parameter_name(&Value::str("orders/db")).is_err());
        assert!(parameter_name(&Value::str("/aws/reserved")).is_err());
        assert!(parameter_name(&Value::str("SSM-thing")).is_err());
        assert!(parameter_name(&Value::str("a b")).is_err());
    }

    #[test]
    fn every_change_but_tags_makes_a_new_version() {
        for prop in schema().props.iter().filter(|p| !p.force_new) {
            assert_eq!(
                prop.updates_attrs.contains(&"version"),
                prop.name != "tags",
                "{}",
                prop.name
            );
        }
    }
}
