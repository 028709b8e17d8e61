//! `aws.kms.alias`: a friendly name (`alias/orders`) for a KMS key.
//!
//! The alias name is its id. Pointing it at another key is `UpdateAlias`, in place; a new name
//! is a new alias. KMS has no call that reads one alias, so read lists the account's aliases
//! (as terraform-provider-aws does).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use stacks::{Failure, Kind, Map, Prop, TypeSchema, Value};

use super::{key_as_written, KMS_NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::required_str;
use crate::retry::{wait_for, Wait};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.kms.alias";

/// What every alias name starts with.
const ALIAS_PREFIX: &str = "alias/";

/// The prefix AWS keeps for its own managed keys' aliases.
const RESERVED_PREFIX: &str = "alias/aws/";

/// How long a new alias may take to show in `ListAliases` (KMS is eventually consistent),
/// looking every second.
const ALIAS_READABLE: Wait = Wait {
    timeout: Duration::from_secs(120),
    interval: Duration::from_secs(1),
};

/// An alias name as KMS takes it: `alias/` and a name of letters, digits and `/_-`, not in
/// AWS's own `alias/aws/`.
fn alias_name(value: &Value) -> std::result::Result<(), Failure> {
    let Some(name) = value.as_str() else {
        return Ok(());
    };
    let Some(rest) = name.strip_prefix(ALIAS_PREFIX) else {
        return Err(Failure {
            problem: "does not start with `alias/`".into(),
            help: "KMS alias names start with `alias/` (`alias/orders`)".into(),
        });
    };
    if name.starts_with(RESERVED_PREFIX) {
        return Err(Failure {
            problem: "is in `alias/aws/`, which AWS keeps for its managed keys".into(),
            help: "choose a name outside `alias/aws/`".into(),
        });
    }
    if rest.is_empty()
        || !rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
    {
        return Err(Failure {
            problem: "is not an alias name".into(),
            help: "after `alias/`, use letters, digits, `/`, `_` and `-`".into(),
        });
    }
    Ok(())
}

/// The alias's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String)
                .required()
                .force_new()
                .length(7, 256)
                .rule(alias_name),
            Prop::new("target_key_id", Kind::String).required(),
        ],
        attrs: vec!["arn", "target_key_arn"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.kms.alias`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(AliasProvider::new(ctx)),
    about: "A name for a KMS key (`alias/orders`); pointing it at another key is done in \
            place with `UpdateAlias`.",
    import_id: "the alias name (`alias/orders`)",
    attributes: &[
        ("arn", "the alias's ARN"),
        ("target_key_arn", "the ARN of the key the alias names"),
    ],
    property_notes: &[
        (
            "name",
            "starts with `alias/`, outside `alias/aws/` (checked before any cloud call)",
        ),
        ("target_key_id", "the key's id or ARN (`${key.key_id}`)"),
    ],
    actions: Actions {
        create: &["kms:CreateAlias", "kms:ListAliases"],
        read: &["kms:ListAliases"],
        update: &["kms:UpdateAlias", "kms:ListAliases"],
        delete: &["kms:DeleteAlias"],
    },
    resources: &[
        "arn:{partition}:kms:{region}:{account}:{name}",
        "arn:{partition}:kms:{region}:{account}:key/*",
    ],
    passes_role: &[],
};

/// Manages KMS aliases; the id is the alias name.
pub struct AliasProvider {
    schema: TypeSchema,
    kms: aws_sdk_kms::Client,
}

impl AliasProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            kms: crate::aws::sdk_client!(aws_sdk_kms, ctx),
        }
    }

    /// The alias `name` in the stack's terms, or `None` when there is none. `prior` is what
    /// the stack wrote, so a key given by ARN reads back as written.
    async fn find_alias(&self, name: &str, prior: &Map) -> Result<Option<Resource>> {
        let mut aliases = self.kms.list_aliases().into_paginator().items().send();
        while let Some(alias) = aliases.next().await {
            let alias = alias.map_err(api_error)?;
            if alias.alias_name() != Some(name) {
                continue;
            }
            let arn = alias.alias_arn().unwrap_or_default().to_string();
            let Some(target) = alias.target_key_id() else {
                // An alias whose key is gone names nothing; KMS lists it without a target.
                return Ok(None);
            };
            let written = prior.get("target_key_id").and_then(Value::as_str);
            let properties = Map::from([
                ("name".to_string(), Value::str(name)),
                (
                    "target_key_id".to_string(),
                    Value::str(key_as_written(written, target)),
                ),
            ]);
            // arn:PARTITION:kms:REGION:ACCOUNT:alias/NAME -> ...:key/ID
            let key_arn = match arn.rsplit_once(":alias/") {
                Some((head, _)) => format!("{head}:key/{target}"),
                None => String::new(),
            };
            let attributes = Map::from([
                ("arn".to_string(), Value::str(&arn)),
                ("target_key_arn".to_string(), Value::str(key_arn)),
            ]);
            return Ok(Some(Resource {
                id: name.to_string(),
                properties,
                attributes,
            }));
        }
        Ok(None)
    }

    async fn read_existing(&self, name: &str, prior: &Map) -> Result<Resource> {
        wait_for(
            &format!("KMS alias {name} to be readable"),
            ALIAS_READABLE,
            || self.find_alias(name, prior),
        )
        .await
    }
}

#[async_trait]
impl Provider for AliasProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let name = required_str(&req.properties, "name")?;
        let target = required_str(&req.properties, "target_key_id")?;
        self.kms
            .create_alias()
            .alias_name(&name)
            .target_key_id(&target)
            .send()
            .await
            .map_err(api_error)?;
        after_made(&name, self.read_existing(&name, &req.properties)).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_alias(&req.id, &req.prior_properties).await
    }

    /// Points the alias at the stack's key.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        for prop in &req.changed {
            if prop != "target_key_id" {
                return Err(ProviderError::not_in_place(prop, TYPE_NAME));
            }
            let target = required_str(&req.properties, "target_key_id")?;
            self.kms
                .update_alias()
                .alias_name(&req.id)
                .target_key_id(target)
                .send()
                .await
                .map_err(api_error)?;
        }
        self.read_existing(&req.id, &req.properties).await
    }

    /// Deletes the alias (the key stays); one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let out = self
            .kms
            .delete_alias()
            .alias_name(&req.id)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, KMS_NOT_FOUND).map(|_| ())
    }

    /// Finds the alias by its name.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "name")?;
        self.find_alias(&name, &req.properties).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alias_names_start_with_alias_and_stay_out_of_aws() {
        assert!(alias_name(&Value::str("alias/orders-key")).is_ok());
        let err = alias_name(&Value::str("orders-key")).unwrap_err();
        assert_eq!(err.problem, "does not start with `alias/`");
        assert!(alias_name(&Value::str("alias/aws/s3")).is_err());
        assert!(alias_name(&Value::str("alias/")).is_err());
        assert!(alias_name(&Value::str("alias/a b")).is_err());
    }
}
