//! The deployer's least-privilege IAM policy (SPEC §6 `plan --emit-iam`, `iam-policy`):
//! every SDK call a provider makes is declared beside it; the policy a plan emits allows every
//! call an apply of each example sends (recorded through the test kit's proxy, evaluated with
//! IAM's matching rules); the policy's shape (no `Action: "*"`, `Resource: "*"` only for the
//! actions AWS authorises on `*` alone, documents under IAM's size limit); and AccessDenied
//! errors that name the action, the resource and the statement granting it.

use std::collections::{BTreeMap, BTreeSet};

use providers::catalogue::policy::{is_star_only, pascal_case, wildcard_match, MAX_POLICY_CHARS};
use serde_json::Value as Json;
use strata_tests::proxy::{percent_decode, Call, Faults, Proxy};
use strata_tests::{assert_code_while, copy_dir, run_strata, workspace_root, Emulator};
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
    ("ec2", Some("ec2")),
    ("secrets", Some("secretsmanager")),
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
        ("s3", "put_bucket_encryption" | "delete_bucket_encryption") => {
            "PutEncryptionConfiguration"
        }
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
    let pascal = pascal_case(op);
    vec![format!("{prefix}:{pascal}")]
}

/// How an SDK operation's name starts (a verb), which a client's other methods do not.
const SDK_VERBS: &[&str] = &[
    "create",
    "delete",
    "put",
    "get",
    "list",
    "describe",
    "update",
    "tag",
    "untag",
    "head",
    "add",
    "remove",
    "attach",
    "detach",
    "set",
    "modify",
    "associate",
    "disassociate",
    "authorize",
    "revoke",
    "replace",
    "allocate",
    "release",
    "enable",
    "disable",
    "publish",
    "subscribe",
    "unsubscribe",
    "schedule",
    "start",
    "stop",
    "increase",
    "decrease",
    "deactivate",
    "import",
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
            // strata's own types (`strata.random_id`) declare no action: any call is undeclared.
            let type_name = match service.as_str() {
                "strata" => format!("strata.{stem}"),
                _ => format!("aws.{service}.{stem}"),
            };
            // Lookups (`providers/src/lookups/`): what their entries declare for a plan's reads.
            let lookups: BTreeSet<&str> = providers::lookups::LOOKUPS
                .iter()
                .flat_map(|l| l.actions.iter().copied())
                .collect();
            let declared: BTreeSet<&str> = if service == "lookups" {
                lookups
            } else {
                match catalogue.iter().find(|e| e.type_name() == type_name) {
                    Some(entry) => entry.actions.all().into_iter().collect(),
                    None => catalogue
                        .iter()
                        .filter(|e| e.type_name().starts_with(&format!("aws.{service}.")))
                        .flat_map(|e| e.actions.all())
                        .collect(),
                }
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
    assert!(
        checked > 200,
        "only {checked} SDK calls found: the walk is broken"
    );
    assert!(
        undeclared.is_empty(),
        "{} undeclared call(s):\n{}",
        undeclared.len(),
        undeclared.join("\n")
    );
}

const REGION: &str = "us-east-1";
const ACCOUNT: &str = strata_tests::kit::ACCOUNT;

/// `GetBucketCors` → `get_bucket_cors`, to name a recorded call as the SDK does.
fn snake(pascal: &str) -> String {
    let mut out = String::new();
    for (i, c) in pascal.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The IAM action a recorded call is authorised as, and the ARN it is authorised on when the
/// call names one (`None`: a create of something not yet named, or a list).
fn authorisation(call: &Call) -> (String, Option<String>) {
    let prefix = match call.service.as_str() {
        "monitoring" => "cloudwatch",
        other => other,
    };
    let segments: Vec<&str> = call.path.split('/').filter(|s| !s.is_empty()).collect();
    let action = if prefix == "apigateway" {
        format!("apigateway:{}", call.method)
    } else if call.action.contains(' ') {
        // A REST call the proxy has no name for: Scheduler's.
        let kind = match segments.first().copied() {
            Some("schedules") => "Schedule",
            Some("schedule-groups") => "ScheduleGroup",
            _ => "",
        };
        let name = match (call.method.as_str(), kind) {
            ("GET", "") => "ListTagsForResource".to_string(),
            ("POST", "") => "TagResource".to_string(),
            ("DELETE", "") => "UntagResource".to_string(),
            ("GET", k) => format!("Get{k}"),
            ("POST", k) => format!("Create{k}"),
            ("PUT", k) => format!("Update{k}"),
            ("DELETE", k) => format!("Delete{k}"),
            _ => call.action.clone(),
        };
        format!("{prefix}:{name}")
    } else {
        iam_action(prefix, &snake(&call.action)).remove(0)
    };
    (action, arn_of(prefix, call, &segments))
}

/// The ARN of what a recorded call names.
fn arn_of(prefix: &str, call: &Call, segments: &[&str]) -> Option<String> {
    let r = call.resource.as_str();
    let arn = |rest: &str| Some(format!("arn:aws:{prefix}:{REGION}:{ACCOUNT}:{rest}"));
    if r.starts_with("arn:") {
        return Some(r.to_string());
    }
    match prefix {
        "ec2" if !r.is_empty() => {
            let kind = match r.split('-').next().unwrap_or_default() {
                "vpc" => "vpc",
                "subnet" => "subnet",
                "igw" => "internet-gateway",
                "eipalloc" => "elastic-ip",
                "nat" => "natgateway",
                "rtb" => "route-table",
                "sg" => "security-group",
                "acl" => "network-acl",
                "vpce" => "vpc-endpoint",
                "fl" => "vpc-flow-log",
                _ => return None,
            };
            arn(&format!("{kind}/{r}"))
        }
        "sqs" | "sns" if !r.is_empty() => arn(r.rsplit('/').next().unwrap_or(r)),
        "iam" if !r.is_empty() => {
            let kind = match call.action.as_str() {
                a if a.ends_with("ForRole") => "role",
                a if a.ends_with("ForUser") => "user",
                a if a.contains("InstanceProfile") => "instance-profile",
                a if a.contains("Role") => "role",
                a if a.contains("User") => "user",
                a if a.contains("Group") => "group",
                _ => "user",
            };
            Some(format!("arn:aws:iam::{ACCOUNT}:{kind}/{r}"))
        }
        "cloudwatch" if !r.is_empty() => arn(&format!("alarm:{r}")),
        "dynamodb" if !r.is_empty() => arn(&format!("table/{r}")),
        "logs" if !r.is_empty() => arn(&format!("log-group:{r}")),
        "kinesis" if !r.is_empty() => arn(&format!("stream/{r}")),
        "firehose" if !r.is_empty() => arn(&format!("deliverystream/{r}")),
        "secretsmanager" if !r.is_empty() => arn(&format!("secret:{r}-AbCdEf")),
        "kms" if r.starts_with("alias/") => arn(r),
        "kms" if !r.is_empty() => arn(&format!("key/{r}")),
        "states" if !r.is_empty() => arn(&format!("stateMachine:{r}")),
        "events" if !r.is_empty() => {
            if call.action.contains("EventBus") {
                arn(&format!("event-bus/{r}"))
            } else {
                arn(&format!("rule/{r}"))
            }
        }
        "ssm" if !r.is_empty() => arn(&format!("parameter/{}", r.trim_start_matches('/'))),
        "lambda" => match segments {
            [_, "functions", name, ..] => {
                let name = percent_decode(name);
                match name.strip_prefix("arn:") {
                    Some(_) => Some(name),
                    None => arn(&format!("function:{name}")),
                }
            }
            [_, "event-source-mappings", id] => arn(&format!("event-source-mapping:{id}")),
            [_, "layers", name, "versions", v] => arn(&format!("layer:{name}:{v}")),
            [_, "layers", name, ..] => arn(&format!("layer:{name}")),
            [_, "tags", tagged] => Some(percent_decode(tagged)),
            _ => None,
        },
        "s3" => match segments {
            [] => None,
            [bucket] => Some(format!("arn:aws:s3:::{bucket}")),
            [bucket, key @ ..] => Some(format!("arn:aws:s3:::{bucket}/{}", key.join("/"))),
        },
        "apigateway" => {
            let path = call.path.trim_start_matches("/v2");
            Some(format!("arn:aws:apigateway:{REGION}::{path}"))
        }
        "scheduler" => match segments {
            ["schedules", name] => {
                let group = call
                    .query
                    .split('&')
                    .find_map(|pair| pair.strip_prefix("groupName="))
                    .map(percent_decode)
                    .or_else(|| (!call.resource.is_empty()).then(|| call.resource.clone()))
                    .unwrap_or_else(|| "default".to_string());
                arn(&format!("schedule/{group}/{name}"))
            }
            ["schedule-groups", name] => arn(&format!("schedule-group/{name}")),
            ["tags", tagged] => Some(percent_decode(tagged)),
            _ => None,
        },
        _ => None,
    }
}

/// The statements of a printed policy (one document, or a list of them), as `(actions,
/// resources)`.
fn statements(printed: &str) -> Vec<(Vec<String>, Vec<String>)> {
    let json: Json = serde_json::from_str(printed).unwrap_or_else(|e| panic!("{e}: {printed}"));
    let docs = match json {
        Json::Array(docs) => docs,
        doc => vec![doc],
    };
    let strings = |v: &Json| -> Vec<String> {
        match v {
            Json::String(s) => vec![s.clone()],
            Json::Array(items) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    };
    docs.iter()
        .flat_map(|d| d["Statement"].as_array().cloned().unwrap_or_default())
        .map(|s| (strings(&s["Action"]), strings(&s["Resource"])))
        .collect()
}

/// IAM's evaluation of one call against allow-only statements: some statement matches the
/// action (case-insensitive, wildcards) and the resource (wildcards); a call that names no
/// resource needs the action on some resource.
fn allowed(statements: &[(Vec<String>, Vec<String>)], action: &str, arn: Option<&str>) -> bool {
    statements.iter().any(|(actions, resources)| {
        actions
            .iter()
            .any(|a| wildcard_match(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()))
            && arn.is_none_or(|arn| resources.iter().any(|r| wildcard_match(r, arn)))
    })
}

/// The recorded calls the policy does not allow, described; and how many named a resource.
fn denied(printed: &str, calls: &[Call]) -> (Vec<String>, usize) {
    let statements = statements(printed);
    let mut named = 0;
    let mut out = Vec::new();
    for call in calls.iter().filter(|c| !c.service.is_empty()) {
        let (action, arn) = authorisation(call);
        named += usize::from(arn.is_some());
        if !allowed(&statements, &action, arn.as_deref()) {
            out.push(format!(
                "{action} on {} ({} {} {})",
                arn.as_deref().unwrap_or("-"),
                call.method,
                call.path,
                call.resource
            ));
        }
    }
    out.sort();
    out.dedup();
    (out, named)
}

/// The shape IAM requires and least privilege asks: no `Action: "*"`, `Resource: "*"` only
/// for actions AWS authorises on `*` alone, every document under the size limit.
fn assert_shape(printed: &str, doing: &str) {
    let json: Json = serde_json::from_str(printed).unwrap();
    let docs = match json {
        Json::Array(docs) => docs,
        doc => vec![doc],
    };
    for doc in &docs {
        assert_eq!(doc["Version"], "2012-10-17", "{doing}");
        let chars = serde_json::to_string(doc)
            .unwrap()
            .chars()
            .filter(|c| !c.is_whitespace())
            .count();
        assert!(
            chars <= MAX_POLICY_CHARS,
            "{doing}: a document of {chars} characters"
        );
    }
    for (actions, resources) in statements(printed) {
        assert!(
            !actions.iter().any(|a| a == "*" || a.ends_with(":*")),
            "{doing}: {actions:?}"
        );
        if resources.iter().any(|r| r == "*") {
            let broad: Vec<&String> = actions.iter().filter(|a| !is_star_only(a)).collect();
            assert!(broad.is_empty(), "{doing}: {broad:?} granted on `*`");
        }
    }
}

/// The printed policy with `action` taken out of every statement.
fn without_action(printed: &str, action: &str) -> String {
    let mut json: Json = serde_json::from_str(printed).unwrap();
    let docs: Vec<&mut Json> = match &mut json {
        Json::Array(docs) => docs.iter_mut().collect(),
        doc => vec![doc],
    };
    for doc in docs {
        for statement in doc["Statement"].as_array_mut().unwrap() {
            if let Some(actions) = statement["Action"].as_array_mut() {
                actions.retain(|a| !a.as_str().unwrap_or_default().eq_ignore_ascii_case(action));
            } else if statement["Action"]
                .as_str()
                .is_some_and(|a| a.eq_ignore_ascii_case(action))
            {
                statement["Action"] = Json::Array(Vec::new());
            }
        }
    }
    json.to_string()
}

/// One example through its life: the plan's policy allows every call of the apply, and the
/// stack's whole-life policy every call of apply, re-plan and destroy.
fn example_life(emu: &Emulator, proxy: &Proxy, name: &str, vars: &[&str]) -> (usize, usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&workspace_root().join("examples").join(name), dir.path());
    let direct = emu.aws_env();
    let through = proxy.aws_env();
    let run = |args: &[&str], env: &[(String, String)]| {
        let mut all = args.to_vec();
        for var in vars {
            all.extend(["--var", var]);
        }
        run_strata(dir.path(), &all, env)
    };
    if dir.path().join("strata.lock").exists() {
        assert_code_while(
            &run(&["module", "fetch"], &direct),
            0,
            &format!("{name}: fetch"),
        );
    }
    let emitted = run(&["plan", "--emit-iam", "--format", "json"], &direct);
    assert_code_while(&emitted, 0, &format!("{name}: plan --emit-iam"));
    assert_shape(&emitted.stdout, &format!("{name}: plan --emit-iam"));
    let life = run(&["iam-policy", "--format", "json"], &direct);
    assert_code_while(&life, 0, &format!("{name}: iam-policy"));
    assert_shape(&life.stdout, &format!("{name}: iam-policy"));

    proxy.clear();
    assert_code_while(
        &run(&["apply", "--auto-approve"], &through),
        0,
        &format!("{name}: apply"),
    );
    let applied = proxy.calls();
    let (missing, named) = denied(&emitted.stdout, &applied);
    assert!(
        missing.is_empty(),
        "{name}: the plan's policy does not allow:\n{}",
        missing.join("\n")
    );
    let (missing, _) = denied(&life.stdout, &applied);
    assert!(
        missing.is_empty(),
        "{name}: iam-policy does not allow:\n{}",
        missing.join("\n")
    );
    // Each action the apply sent is needed: the policy without it denies a call naming it.
    let sent: BTreeSet<String> = applied
        .iter()
        .filter(|c| !c.service.is_empty())
        .map(|c| authorisation(c).0)
        .collect();
    for action in &sent {
        let without = without_action(&emitted.stdout, action);
        let (missing, _) = denied(&without, &applied);
        assert!(
            missing.iter().any(|m| m.starts_with(&format!("{action} "))),
            "{name}: the policy without {action} still allows every call"
        );
    }

    proxy.clear();
    assert_code_while(
        &run(&["plan", "--detailed-exitcode"], &through),
        0,
        &format!("{name}: re-plan"),
    );
    assert_code_while(
        &run(&["destroy", "--auto-approve"], &through),
        0,
        &format!("{name}: destroy"),
    );
    let later = proxy.calls();
    let (missing, _) = denied(&life.stdout, &later);
    assert!(
        missing.is_empty(),
        "{name}: iam-policy does not allow:\n{}",
        missing.join("\n")
    );
    (applied.len() + later.len(), named, sent.len())
}

#[test]
fn each_examples_calls_are_allowed_by_the_policy_its_plan_emits_and_by_iam_policy() {
    let emu = Emulator::start();
    let proxy = Proxy::start(&emu, Faults::default());
    let examples: &[(&str, &[&str])] = &[
        ("queue-and-topic", &[]),
        ("network", &[]),
        ("serverless", &[]),
        ("build-hosts", &[]),
        ("order-workflow", &[]),
        ("orders-api", &[]),
        ("rest-api", &[]),
        ("secrets", &["db_password=s3cret-Pa55"]),
        ("stream-pipeline", &["partner_token=t0ken"]),
        ("uploads", &[]),
        ("modules", &[]),
    ];
    let mut figures = BTreeMap::new();
    for (name, vars) in examples {
        figures.insert(*name, example_life(&emu, &proxy, name, vars));
    }
    for (name, (calls, named, needed)) in &figures {
        println!(
            "{name}: {calls} calls allowed, {named} of the apply's checked against the ARN they \
             name; each of the {needed} actions the apply sent is needed"
        );
    }
}

#[test]
fn access_denied_names_what_to_grant_and_the_statement_of_iam_policy_that_grants_it() {
    let emu = Emulator::start();
    let proxy = Proxy::start(&emu, Faults::refuse_once(&["CreateQueue"]));
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &workspace_root().join("examples/queue-and-topic"),
        dir.path(),
    );
    let run = run_strata(dir.path(), &["apply", "--auto-approve"], &proxy.aws_env());
    assert_code_while(&run, 1, "CreateQueue refused");
    let help = run
        .stderr
        .lines()
        .find(|l| l.contains("`strata iam-policy` grants"))
        .unwrap_or_else(|| panic!("no help naming the policy: {}", run.stderr));
    assert!(help.contains("sqs:CreateQueue"), "{help}");
    let sid = help
        .split("statement `")
        .nth(1)
        .and_then(|rest| rest.split('`').next())
        .unwrap_or_else(|| panic!("no statement named: {help}"));

    let life = run_strata(
        dir.path(),
        &["iam-policy", "--format", "json"],
        &emu.aws_env(),
    );
    assert_code_while(&life, 0, "iam-policy");
    let json: Json = serde_json::from_str(&life.stdout).unwrap();
    let statement = json["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("iam-policy has no statement `{sid}`: {}", life.stdout));
    assert!(
        statement["Action"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "sqs:CreateQueue"),
        "{statement}"
    );
}
