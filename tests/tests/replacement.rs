//! Every property marked `R` in the catalogue replaces its resource: for each type with one,
//! through the built binary against the emulator, the plan shows `-/+`, apply gives a new id,
//! the old object is gone (read through the type's own provider), the next plan is clean and
//! destroy succeeds.

use std::path::Path;

use providers::aws::AwsContext;
use providers::ReadRequest;
use stacks::{Map, Value};
use strata_tests::{run_strata, Emulator, Run};

/// One case: a stack in which `{V}` is replaced by `before`, then by `after`; `address` is
/// the resource whose replacing property changes.
struct Case {
    stack: &'static str,
    address: &'static str,
    type_name: &'static str,
    text: &'static str,
    before: &'static str,
    after: &'static str,
}

const VPCS: &str = "
  vpc_a: { type: aws.ec2.vpc, properties: { cidr_block: 10.1.0.0/16 } }
  vpc_b: { type: aws.ec2.vpc, properties: { cidr_block: 10.2.0.0/16 } }
";

const QUEUES: &str = "
  queue_a: { type: aws.sqs.queue }
  queue_b: { type: aws.sqs.queue }
";

const APIS: &str = "
  api_a: { type: aws.apigatewayv2.api, properties: { name: api-a } }
  api_b: { type: aws.apigatewayv2.api, properties: { name: api-b } }
";

const ROLE: &str = "
  role:
    type: aws.iam.role
    properties:
      assume_role_policy:
        Version: '2012-10-17'
        Statement: { Effect: Allow, Principal: { Service: lambda.amazonaws.com }, Action: sts:AssumeRole }
";

