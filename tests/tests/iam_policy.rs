//! The deployer's least-privilege IAM policy (SPEC §6 `plan --emit-iam`, `iam-policy`):
//! every SDK call a provider makes is declared beside it; the policy a plan emits allows every
//! call an apply of each example sends (recorded through the test kit's proxy, evaluated with
//! IAM's matching rules); the policy's shape (no `Action: "*"`, `Resource: "*"` only for the
//! actions AWS authorises on `*` alone, documents under IAM's size limit); and AccessDenied
//! errors that name the action, the resource and the statement granting it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use providers::catalogue::policy::{is_star_only, wildcard_match, MAX_POLICY_CHARS};
use serde_json::Value as Json;
use strata_tests::proxy::{Call, Faults, Proxy};
use strata_tests::{assert_code_while, copy_dir, run_strata, workspace_root, Emulator, Project};
use syn::visit::Visit;

/// The names provider files give their SDK clients, and the IAM service prefix of each (none:
/// the prefix of the folder the file is in).
const CLIENT_FIELDS: &[(&str, Option<&str>)] = &[
    ("sqs", Some("sqs")),
    ("sns", Some("sns")),
    ("iam", Some("iam")),
    ("kms", Some("kms")),
    ("lambda", Some("lambda")),
    ("logs", Some("logs")),
    ("s3", Some("s3")),
    ("events", Some("events")),
    ("cloudwatch", Some("cloudwatch")),
    ("dynamodb", Some("dynamodb")),
    ("firehose", Some("firehose")),
    ("kinesis", Some("kinesis")),
    ("scheduler", Some("scheduler")),
    ("ssm", Some("ssm")),
    ("sfn", Some("states")),
    ("sm", Some("secretsmanager")),
    ("apis", Some("apigateway")),
    ("client", None),
];

/// SDK operations whose IAM action has another name (S3's) or is the HTTP verb (API Gateway's).
fn iam_action(prefix: &str, op: &str) -> Vec<String> {
    if prefix == "apigateway" {
        let verbs: &[&str] = match op.split('_').next().unwrap_or_default() {
            "create" => &["POST"],
            "get" => &["GET"],
            "update" => &["PATCH"],
            "delete" | "untag" => &["DELETE"],
            "put" | "import" => &["PUT"],
            "tag" => &["POST", "PUT"],
            _ => &["?"],
        };
        return verbs.iter().map(|v| format!("apigateway:{v}")).collect();
    }
    let renamed = match (prefix, op) {
        ("s3", "put_bucket_encryption" | "delete_bucket_encryption") => "PutEncryptionConfiguration",
        ("s3", "get_bucket_encryption") => "GetEncryptionConfiguration",
        ("s3", "put_bucket_lifecycle_configuration" | "delete_bucket_lifecycle") => {
            "PutLifecycleConfiguration"
        }
        ("s3", "get_bucket_lifecycle_configuration") => "GetLifecycleConfiguration",
        ("s3", "put_public_access_block" | "delete_public_access_block") => {
            "PutBucketPublicAccessBlock"
        }
        ("s3", "get_public_access_block") => "GetBucketPublicAccessBlock",
        ("s3", "put_bucket_cors" | "delete_bucket_cors") => "PutBucketCORS",
        ("s3", "get_bucket_cors") => "GetBucketCORS",
        ("s3", "delete_bucket_tagging") => "PutBucketTagging",
        ("s3", "delete_bucket_ownership_controls") => "PutBucketOwnershipControls",
        ("s3", "head_bucket" | "list_objects_v2" | "list_objects") => "ListBucket",
        ("s3", "head_object") => "GetObject",
        ("s3", "list_object_versions") => "ListBucketVersions",
        ("s3", "delete_objects") => "DeleteObject",
        ("s3", "put_bucket_notification_configuration") => "PutBucketNotification",
        ("s3", "get_bucket_notification_configuration") => "GetBucketNotification",
        _ => "",
    };
    if !renamed.is_empty() {
        return vec![format!("{prefix}:{renamed}")];
    }
    let pascal: String = op
        .split('_')
        .map(|w| {
            let mut cs = w.chars();
            cs.next()
                .map(|c| c.to_ascii_uppercase().to_string() + cs.as_str())
                .unwrap_or_default()
        })
        .collect();
    vec![format!("{prefix}:{pascal}")]
}

