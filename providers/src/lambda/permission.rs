//! `aws.lambda.permission`: one statement of a function's resource policy, letting a service
//! or account invoke it.
//!
//! Lambda has no object for a permission: `AddPermission` adds a statement to the function's
//! policy and `RemovePermission` takes it out by its statement id. Read finds the statement in
//! `GetPolicy` and turns it back into the properties (Lambda rewrites the principal as
//! `{"Service": ...}` or `{"AWS": "arn:...:root"}` and the source conditions as
//! `ArnLike`/`StringEquals`). Every property forces replacement. With `qualifier` (a version
//! or an alias) the statement is in the policy of that version or alias. The id is
//! `FUNCTION/STATEMENT_ID`, or `FUNCTION:QUALIFIER/STATEMENT_ID` (terraform-provider-aws's
//! import form).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::function::NOT_FOUND;
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, given, required_str};
use crate::retry::{wait_for, with_backoff, Wait};
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.lambda.permission";

/// Lambda's limit on a statement id.
const STATEMENT_ID_MAX_LEN: usize = 100;

/// The action a permission grants when the stack names none.
const DEFAULT_ACTION: &str = "lambda:InvokeFunction";

/// How long `AddPermission` and `RemovePermission` keep retrying while another change to the
/// same function's policy is in flight (`ResourceConflictException`): permissions on one
/// function are often applied in parallel.
const POLICY_CONFLICT_BUDGET: Duration = Duration::from_secs(60);

/// How long a statement just added may take to show in `GetPolicy`, looking every second.
const STATEMENT_READABLE: Wait = Wait {
    timeout: Duration::from_secs(60),
    interval: Duration::from_secs(1),
};