fn cases() -> Vec<Case> {
    vec![
        Case {
            stack: "rvpc",
            address: "vpc",
            type_name: "aws.ec2.vpc",
            text: "  vpc: { type: aws.ec2.vpc, properties: { cidr_block: '{V}' } }\n",
            before: "10.1.0.0/16",
            after: "10.9.0.0/16",
        },
        Case {
            stack: "rsubnet",
            address: "subnet",
            type_name: "aws.ec2.subnet",
            text: "  vpc: { type: aws.ec2.vpc, properties: { cidr_block: 10.1.0.0/16 } }\n  subnet: { type: aws.ec2.subnet, properties: { vpc_id: '${vpc.id}', cidr_block: '{V}' } }\n",
            before: "10.1.1.0/24",
            after: "10.1.2.0/24",
        },
        Case {
            stack: "rnat",
            address: "nat",
            type_name: "aws.ec2.nat_gateway",
            text: "  vpc: { type: aws.ec2.vpc, properties: { cidr_block: 10.1.0.0/16 } }
  sub_a: { type: aws.ec2.subnet, properties: { vpc_id: '${vpc.id}', cidr_block: 10.1.1.0/24 } }
  sub_b: { type: aws.ec2.subnet, properties: { vpc_id: '${vpc.id}', cidr_block: 10.1.2.0/24 } }
  ip: { type: aws.ec2.eip }
  nat: { type: aws.ec2.nat_gateway, properties: { subnet_id: '${{V}.id}', allocation_id: '${ip.id}' } }
",
            before: "sub_a",
            after: "sub_b",
        },
        Case {
            stack: "rrt",
            address: "table",
            type_name: "aws.ec2.route_table",
            text: "  table: { type: aws.ec2.route_table, properties: { vpc_id: '${{V}.id}' } }\n",
            before: "vpc_a",
            after: "vpc_b",
        },
        Case {
            stack: "rsg",
            address: "group",
            type_name: "aws.ec2.security_group",
            text: "  vpc: { type: aws.ec2.vpc, properties: { cidr_block: 10.1.0.0/16 } }\n  group: { type: aws.ec2.security_group, properties: { vpc_id: '${vpc.id}', name: '{V}' } }\n",
            before: "web-one",
            after: "web-two",
        },
        Case {
            stack: "rrole",
            address: "role",
            type_name: "aws.iam.role",
            text: "  role:
    type: aws.iam.role
    properties:
      path: '{V}'
      assume_role_policy:
        Version: '2012-10-17'
        Statement: { Effect: Allow, Principal: { Service: lambda.amazonaws.com }, Action: sts:AssumeRole }
",
            before: "/one/",
            after: "/two/",
        },
        Case {
            stack: "rpolicy",
            address: "policy",
            type_name: "aws.iam.policy",
            text: "  policy:
    type: aws.iam.policy
    properties:
      description: '{V}'
      policy: { Version: '2012-10-17', Statement: { Effect: Allow, Action: sqs:SendMessage, Resource: '*' } }
",
            before: "first",
            after: "second",
        },
        Case {
            stack: "rfn",
            address: "function",
            type_name: "aws.lambda.function",
            text: "  function:
    type: aws.lambda.function
    properties: { name: '{V}', runtime: python3.12, handler: main.handler, role: '${role.arn}', code: { path: src } }
",
            before: "fn-one",
            after: "fn-two",
        },
        Case {
            stack: "rperm",
            address: "permission",
            type_name: "aws.lambda.permission",
            text: "  function:
    type: aws.lambda.function
    properties: { runtime: python3.12, handler: main.handler, role: '${role.arn}', code: { path: src } }
  permission:
    type: aws.lambda.permission
    properties: { function_name: '${function.name}', principal: events.amazonaws.com, statement_id: '{V}' }
",
            before: "allow-one",
            after: "allow-two",
        },
        Case {
            stack: "resm",
            address: "mapping",
            type_name: "aws.lambda.event_source_mapping",
            text: "  function:
    type: aws.lambda.function
    properties: { runtime: python3.12, handler: main.handler, role: '${role.arn}', code: { path: src } }
  mapping:
    type: aws.lambda.event_source_mapping
    properties: { function_name: '${function.name}', event_source_arn: '${{V}.arn}' }
",
            before: "queue_a",
            after: "queue_b",
        },
        Case {
            stack: "rqueue",
            address: "queue",
            type_name: "aws.sqs.queue",
            text: "  queue: { type: aws.sqs.queue, properties: { name: '{V}' } }\n",
            before: "jobs-one",
            after: "jobs-two",
        },
        Case {
            stack: "rqp",
            address: "policy",
            type_name: "aws.sqs.queue_policy",
            text: "  policy:
    type: aws.sqs.queue_policy
    properties:
      queue_url: '${{V}.url}'
      policy: { Version: '2012-10-17', Statement: { Effect: Allow, Principal: '*', Action: sqs:SendMessage, Resource: '*' } }
",
            before: "queue_a",
            after: "queue_b",
        },
        Case {
            stack: "rtopic",
            address: "topic",
            type_name: "aws.sns.topic",
            text: "  topic: { type: aws.sns.topic, properties: { name: '{V}' } }\n",
            before: "news-one",
            after: "news-two",
        },
        Case {
            stack: "rsub",
            address: "subscription",
            type_name: "aws.sns.subscription",
            text: "  topic: { type: aws.sns.topic }
  subscription: { type: aws.sns.subscription, properties: { topic_arn: '${topic.arn}', protocol: sqs, endpoint: '${{V}.arn}' } }
",
            before: "queue_a",
            after: "queue_b",
        },
        Case {
            stack: "rrule",
            address: "rule",
            type_name: "aws.events.rule",
            text: "  rule: { type: aws.events.rule, properties: { name: '{V}', schedule_expression: 'rate(1 hour)' } }\n",
            before: "hourly-one",
            after: "hourly-two",
        },
        Case {
            stack: "rapi",
            address: "api",
            type_name: "aws.apigatewayv2.api",
            text: "  api: { type: aws.apigatewayv2.api, properties: { name: shop, protocol_type: '{V}' } }\n",
            before: "HTTP",
            after: "WEBSOCKET",
        },
        Case {
            stack: "rint",
            address: "integration",
            type_name: "aws.apigatewayv2.integration",
            text: "  integration: { type: aws.apigatewayv2.integration, properties: { api_id: '${{V}.id}', integration_type: HTTP_PROXY, integration_uri: 'https://example.com', integration_method: GET } }\n",
            before: "api_a",
            after: "api_b",
        },
        Case {
            stack: "rroute",
            address: "route",
            type_name: "aws.apigatewayv2.route",
            text: "  route: { type: aws.apigatewayv2.route, properties: { api_id: '${{V}.id}', route_key: 'GET /orders' } }\n",
            before: "api_a",
            after: "api_b",
        },
        Case {
            stack: "rstage",
            address: "stage",
            type_name: "aws.apigatewayv2.stage",
            text: "  stage: { type: aws.apigatewayv2.stage, properties: { api_id: '${api_a.id}', name: '{V}' } }\n",
            before: "beta",
            after: "prod",
        },
    ]
}

