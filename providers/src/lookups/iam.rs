//! IAM lookups: a managed policy (customer or AWS managed) and a role.

use stacks::schema::{LookupArg as Arg, LookupAttr as Attr, LookupSchema};
use stacks::{Map, Value};

use super::kit::{date, only, present, text, Args, Failure, Found, LookupEntry, K};
use crate::aws::{api_error, sdk_client, AwsContext};
use crate::document::parse_document_text;
use crate::iam::{tags_from_iam, NOT_FOUND};

pub const POLICY: LookupEntry = LookupEntry {
    schema: LookupSchema {
        name: "aws.iam.policy",
        args: &[
            Arg::optional("arn", K::String),
            Arg::optional("name", K::String),
            Arg::optional("path_prefix", K::String),
        ],
        attributes: &[
            Attr::new("arn", K::String),
            Attr::new("id", K::String),
            Attr::new("name", K::String),
            Attr::new("path", K::String),
            Attr::new("description", K::String),
            Attr::new("policy_id", K::String),
            Attr::new("policy", K::Document),
            Attr::new("attachment_count", K::Integer),
            Attr::new("tags", K::StringMap),
        ],
    },
    about: "One managed policy, customer or AWS managed (`AdministratorAccess`), by ARN or by \
            name (and path prefix).",
    actions: &["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicies"],
};

pub const ROLE: LookupEntry = LookupEntry {
    schema: LookupSchema {
        name: "aws.iam.role",
        args: &[Arg::required("name", K::String)],
        attributes: &[
            Attr::new("arn", K::String),
            Attr::new("id", K::String),
            Attr::new("name", K::String),
            Attr::new("path", K::String),
            Attr::new("description", K::String),
            Attr::new("assume_role_policy", K::Document),
            Attr::new("create_date", K::String),
            Attr::new("max_session_duration", K::Integer),
            Attr::new("permissions_boundary", K::String),
            Attr::new("unique_id", K::String),
            Attr::new("tags", K::StringMap),
        ],
    },
    about: "One role, by name.",
    actions: &["iam:GetRole"],
};

/// A document IAM returns (URL-encoded) as compact JSON text, as Terraform gives it.
fn document(text: Option<&str>) -> Result<Value, Failure> {
    let Some(text) = text else {
        return Ok(Value::Null);
    };
    let json = parse_document_text(text)
        .map_err(|e| Failure::Invalid(format!("IAM returned a document that is not JSON: {e}")))?;
    Ok(Value::String(json.to_string()))
}

pub(crate) async fn policy(ctx: &AwsContext, args: &Args<'_>) -> Found {
    let iam = sdk_client!(aws_sdk_iam, ctx);
    let arn = match args.str("arn")? {
        Some(arn) => arn,
        None => {
            let name = args.str("name")?.ok_or_else(|| {
                Failure::Invalid("give the policy's `arn` or its `name`".to_string())
            })?;
            let mut matching = Vec::new();
            let mut pages = iam
                .list_policies()
                .scope(aws_sdk_iam::types::PolicyScopeType::All)
                .set_path_prefix(args.str("path_prefix")?)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(api_error)?;
                matching.extend(
                    page.policies()
                        .iter()
                        .filter(|p| p.policy_name() == Some(name.as_str()))
                        .filter_map(|p| p.arn().map(str::to_string)),
                );
            }
            only(matching, String::clone)?
        }
    };
    let got = iam.get_policy().policy_arn(&arn).send().await;
    let got = present(got.map_err(api_error), NOT_FOUND)?;
    let policy = got
        .policy()
        .ok_or_else(|| Failure::Invalid("IAM returned no policy".to_string()))?;
    let mut document_text = None;
    if let Some(version) = policy.default_version_id() {
        let out = iam
            .get_policy_version()
            .policy_arn(&arn)
            .version_id(version)
            .send()
            .await
            .map_err(api_error)?;
        document_text = out
            .policy_version()
            .and_then(|v| v.document())
            .map(str::to_string);
    }
    Ok(Map::from([
        ("arn".into(), Value::str(&arn)),
        ("id".into(), Value::str(&arn)),
        ("name".into(), text(policy.policy_name())),
        ("path".into(), text(policy.path())),
        ("description".into(), text(policy.description())),
        ("policy_id".into(), text(policy.policy_id())),
        ("policy".into(), document(document_text.as_deref())?),
        (
            "attachment_count".into(),
            Value::int(policy.attachment_count().unwrap_or(0).into()),
        ),
        ("tags".into(), tags_from_iam(policy.tags())),
    ]))
}

pub(crate) async fn role(ctx: &AwsContext, args: &Args<'_>) -> Found {
    let iam = sdk_client!(aws_sdk_iam, ctx);
    let name = args.required("name")?;
    let got = iam.get_role().role_name(&name).send().await;
    let got = present(got.map_err(api_error), NOT_FOUND)?;
    let role = got
        .role()
        .ok_or_else(|| Failure::Invalid("IAM returned no role".to_string()))?;
    Ok(Map::from([
        ("arn".into(), Value::str(role.arn())),
        ("id".into(), Value::str(role.role_name())),
        ("name".into(), Value::str(role.role_name())),
        ("path".into(), Value::str(role.path())),
        ("description".into(), text(role.description())),
        (
            "assume_role_policy".into(),
            document(role.assume_role_policy_document())?,
        ),
        ("create_date".into(), date(Some(role.create_date()))),
        (
            "max_session_duration".into(),
            role.max_session_duration()
                .map(|d| Value::int(d.into()))
                .unwrap_or(Value::Null),
        ),
        (
            "permissions_boundary".into(),
            text(
                role.permissions_boundary()
                    .and_then(|b| b.permissions_boundary_arn()),
            ),
        ),
        ("unique_id".into(), Value::str(role.role_id())),
        ("tags".into(), tags_from_iam(role.tags())),
    ]))
}