/// The permission's properties; the statement id is derived from stack and address when the
/// stack gives none.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("function_name", Kind::String)
                .required()
                .force_new(),
            Prop::new("principal", Kind::String).required().force_new(),
            Prop::new("action", Kind::String)
                .force_new()
                .default(DEFAULT_ACTION),
            Prop::new("source_arn", Kind::String).arn(&[]).force_new(),
            Prop::new("source_account", Kind::String).force_new(),
            Prop::new("statement_id", Kind::String).force_new(),
            Prop::new("qualifier", Kind::String).force_new(),
        ],
        attrs: vec!["statement_id"],
        taggable: false,
        check: None,
        name_rule: Some(NameRule {
            prop: "statement_id",
            max_len: STATEMENT_ID_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.lambda.permission`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(PermissionProvider::new(ctx)),
    about: "One statement of a function's resource policy, letting a service or account invoke \
            it; every property replaces it.",
    import_id: "`FUNCTION/STATEMENT_ID`: the function's name or ARN, a `/`, and the statement id \
                (`FUNCTION:QUALIFIER/STATEMENT_ID` for a permission of a version or alias)",
    attributes: &[("statement_id", "the statement id in the function's policy")],
    property_notes: &[
        (
            "principal",
            "a service (`apigateway.amazonaws.com`) or an account id",
        ),
        (
            "qualifier",
            "a version or alias whose policy holds the statement",
        ),
    ],
    actions: Actions {
        create: &["lambda:AddPermission", "lambda:GetPolicy"],
        read: &["lambda:GetPolicy"],
        update: &[],
        delete: &["lambda:RemovePermission"],
    },
    resources: &[
        "arn:{partition}:lambda:{region}:{account}:function:{function_name|name}",
        "arn:{partition}:lambda:{region}:{account}:function:{function_name|name}:*",
    ],
    passes_role: &[],
};

/// The id of the permission: the function as the stack names it (qualified when the
/// permission is), and the statement id.
fn permission_id(function: &str, qualifier: Option<&str>, statement_id: &str) -> String {
    match qualifier {
        Some(q) => format!("{function}:{q}/{statement_id}"),
        None => format!("{function}/{statement_id}"),
    }
}

/// The function and qualifier in the function part of a permission id: `NAME:QUALIFIER`, or
/// an ARN with a qualifier after the name (`arn:…:function:NAME:QUALIFIER`).
fn split_qualifier(function: &str) -> (&str, Option<&str>) {
    let qualified = if function.starts_with("arn:") {
        function.split(':').count() == 8
    } else {
        function.contains(':')
    };
    match function.rsplit_once(':') {
        Some((unqualified, qualifier)) if qualified => (unqualified, Some(qualifier)),
        _ => (function, None),
    }
}

/// The function and statement id in a permission id. Statement ids have no `/`, function names
/// and ARNs neither, so the last `/` separates them.
fn split_id(id: &str) -> Result<(&str, &str)> {
    id.rsplit_once('/')
        .filter(|(f, s)| !f.is_empty() && !s.is_empty())
        .ok_or_else(|| {
            ProviderError::invalid(format!(
                "`{id}` is not a permission id (FUNCTION/STATEMENT_ID)"
            ))
        })
}

/// The principal as the stack writes it. Lambda stores a service as `{"Service": s}` and an
/// account as `{"AWS": "arn:aws:iam::ACCOUNT:root"}`; `prior` (what the stack wrote) says
/// whether an account was given as its bare id.
fn principal_as_read(principal: &serde_json::Value, prior: Option<&str>) -> Option<String> {
    let text = match principal {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Object(map) => {
            let value = map.get("Service").or_else(|| map.get("AWS"))?;
            match value {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(items) if items.len() == 1 => {
                    items[0].as_str()?.to_string()
                }
                _ => return None,
            }
        }
        _ => return None,
    };
    if let Some(prior) = prior {
        let account_root = text
            .strip_prefix("arn:")
            .and_then(|rest| rest.split(':').nth(3))
            .filter(|_| text.ends_with(":root"));
        if account_root == Some(prior) {
            return Some(prior.to_string());
        }
    }
    Some(text)
}

/// A condition value such as `Condition.ArnLike["AWS:SourceArn"]`, whatever the key's case.
fn condition(statement: &serde_json::Value, operator: &str, key: &str) -> Option<String> {
    let block = statement.get("Condition")?.get(operator)?.as_object()?;
    let value = block
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)?;
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(items) if items.len() == 1 => {
            items[0].as_str().map(str::to_string)
        }
        _ => None,
    }
}

/// The permission in the stack's terms from its statement in the function's policy (as
/// `GetPolicy` lists it, or as `AddPermission` answers it); `prior` is what the stack wrote.
fn statement_resource(
    function: &str,
    qualifier: Option<&str>,
    statement_id: &str,
    statement: &serde_json::Value,
    prior: &Map,
) -> Resource {
    let mut properties = Map::new();
    properties.insert("function_name".into(), Value::str(function));
    properties.insert("statement_id".into(), Value::str(statement_id));
    if let Some(qualifier) = qualifier {
        properties.insert("qualifier".into(), Value::str(qualifier));
    }
    let action = match statement.get("Action") {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Array(items)) if items.len() == 1 => {
            items[0].as_str().map(str::to_string)
        }
        _ => None,
    };
    if let Some(action) = action {
        properties.insert("action".into(), Value::str(action));
    }
    let prior_principal = prior.get("principal").and_then(Value::as_str);
    if let Some(principal) = statement
        .get("Principal")
        .and_then(|p| principal_as_read(p, prior_principal))
    {
        properties.insert("principal".into(), Value::str(principal));
    }
    if let Some(arn) = condition(statement, "ArnLike", "AWS:SourceArn")
        .or_else(|| condition(statement, "ArnEquals", "AWS:SourceArn"))
    {
        properties.insert("source_arn".into(), Value::str(arn));
    }
    if let Some(account) = condition(statement, "StringEquals", "AWS:SourceAccount") {
        properties.insert("source_account".into(), Value::str(account));
    }
    Resource {
        id: permission_id(function, qualifier, statement_id),
        properties,
        attributes: Map::from([("statement_id".to_string(), Value::str(statement_id))]),
    }
}

/// Manages function policy statements; the id is `FUNCTION/STATEMENT_ID`.
pub struct PermissionProvider {
    schema: TypeSchema,
    lambda: aws_sdk_lambda::Client,
}

impl PermissionProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            lambda: crate::aws::sdk_client!(aws_sdk_lambda, ctx),
        }
    }

    /// The statement in the stack's terms, or `None` when the function, its policy or the
    /// statement is gone.
    async fn find_statement(
        &self,
        function: &str,
        qualifier: Option<&str>,
        statement_id: &str,
        prior: &Map,
    ) -> Result<Option<Resource>> {
        let out = self
            .lambda
            .get_policy()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await
            .map_err(api_error);
        let Some(out) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let Some(text) = out.policy() else {
            return Ok(None);
        };
        let policy: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            ProviderError::invalid(format!(
                "the policy of function {function} is not JSON: {e}"
            ))
        })?;
        let statements = match policy.get("Statement") {
            Some(serde_json::Value::Array(items)) => items.clone(),
            Some(single @ serde_json::Value::Object(_)) => vec![single.clone()],
            _ => Vec::new(),
        };
        let Some(statement) = statements
            .iter()
            .find(|s| s.get("Sid").and_then(|v| v.as_str()) == Some(statement_id))
        else {
            return Ok(None);
        };

        Ok(Some(statement_resource(
            function,
            qualifier,
            statement_id,
            statement,
            prior,
        )))
    }
}

#[async_trait]
impl Provider for PermissionProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let function = required_str(props, "function_name")?;
        let statement_id = required_str(props, "statement_id")?;
        let action = desired(&self.schema, props, "action")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| DEFAULT_ACTION.to_string());
        let text = |prop: &str| given(props, prop).and_then(|v| v.as_str().map(str::to_string));
        let qualifier = text("qualifier");
        let call = self
            .lambda
            .add_permission()
            .function_name(&function)
            .statement_id(&statement_id)
            .action(action)
            .principal(required_str(props, "principal")?)
            .set_source_arn(text("source_arn"))
            .set_source_account(text("source_account"))
            .set_qualifier(text("qualifier"));
        let out = with_backoff(
            POLICY_CONFLICT_BUDGET,
            |e| e.is_code(&["ResourceConflictException"]),
            || {
                let call = call.clone();
                async move { call.send().await.map_err(api_error) }
            },
        )
        .await?;
        // Nothing read back: the answer is the statement as the policy holds it.
        if let Some(statement) = out
            .statement()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            .filter(|s| s.get("Sid").and_then(|v| v.as_str()) == Some(statement_id.as_str()))
        {
            return Ok(statement_resource(
                &function,
                qualifier.as_deref(),
                &statement_id,
                &statement,
                props,
            ));
        }
        wait_for(
            &format!("statement {statement_id} of function {function} to be readable"),
            STATEMENT_READABLE,
            || self.find_statement(&function, qualifier.as_deref(), &statement_id, props),
        )
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (function, statement_id) = split_id(&req.id)?;
        let (function, qualifier) = split_qualifier(function);
        self.find_statement(function, qualifier, statement_id, &req.prior_properties)
            .await
    }

    /// Every property forces replacement: there is nothing to change in place.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        if let Some(prop) = req.changed.first() {
            return Err(ProviderError::not_in_place(prop, TYPE_NAME));
        }
        let (function, statement_id) = split_id(&req.id)?;
        let (function, qualifier) = split_qualifier(function);
        self.find_statement(function, qualifier, statement_id, &req.properties)
            .await?
            .ok_or_else(|| ProviderError::invalid(format!("permission {} is gone", req.id)))
    }

    /// Removes the statement; one already gone (or whose function is gone) is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let (function, statement_id) = split_id(&req.id)?;
        let (function, qualifier) = split_qualifier(function);
        let out = with_backoff(
            POLICY_CONFLICT_BUDGET,
            |e| e.is_code(&["ResourceConflictException"]),
            || {
                let call = self
                    .lambda
                    .remove_permission()
                    .function_name(function)
                    .set_qualifier(qualifier.map(str::to_string))
                    .statement_id(statement_id);
                async move { call.send().await.map_err(api_error) }
            },
        )
        .await;
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// Finds the statement by function and statement id (deterministic when not given).
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let function = required_str(&req.properties, "function_name")?;
        let statement_id = required_str(&req.properties, "statement_id")?;
        let qualifier =
            given(&req.properties, "qualifier").and_then(|v| v.as_str().map(str::to_string));
        self.find_statement(
            &function,
            qualifier.as_deref(),
            &statement_id,
            &req.properties,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_permission_id_splits_back_into_function_and_statement() {
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:orders";
        let id = permission_id(arn, None, "orders-allow-api");
        assert_eq!(split_id(&id).unwrap(), (arn, "orders-allow-api"));
        assert_eq!(split_qualifier(arn), (arn, None));
        assert!(split_id("orders").is_err());
        let id = permission_id(arn, Some("live"), "orders-allow-api");
        let (function, statement) = split_id(&id).unwrap();
        assert_eq!(statement, "orders-allow-api");
        assert_eq!(split_qualifier(function), (arn, Some("live")));
        assert_eq!(split_qualifier("orders:7"), ("orders", Some("7")));
        assert_eq!(split_qualifier("orders"), ("orders", None));
    }

    #[test]
    fn principals_read_back_as_the_stack_wrote_them() {
        assert_eq!(
            principal_as_read(&json!({ "Service": "apigateway.amazonaws.com" }), None).as_deref(),
            Some("apigateway.amazonaws.com")
        );
        let root = json!({ "AWS": "arn:aws:iam::123456789012:root" });
        assert_eq!(
            principal_as_read(&root, Some("123456789012")).as_deref(),
            Some("123456789012")
        );
        assert_eq!(
            principal_as_read(&root, Some("arn:aws:iam::123456789012:root")).as_deref(),
            Some("arn:aws:iam::123456789012:root")
        );
        assert_eq!(principal_as_read(&json!("*"), None).as_deref(), Some("*"));
    }

    #[test]
    fn source_conditions_are_found_whatever_the_key_case() {
        let statement = json!({
            "Condition": {
                "ArnLike": { "AWS:SourceArn": "arn:aws:execute-api:us-east-1:1:abc/*" },
                "StringEquals": { "aws:sourceaccount": "123456789012" },
            }
        });
        assert_eq!(
            condition(&statement, "ArnLike", "AWS:SourceArn").as_deref(),
            Some("arn:aws:execute-api:us-east-1:1:abc/*")
        );
        assert_eq!(
            condition(&statement, "StringEquals", "AWS:SourceAccount").as_deref(),
            Some("123456789012")
        );
    }
}