/// The stack file for `case` with `value` in place of `{V}`, plus whatever it references.
fn stack_text(case: &Case, value: &str) -> String {
    let body = case.text.replace("{V}", value);
    let mut text = format!("stack: {}\nresources:\n{body}", case.stack);
    if body.contains("${vpc_a.") || body.contains("${vpc_b.") {
        text.push_str(VPCS);
    }
    if body.contains("${queue_a.") || body.contains("${queue_b.") {
        text.push_str(QUEUES);
    }
    if body.contains("${api_a.") || body.contains("${api_b.") {
        text.push_str(APIS);
    }
    if body.contains("${role.") && !body.contains("\n  role:") {
        text.push_str(ROLE);
    }
    text
}

/// What the state records for `address`: (id, properties, attributes).
fn recorded(dir: &Path, stack: &str, address: &str) -> (String, Map, Map) {
    let path = dir.join(".strata").join(format!("{stack}.state.json"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let resource = &json["resources"][address];
    let map = |v: &serde_json::Value| match Value::from_json(v.clone()) {
        Value::Map(m) => m,
        _ => Map::new(),
    };
    (
        resource["id"].as_str().unwrap_or_default().to_string(),
        map(&resource["properties"]),
        map(&resource["attributes"]),
    )
}

fn check(run: &Run, code: i32, what: &str, failures: &mut Vec<String>) -> bool {
    if run.code == code {
        return true;
    }
    failures.push(format!(
        "{what}: exit {} (want {code})\n{}\n{}",
        run.code, run.stdout, run.stderr
    ));
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn changing_a_replacing_property_of_every_type_gives_a_new_object_and_removes_the_old() {
    let emu = Emulator::start();
    let env = emu.aws_env();
    let ctx = AwsContext::for_endpoint(&emu.url, "us-east-1");
    let registry = providers::aws_registry(&ctx);
    let mut failures = Vec::new();
    let mut checked = Vec::new();

    for case in cases() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(
            dir.path().join("src/main.py"),
            "def handler(event, context):\n    return 'ok'\n",
        )
        .unwrap();
        let file = dir.path().join("stack.yaml");
        let what = |step: &str| format!("{} ({}): {step}", case.type_name, case.address);

        std::fs::write(&file, stack_text(&case, case.before)).unwrap();
        let run = run_strata(dir.path(), &["apply", "--auto-approve"], &env);
        if !check(&run, 0, &what("first apply"), &mut failures) {
            continue;
        }
        let (old_id, old_props, old_attrs) = recorded(dir.path(), case.stack, case.address);

        std::fs::write(&file, stack_text(&case, case.after)).unwrap();
        let run = run_strata(dir.path(), &["plan"], &env);
        let header = format!("-/+ {} ({})", case.address, case.type_name);
        if !run.stdout.contains(&header) || !run.stdout.contains("# forces replacement") {
            failures.push(format!(
                "{}\n{}",
                what("plan shows no replacement"),
                run.stdout
            ));
            continue;
        }
        let run = run_strata(dir.path(), &["apply", "--auto-approve"], &env);
        if !check(&run, 0, &what("replacing apply"), &mut failures) {
            continue;
        }
        // Types whose id is their name (an IAM role keeps its name when only its path
        // changes) are new objects when AWS's own identifiers (`id`, `arn`) changed.
        let (new_id, _, new_attrs) = recorded(dir.path(), case.stack, case.address);
        let same_object = |id: &str, attrs: &Map| {
            id == old_id
                && attrs.get("id") == old_attrs.get("id")
                && attrs.get("arn") == old_attrs.get("arn")
        };
        if same_object(&new_id, &new_attrs) {
            failures.push(format!(
                "{}: still the same object {old_id}",
                what("replace")
            ));
        }
        let provider = registry.get(case.type_name).unwrap();
        let old = provider
            .read(ReadRequest {
                address: case.address.to_string(),
                id: old_id.clone(),
                prior_properties: old_props,
                prior_attributes: old_attrs.clone(),
            })
            .await;
        match old {
            Ok(None) => {}
            Ok(Some(found)) if !same_object(&found.id, &found.attributes) => {}
            other => failures.push(format!(
                "{}: {other:?}",
                what("the old object is still there")
            )),
        }
        let run = run_strata(dir.path(), &["plan", "--detailed-exitcode"], &env);
        check(&run, 0, &what("plan after replacement"), &mut failures);
        let run = run_strata(dir.path(), &["destroy", "--auto-approve"], &env);
        check(&run, 0, &what("destroy"), &mut failures);
        checked.push(case.type_name);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_eq!(checked.len(), cases().len());
}