/// How an SDK operation's name starts (a verb), which a client's other methods do not.
const SDK_VERBS: &[&str] = &[
    "create", "delete", "put", "get", "list", "describe", "update", "tag", "untag", "head",
    "add", "remove", "attach", "detach", "set", "modify", "associate", "disassociate",
    "authorize", "revoke", "replace", "allocate", "release", "enable", "disable", "publish",
    "subscribe", "unsubscribe", "schedule", "start", "stop", "increase", "decrease",
    "deactivate", "import",
];

/// The SDK operations a file calls: a method with no arguments, named with a verb, on a client
/// field or variable (`self.sqs.create_queue()`, `s3.put_bucket_cors()`).
struct SdkCalls {
    calls: BTreeSet<(String, String)>,
}

impl<'ast> Visit<'ast> for SdkCalls {
    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        let field = match call.receiver.as_ref() {
            syn::Expr::Field(f) => match &f.member {
                syn::Member::Named(ident) => Some(ident.to_string()),
                syn::Member::Unnamed(_) => None,
            },
            syn::Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
            _ => None,
        };
        if let Some(field) = field {
            let method = call.method.to_string();
            let verb = method.split('_').next().unwrap_or_default();
            if CLIENT_FIELDS.iter().any(|(name, _)| *name == field)
                && call.args.is_empty()
                && SDK_VERBS.contains(&verb)
            {
                self.calls.insert((field, method));
            }
        }
        syn::visit::visit_expr_method_call(self, call);
    }
}

#[test]
fn every_sdk_call_of_a_provider_is_declared_among_its_actions() {
    let root = workspace_root().join("providers/src");
    let catalogue = providers::catalogue();
    let mut undeclared = Vec::new();
    let mut checked = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() || dir.ends_with("catalogue") {
            continue;
        }
        let service = dir.file_name().unwrap().to_string_lossy().to_string();
        let folder_prefix = match service.as_str() {
            "sfn" => "states",
            "apigatewayv2" => "apigateway",
            other => other,
        }
        .to_string();
        for file in std::fs::read_dir(&dir).unwrap() {
            let file = file.unwrap().path();
            let stem = file.file_stem().unwrap().to_string_lossy().to_string();
            let source = std::fs::read_to_string(&file).unwrap();
            let ast = syn::parse_file(&source).unwrap();
            let mut visitor = SdkCalls {
                calls: BTreeSet::new(),
            };
            visitor.visit_file(&ast);
            // A type's own file: its entry declares its calls. A shared file (`mod.rs`): some
            // type of the service declares each.
            let type_name = format!("aws.{service}.{stem}");
            let declared: BTreeSet<&str> = match catalogue.iter().find(|e| e.type_name() == type_name) {
                Some(entry) => entry.actions.all().into_iter().collect(),
                None => catalogue
                    .iter()
                    .filter(|e| e.type_name().starts_with(&format!("aws.{service}.")))
                    .flat_map(|e| e.actions.all())
                    .collect(),
            };
            for (field, op) in visitor.calls {
                let prefix = CLIENT_FIELDS
                    .iter()
                    .find(|(name, _)| *name == field)
                    .and_then(|(_, p)| *p)
                    .unwrap_or(&folder_prefix);
                let candidates = iam_action(prefix, &op);
                checked += 1;
                if !candidates
                    .iter()
                    .any(|a| declared.iter().any(|d| d.eq_ignore_ascii_case(a)))
                {
                    undeclared.push(format!(
                        "{}: `{op}` ({}) is not declared",
                        file.strip_prefix(workspace_root()).unwrap().display(),
                        candidates.join(" or ")
                    ));
                }
            }
        }
    }
    assert!(checked > 200, "only {checked} SDK calls found: the walk is broken");
    assert!(
        undeclared.is_empty(),
        "{} undeclared call(s):\n{}",
        undeclared.len(),
        undeclared.join("\n")
    );
}
