//! Loading stack files: what a person sees for each kind of mistake, and what the planner
//! receives for a good stack. Runs against a small fake catalog, not the real providers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use stacks::{
    load, load_str, physical_name, Backend, Catalog, Diagnostics, Expr, Kind, LoadOptions,
    NameRule, Piece, Prop, Reference, Stack, TypeSchema, Value,
};

const QUEUE_NAME_LIMIT: usize = 40;

fn catalog() -> Catalog {
    Catalog::new([
        TypeSchema {
            type_name: "test.queue",
            props: vec![
                Prop::new("name", Kind::String).force_new(),
                Prop::new("fifo_queue", Kind::Bool).force_new(),
                Prop::new("visibility_timeout_seconds", Kind::Integer).default(30),
                Prop::new("policy", Kind::Document),
                Prop::new(
                    "redrive_policy",
                    Kind::Object(vec![
                        Prop::new("dead_letter_target_arn", Kind::String).required(),
                        Prop::new("max_receive_count", Kind::Integer),
                    ]),
                ),
                Prop::new("delivery", Kind::String).allowed(&["standard", "express"]),
                Prop::new("tags", Kind::Map(Box::new(Kind::String))),
            ],
            attrs: vec!["arn", "url"],
            taggable: true,
            check: None,
            name_rule: Some(NameRule {
                prop: "name",
                max_len: QUEUE_NAME_LIMIT,
                suffix_when: Some(("fifo_queue", ".fifo")),
            }),
        },
        TypeSchema {
            type_name: "test.function",
            props: vec![
                Prop::new("handler", Kind::String).required(),
                Prop::new("memory_size", Kind::Integer),
                Prop::new("ratio", Kind::Number),
                Prop::new("enabled", Kind::Bool),
                Prop::new("subnet_ids", Kind::List(Box::new(Kind::String))),
                Prop::new("environment", Kind::Map(Box::new(Kind::String))),
                Prop::new("secret", Kind::String).sensitive(),
            ],
            attrs: vec!["arn"],
            taggable: false,
            check: None,
            name_rule: None,
        },
    ])
}

fn load_text(text: &str) -> Result<Stack, Diagnostics> {
    load_str(
        Path::new("stack.yaml"),
        text,
        &LoadOptions::default(),
        &catalog(),
    )
}

fn load_with(text: &str, options: &LoadOptions) -> Result<Stack, Diagnostics> {
    load_str(Path::new("stack.yaml"), text, options, &catalog())
}

fn ok(text: &str) -> Stack {
    match load_text(text) {
        Ok(stack) => stack,
        Err(d) => panic!("expected the stack to load:\n{}", d.render(false)),
    }
}

fn errors(text: &str) -> String {
    errors_with(text, &LoadOptions::default())
}

fn errors_with(text: &str, options: &LoadOptions) -> String {
    match load_with(text, options) {
        Ok(stack) => panic!("expected errors, got {stack:#?}"),
        Err(d) => d.render(false),
    }
}

fn vars(list: &[&str]) -> LoadOptions {
    LoadOptions {
        vars: list.iter().map(|s| s.to_string()).collect(),
        var_files: Vec::new(),
    }
}

fn assert_contains(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "expected {needle:?} in:\n{text}");
    }
}

fn prop<'a>(stack: &'a Stack, address: &str, name: &str) -> &'a Expr {
    let resource = stack.resources.get(address).expect("resource exists");
    resource
        .properties
        .get(name)
        .unwrap_or_else(|| panic!("{address} has no {name}: {:#?}", resource.properties))
}

fn value(v: impl Into<Value>) -> Expr {
    Expr::value(v)
}

// ---------------------------------------------------------------------------------------------
// Bad input: each error names file:line:column and says what to do.

#[test]
fn malformed_yaml_points_at_the_parser_position() {
    let text = errors("stack: demo\nresources: [a, b\nq: 1\n");
    assert_contains(&text, &["error: invalid YAML", "stack.yaml:3:2"]);
}

#[test]
fn a_duplicate_key_is_an_error_at_the_second_occurrence() {
    let text =
        errors("stack: demo\nresources:\n  q:\n    type: test.queue\n  q:\n    type: test.queue\n");
    assert_contains(
        &text,
        &[
            "duplicate mapping key `q`",
            "stack.yaml:5:3",
            "help: each key may appear only once",
        ],
    );
}

#[test]
fn a_document_that_is_not_a_mapping_is_an_error() {
    let text = errors("- stack: demo\n");
    assert_contains(
        &text,
        &[
            "a stack file must be a mapping",
            "stack.yaml:1:1",
            "help: start it with `stack: NAME`",
        ],
    );
    let text = errors("# nothing here\n");
    assert_contains(&text, &["the stack file is empty", "stack.yaml:1:1"]);
    let text = errors("");
    assert_contains(&text, &["the stack file is empty"]);
}

#[test]
fn an_unknown_top_level_key_suggests_the_close_one() {
    let text = errors("stack: demo\nresorces: {}\n");
    assert_contains(
        &text,
        &[
            "error: unknown key `resorces` at the top of the stack file",
            "stack.yaml:2:1",
            "help: did you mean `resources`?",
        ],
    );
}

#[test]
fn an_unknown_resource_type_suggests_the_close_one() {
    let text = errors("stack: demo\nresources:\n  q:\n    type: test.qeue\n");
    assert_contains(
        &text,
        &[
            "error: unknown resource type `test.qeue`",
            "stack.yaml:4:11",
            "help: did you mean `test.queue`?",
        ],
    );
}

#[test]
fn an_unknown_property_suggests_the_close_one() {
    let text = errors(
        "stack: demo\nresources:\n  q:\n    type: test.queue\n    properties:\n      visiblity_timeout: 60\n",
    );
    assert_contains(
        &text,
        &[
            "error: unknown property `visiblity_timeout` on test.queue",
            "stack.yaml:6:7",
            "help: did you mean `visibility_timeout_seconds`?",
        ],
    );
}

#[test]
fn unknown_keys_in_resources_lifecycle_params_and_outputs_are_errors() {
    let text = errors(concat!(
        "stack: demo\n",
        "params:\n",
        "  env: { tpye: string, default: dev }\n",
        "resources:\n",
        "  q:\n",
        "    type: test.queue\n",
        "    dependson: []\n",
        "    lifecycle: { prevent_destroi: true }\n",
        "outputs:\n",
        "  url: { value: \"${q.url}\", sensitiv: true }\n",
    ));
    assert_contains(
        &text,
        &[
            "unknown key `tpye` in param `env`",
            "stack.yaml:3:10",
            "did you mean `type`?",
            "unknown key `dependson` in resource `q`",
            "stack.yaml:7:5",
            "did you mean `depends_on`?",
            "unknown key `prevent_destroi` in `lifecycle` of resource `q`",
            "stack.yaml:8:18",
            "did you mean `prevent_destroy`?",
            "unknown key `sensitiv` in output `url`",
            "stack.yaml:10:29",
            "did you mean `sensitive`?",
        ],
    );
}

#[test]
fn a_missing_required_property_points_at_the_properties_key() {
    let text = errors(
        "stack: demo\nresources:\n  f:\n    type: test.function\n    properties:\n      memory_size: 128\n",
    );
    assert_contains(
        &text,
        &[
            "error: missing required property `handler` on test.function",
            "stack.yaml:5:5",
            "help: add `handler:` under `properties:`",
        ],
    );
    // Without `properties:` at all, the error points at `type:`.
    let text = errors("stack: demo\nresources:\n  f:\n    type: test.function\n");
    assert_contains(
        &text,
        &["missing required property `handler`", "stack.yaml:4:5"],
    );
}

#[test]
fn a_value_of_the_wrong_type_is_an_error_at_the_value() {
    let text = errors(concat!(
        "stack: demo\n",
        "resources:\n",
        "  f:\n",
        "    type: test.function\n",
        "    properties:\n",
        "      handler: index.handler\n",
        "      memory_size: \"128\"\n",
        "      ratio: 1.5\n",
        "      enabled: yes\n",
        "      subnet_ids: [a, [b]]\n",
        "      environment: { A: [x] }\n",
        "  g:\n",
        "    type: test.function\n",
        "    properties: { handler: h, memory_size: 1.5 }\n",
    ));
    assert_contains(
        &text,
        &[
            "property `memory_size` on test.function expects a whole number, got the string `128`",
            "stack.yaml:7:20",
            "help: remove the quotes to write a number",
            "property `enabled` on test.function expects true or false, got the string `yes`",
            "stack.yaml:9:16",
            "property `subnet_ids[1]` on test.function expects a string, got a list",
            "stack.yaml:10:23",
            "property `environment.A` on test.function expects a string, got a list",
            "stack.yaml:11:25",
            "property `memory_size` on test.function expects a whole number, got the number `1.5`",
            "stack.yaml:14:44",
        ],
    );
    assert!(!text.contains("`ratio`"), "a float is a number:\n{text}");
}

#[test]
fn nested_objects_report_unknown_and_missing_fields() {
    let text = errors(concat!(
        "stack: demo\n",
        "resources:\n",
        "  q:\n",
        "    type: test.queue\n",
        "    properties:\n",
        "      redrive_policy:\n",
        "        max_recieve_count: 3\n",
    ));
    assert_contains(
        &text,
        &[
            "unknown property `redrive_policy.max_recieve_count` on test.queue",
            "stack.yaml:7:9",
            "did you mean `max_receive_count`?",
            "missing required property `redrive_policy.dead_letter_target_arn` on test.queue",
            "stack.yaml:6:7",
            "help: add `dead_letter_target_arn:` to `redrive_policy`",
        ],
    );
}

#[test]
fn a_value_outside_the_allowed_set_lists_the_allowed_values() {
    let text = errors(
        "stack: demo\nresources:\n  q:\n    type: test.queue\n    properties: { delivery: expres }\n",
    );
    assert_contains(
        &text,
        &[
            "`expres` is not an allowed value of property `delivery` on test.queue",
            "stack.yaml:5:29",
            "help: did you mean `express`? allowed values: `standard` or `express`",
        ],
    );
}

#[test]
fn a_document_must_be_a_mapping() {
    let text = errors(
        "stack: demo\nresources:\n  q:\n    type: test.queue\n    properties: { policy: allow-all }\n",
    );
    assert_contains(
        &text,
        &[
            "property `policy` on test.queue expects a mapping",
            "stack.yaml:5:27",
        ],
    );
}

#[test]
fn an_unknown_param_in_an_expression_suggests_the_declared_one() {
    let text = errors(concat!(
        "stack: demo\n",
        "params:\n",
        "  env: { type: string, default: dev }\n",
        "resources:\n",
        "  q:\n",
        "    type: test.queue\n",
        "    properties: { name: \"orders-${params.evn}\" }\n",
    ));
    assert_contains(
        &text,
        &[
            "error: unknown param `evn` in `${params.evn}`",
            "stack.yaml:7:33",
            "help: did you mean `env`?",
        ],
    );
}

#[test]
fn an_unclosed_expression_points_at_its_dollar_brace() {
    let text = errors(concat!(
        "stack: demo\n",
        "resources:\n",
        "  q:\n",
        "    type: test.queue\n",
        "    properties:\n",
        "      name: 'a-${stack.name}-${params.env'\n",
    ));
    assert_contains(
        &text,
        &[
            "error: unclosed `${`",
            "stack.yaml:6:30",
            "help: close the expression with `}`",
        ],
    );
}

#[test]
fn empty_malformed_and_unknown_builtin_expressions_are_errors() {
    let text = errors(concat!(
        "stack: demo\n",
        "resources:\n",
        "  f:\n",
        "    type: test.function\n",
        "    properties:\n",
        "      handler: ${}\n",
        "      environment:\n",
        "        A: \"${a.b.c}\"\n",
        "        B: x-${aws.regoin}\n",
        "        C: |\n",
        "          line one\n",
        "          line ${stack.nmae} two\n",
    ));
    assert_contains(
        &text,
        &[
            "empty expression `${}`",
            "stack.yaml:6:16",
            "unknown resource `a` in `${a.b.c}`",
            "stack.yaml:8:15",
            "unknown built-in `${aws.regoin}`",
            "stack.yaml:9:14",
            "did you mean `aws.region`?",
            "unknown built-in `${stack.nmae}`",
            "stack.yaml:12:16",
            "did you mean `stack.name`?",
        ],
    );
}

#[test]
fn a_reference_to_an_unknown_resource_is_an_error() {
    let text = errors(concat!(
        "stack: demo\n",
        "resources:\n",
        "  orders:\n",
        "    type: test.queue\n",
        "  f:\n",
        "    type: test.function\n",
        "    properties: { handler: \"${order.arn}\" }\n",
    ));
    assert_contains(
        &text,
        &[
            "error: unknown resource `order` in `${order.arn}`",
            "stack.yaml:7:29",
            "help: did you mean `${orders.arn}`?",
        ],
    );
}

#[test]
fn an_unknown_attribute_of_a_known_resource_is_an_error() {
    let text = errors(concat!(
        "stack: demo\n",
        "resources:\n",
        "  orders:\n",
        "    type: test.queue\n",
        "outputs:\n",
        "  url: ${orders.uri}\n",
    ));
    assert_contains(
        &text,
        &[
            "error: unknown attribute `uri` of resource `orders` (test.queue)",
            "stack.yaml:6:8",
            "help: did you mean `url`?",
        ],
    );
}

#[test]
fn a_resource_referencing_itself_is_an_error() {
    let text = errors(concat!(
        "stack: demo\n",
        "resources:\n",
        "  q:\n",
        "    type: test.queue\n",
        "    properties: { tags: { self: \"${q.arn}\" } }\n",
    ));
    assert_contains(
        &text,
        &[
            "resource `q` references itself in `${q.arn}`",
            "stack.yaml:5:34",
        ],
    );
}

#[test]
fn depends_on_an_unknown_resource_points_at_the_list_item() {
    let text = errors(concat!(
        "stack: demo\n",
        "resources:\n",
        "  audit:\n",
        "    type: test.queue\n",
        "  q:\n",
        "    type: test.queue\n",
        "    depends_on: [audit, audti2, nothing_like_it]\n",
    ));
    assert_contains(
        &text,
        &[
            "error: `depends_on` names unknown resource `audti2`",
            "stack.yaml:7:25",
            "help: did you mean `audit`?",
            "`depends_on` names unknown resource `nothing_like_it`",
            "stack.yaml:7:33",
            "help: the stack's resources are `audit` or `q`",
        ],
    );
}

#[test]
fn ignore_changes_must_name_properties_of_the_type() {
    let text = errors(
        "stack: demo\nresources:\n  q:\n    type: test.queue\n    lifecycle: { ignore_changes: [tag] }\n",
    );
    assert_contains(
        &text,
        &[
            "`ignore_changes` names `tag`, which is not a property of test.queue",
            "stack.yaml:5:35",
            "did you mean `tags`?",
        ],
    );
}

#[test]
fn a_dependency_cycle_names_every_resource_in_order() {
    let text = errors(concat!(
        "stack: demo\n",
        "resources:\n",
        "  c:\n",
        "    type: test.function\n",
        "    properties: { handler: \"${a.arn}\" }\n",
        "  a:\n",
        "    type: test.function\n",
        "    properties: { handler: \"${b.arn}\" }\n",
        "  b:\n",
        "    type: test.function\n",
        "    properties: { handler: h }\n",
        "    depends_on: [c]\n",
    ));
    assert_contains(
        &text,
        &[
            "error: dependency cycle: c -> a -> b -> c",
            "stack.yaml:3:3",
            "`c` uses `a` through `${a.arn}` at stack.yaml:5:29",
            "`b` uses `c` through `depends_on` at stack.yaml:12:18",
        ],
    );
    // A cycle is found even when its resources have other errors.
    let text = errors(concat!(
        "stack: demo\n",
        "resources:\n",
        "  a:\n",
        "    type: test.function\n",
        "    properties: { handler: \"${b.arn}\", memory_size: big }\n",
        "  b:\n",
        "    type: test.function\n",
        "    depends_on: [a]\n",
    ));
    assert_contains(
        &text,
        &[
            "dependency cycle: a -> b -> a",
            "expects a whole number",
            "missing required property `handler`",
        ],
    );
}

#[test]
fn invalid_stack_and_resource_names_say_the_rule() {
    let text = errors("stack: Orders\nresources:\n  Bad-Name:\n    type: test.queue\n");
    assert_contains(
        &text,
        &[
            "error: invalid stack name `Orders`",
            "stack.yaml:1:8",
            "`[a-z][a-z0-9-]{0,62}`",
            "error: invalid resource name `Bad-Name`",
            "stack.yaml:3:3",
            "`[a-z][a-z0-9_]{0,62}`",
        ],
    );
    let text = errors("resources: {}\n");
    assert_contains(&text, &["missing `stack:`", "help: add `stack: NAME`"]);
}

#[test]
fn an_empty_modules_mapping_is_fine_and_a_missing_module_directory_is_an_error() {
    ok("stack: demo\nmodules: {}\n");
    let text = errors("stack: demo\nmodules:\n  net: { source: ./net }\n");
    assert_contains(
        &text,
        &[
            "error: module source `./net` has no module.yaml",
            "stack.yaml:3:18",
            "help: looked for net/module.yaml",
        ],
    );
}

#[test]
fn cloudformation_style_tags_are_rejected() {
    let text = errors("stack: demo\noutputs:\n  a: !Ref q\n");
    assert_contains(&text, &["stack.yaml:3:", "`${...}` expressions"]);
}

#[test]
fn every_error_is_reported_sorted_by_position() {
    let d = load_text(concat!(
        "stack: demo\n",
        "resources:\n",
        "  q:\n",
        "    type: test.queue\n",
        "    properties: { visibility_timeout_seconds: x, nme: y }\n",
        "  r:\n",
        "    type: nope\n",
        "bogus: 1\n",
    ))
    .expect_err("errors");
    let locations: Vec<String> = d.0.iter().filter_map(|x| x.location()).collect();
    assert_eq!(
        locations,
        vec![
            "stack.yaml:5:47",
            "stack.yaml:5:50",
            "stack.yaml:7:11",
            "stack.yaml:8:1"
        ]
    );
}

#[test]
fn garbage_never_panics() {
    let inputs = [
        "stack: demo\nresources:\n  q: [1, 2]\n",
        "stack: demo\nresources:\n  q: { type: [x] }\n",
        "stack: demo\nresources: 5\noutputs: [1]\nparams: x\ntags: [a]\nbackend: 3\n",
        "stack: demo\nparams:\n  a: 5\n  b: { type: list, default: [[x]], allowed: 3 }\n",
        "stack: [x]\n",
        "stack: demo\nresources:\n  q:\n    type: test.queue\n    properties:\n      tags: ${x\n",
        "stack: demo\n? [a, b]\n: c\n",
        "stack: demo\nresources:\n  q:\n    type: test.queue\n    depends_on: q\n    lifecycle: [1]\n",
        "stack: demo\noutputs:\n  o: { }\n  p: ~\n",
        "&a [*a]",
        "stack: demo\nbackend: { local: {}, s3: {} }\n",
        "stack: demo\nbackend: { s3: { bucket: [] } }\n",
        "\u{feff}stack: demo\n",
        "stack: \"\\u00e9\u{e9}${}\"\n",
    ];
    for input in inputs {
        let _ = load_text(input);
    }
}

// ---------------------------------------------------------------------------------------------
// Params from the command line and var files.

const PARAMS_STACK: &str = concat!(
    "stack: demo\n",
    "params:\n",
    "  env:    { type: string, default: dev, allowed: [dev, staging, prod] }\n",
    "  memory: { type: number, default: 256 }\n",
    "  public: { type: bool, default: false }\n",
    "  cidrs:  { type: list }\n",
    "resources:\n",
    "  f:\n",
    "    type: test.function\n",
    "    properties:\n",
    "      handler: \"${params.env}.handler\"\n",
    "      memory_size: ${params.memory}\n",
    "      enabled: \"${params.public}\"\n",
    "      subnet_ids: ${params.cidrs}\n",
);

#[test]
fn a_required_param_without_a_value_points_at_its_declaration() {
    let text = errors(PARAMS_STACK);
    assert_contains(
        &text,
        &[
            "error: param `cidrs` has no value",
            "stack.yaml:6:3",
            "help: pass `--var cidrs=VALUE`",
        ],
    );
}

#[test]
fn vars_are_read_by_the_declared_type_and_keep_it_in_whole_string_expressions() {
    let stack = load_with(
        PARAMS_STACK,
        &vars(&[
            "cidrs=10.0.0.0/24, 10.0.1.0/24",
            "memory=512",
            "public=true",
            "env=prod",
        ]),
    )
    .expect("loads");
    assert_eq!(prop(&stack, "f", "handler"), &value("prod.handler"));
    assert_eq!(prop(&stack, "f", "memory_size"), &value(512));
    assert_eq!(prop(&stack, "f", "enabled"), &value(true));
    assert_eq!(
        prop(&stack, "f", "subnet_ids"),
        &Expr::Value {
            value: Value::List(vec![Value::str("10.0.0.0/24"), Value::str("10.0.1.0/24")])
        }
    );
    assert_eq!(stack.params.get("memory"), Some(&Value::int(512)));
    let flow = load_with(PARAMS_STACK, &vars(&["cidrs=[a, b]"])).expect("loads");
    assert_eq!(
        flow.params.get("cidrs"),
        Some(&Value::List(vec![Value::str("a"), Value::str("b")]))
    );
}

#[test]
fn bad_vars_are_errors_that_quote_the_flag() {
    let text = errors_with(
        PARAMS_STACK,
        &vars(&["cidrs=a", "evn=prod", "memory=lots", "env=qa", "nonsense"]),
    );
    assert_contains(
        &text,
        &[
            "error: unknown param `evn` in `--var evn=prod`",
            "help: did you mean `env`?",
            "error: param `memory` is a number, not `lots` (in `--var memory=lots`)",
            "help: write a number",
            "error: `qa` is not an allowed value of param `env` (in `--var env=qa`)",
            "help: allowed values: `dev`, `staging` or `prod`",
            "error: `--var nonsense` is not NAME=VALUE",
        ],
    );
}

#[test]
fn var_files_are_typed_yaml_and_errors_point_into_them() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let good = dir.join("good.yaml");
    std::fs::write(&good, "cidrs: [a, b]\nmemory: 1024\n").expect("write");
    let later = dir.join("later.yaml");
    std::fs::write(&later, "memory: 2048\n").expect("write");
    let options = LoadOptions {
        vars: vec!["memory=4096".into()],
        var_files: vec![good.clone(), later.clone()],
    };
    let stack = load_with(PARAMS_STACK, &options).expect("loads");
    assert_eq!(
        stack.params.get("memory"),
        Some(&Value::int(4096)),
        "--var wins"
    );
    let options = LoadOptions {
        vars: vec![],
        var_files: vec![good.clone(), later],
    };
    let stack = load_with(PARAMS_STACK, &options).expect("loads");
    assert_eq!(
        stack.params.get("memory"),
        Some(&Value::int(2048)),
        "later file wins"
    );

    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "cidrs: [a]\nmemroy: 1\npublic: maybe\n").expect("write");
    let options = LoadOptions {
        vars: vec![],
        var_files: vec![bad.clone()],
    };
    let text = errors_with(PARAMS_STACK, &options);
    let bad_name = bad.display().to_string();
    assert_contains(
        &text,
        &[
            "error: unknown param `memroy` in var file",
            &format!("{bad_name}:2:1"),
            "help: did you mean `memory`?",
            "error: param `public` is `true` or `false`, not the string `maybe`",
            &format!("{bad_name}:3:9"),
        ],
    );
    let missing = LoadOptions {
        vars: vec![],
        var_files: vec![dir.join("missing.yaml")],
    };
    assert_contains(
        &errors_with(PARAMS_STACK, &missing),
        &["cannot read var file"],
    );
}

#[test]
fn a_default_outside_allowed_or_of_the_wrong_type_is_an_error() {
    let text = errors(concat!(
        "stack: demo\n",
        "params:\n",
        "  env: { type: string, default: qa, allowed: [dev, prod] }\n",
        "  n: { type: number, default: many }\n",
        "  t: { type: strng }\n",
    ));
    assert_contains(
        &text,
        &[
            "`qa` is not an allowed value of param `env`",
            "stack.yaml:3:33",
            "default of param `n` must be a number, not the string `many`",
            "stack.yaml:4:31",
            "unknown type the string `strng` for param `t`",
            "did you mean `string`?",
        ],
    );
}

#[test]
fn a_param_of_the_wrong_kind_for_a_property_is_an_error() {
    let text = errors(concat!(
        "stack: demo\n",
        "params:\n",
        "  size: { default: big }\n",
        "resources:\n",
        "  f:\n",
        "    type: test.function\n",
        "    properties: { handler: h, memory_size: \"${params.size}\" }\n",
    ));
    assert_contains(
        &text,
        &[
            "property `memory_size` on test.function expects a whole number, but `${params.size}` is the string `big`",
            "stack.yaml:7:44",
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// Good stacks: what the planner receives.

const GOOD_STACK: &str = r#"
stack: orders
description: Order intake
region: us-east-1
tags: { team: payments, env: "${params.env}" }
params:
  env: { type: string, default: dev }
  retries: { type: number, default: 5 }
backend:
  s3: { bucket: acme-state, key: orders/state.json }
resources:
  orders:
    type: test.queue
    properties:
      visibility_timeout_seconds: 60
      tags: { team: orders, note: "$${not.an.expression}" }
      redrive_policy:
        dead_letter_target_arn: ${dlq.arn}
        max_receive_count: ${params.retries}
      policy:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Resource: ${dlq.arn}
            Principal: "*"
  dlq:
    type: test.queue
    properties: { fifo_queue: true }
  worker:
    type: test.function
    properties:
      handler: "app-${params.env}.handler"
      memory_size: 1024
      secret: "${orders.url}"
      environment:
        QUEUE_URL: ${orders.url}
        REGION: "${aws.region}"
        STACK: "${stack.name}"
        ACCOUNT_AND_QUEUE: "${aws.account_id}/${orders.url}"
    depends_on: [dlq]
    lifecycle:
      prevent_destroy: true
      ignore_changes: [memory_size]
outputs:
  queue_url: ${orders.url}
  secret: { value: "${worker.secret}", sensitive: true, description: The secret }
"#;

#[test]
fn a_whole_string_reference_keeps_its_type() {
    let stack = ok(GOOD_STACK);
    let env = match prop(&stack, "worker", "environment") {
        Expr::Map { entries } => entries.clone(),
        other => panic!("expected a map expression, got {other:?}"),
    };
    assert_eq!(
        env.get("QUEUE_URL"),
        Some(&Expr::Ref {
            reference: Reference::resource("orders", "url")
        })
    );
    assert_eq!(
        env.get("REGION"),
        Some(&Expr::Ref {
            reference: Reference::Builtin {
                name: "aws.region".into()
            }
        })
    );
    assert_eq!(env.get("STACK"), Some(&value("orders")));
    assert_eq!(
        env.get("ACCOUNT_AND_QUEUE"),
        Some(&Expr::Concat {
            pieces: vec![
                Piece::Ref {
                    reference: Reference::Builtin {
                        name: "aws.account_id".into()
                    }
                },
                Piece::Text { text: "/".into() },
                Piece::Ref {
                    reference: Reference::resource("orders", "url")
                },
            ]
        })
    );
    let redrive = match prop(&stack, "orders", "redrive_policy") {
        Expr::Map { entries } => entries.clone(),
        other => panic!("expected a map expression, got {other:?}"),
    };
    assert_eq!(redrive.get("max_receive_count"), Some(&value(5)));
}

#[test]
fn params_are_substituted_into_text() {
    let stack = ok(GOOD_STACK);
    assert_eq!(prop(&stack, "worker", "handler"), &value("app-dev.handler"));
    let stack = load_with(GOOD_STACK, &vars(&["env=prod"])).expect("loads");
    assert_eq!(
        prop(&stack, "worker", "handler"),
        &value("app-prod.handler")
    );
    assert_eq!(stack.tags.get("env").map(String::as_str), Some("prod"));
}

#[test]
fn a_doubled_dollar_is_a_literal_dollar_brace() {
    let stack = ok(GOOD_STACK);
    let Expr::Map { entries } = prop(&stack, "orders", "tags") else {
        panic!("tags are a map expression")
    };
    assert_eq!(entries.get("note"), Some(&value("${not.an.expression}")));
}

#[test]
fn defaults_names_tags_and_sensitive_markers_are_filled() {
    let stack = ok(GOOD_STACK);
    assert_eq!(
        prop(&stack, "dlq", "visibility_timeout_seconds"),
        &value(30)
    );
    assert_eq!(
        prop(&stack, "orders", "visibility_timeout_seconds"),
        &value(60)
    );
    assert_eq!(prop(&stack, "orders", "name"), &value("orders-orders"));
    assert_eq!(prop(&stack, "dlq", "name"), &value("orders-dlq.fifo"));

    let Expr::Map { entries } = prop(&stack, "orders", "tags") else {
        panic!("tags are a map expression")
    };
    let tags: BTreeMap<&str, &Expr> = entries.iter().map(|(k, v)| (k.as_str(), v)).collect();
    assert_eq!(
        tags.get("team"),
        Some(&&value("orders")),
        "the resource's tag wins"
    );
    assert_eq!(
        tags.get("env"),
        Some(&&value("dev")),
        "stack tags are merged"
    );
    assert_eq!(tags.get("strata:stack"), Some(&&value("orders")));
    assert_eq!(tags.get("strata:address"), Some(&&value("orders")));
    assert!(
        !stack.resources["worker"].properties.contains_key("tags"),
        "test.function is not taggable"
    );

    assert_eq!(
        prop(&stack, "worker", "secret"),
        &Expr::Sensitive {
            inner: Box::new(Expr::Ref {
                reference: Reference::resource("orders", "url")
            })
        }
    );
}

#[test]
fn the_rest_of_the_stack_is_read_as_written() {
    let stack = ok(GOOD_STACK);
    assert_eq!(stack.name, "orders");
    assert_eq!(stack.description.as_deref(), Some("Order intake"));
    assert_eq!(stack.region.as_deref(), Some("us-east-1"));
    assert_eq!(
        stack.backend,
        Backend::S3 {
            bucket: "acme-state".into(),
            key: "orders/state.json".into(),
            region: None
        }
    );
    assert_eq!(
        stack.resources.keys().collect::<Vec<_>>(),
        vec!["orders", "dlq", "worker"]
    );
    let worker = &stack.resources["worker"];
    assert_eq!(worker.depends_on, vec!["dlq".to_string()]);
    assert!(worker.lifecycle.prevent_destroy);
    assert_eq!(
        worker.lifecycle.ignore_changes,
        vec!["memory_size".to_string()]
    );
    assert_eq!(
        worker.dependencies().into_iter().collect::<Vec<_>>(),
        vec!["dlq".to_string(), "orders".to_string()]
    );
    assert_eq!((worker.pos.line, worker.pos.column), (29, 3));
    assert_eq!(
        stack.outputs["queue_url"].value,
        Expr::Ref {
            reference: Reference::resource("orders", "url")
        }
    );
    let secret = &stack.outputs["secret"];
    assert!(secret.sensitive);
    assert_eq!(secret.description.as_deref(), Some("The secret"));
    // The policy holds a reference, so it stays an expression tree around it.
    let policy = prop(&stack, "orders", "policy");
    assert!(matches!(policy, Expr::Map { .. }), "{policy:?}");
    assert_eq!(
        policy.resource_addresses().into_iter().collect::<Vec<_>>(),
        vec!["dlq".to_string()]
    );
}

#[test]
fn a_stack_without_backend_uses_local_state_beside_the_file() {
    let stack = ok("stack: demo\n");
    assert_eq!(
        stack.backend,
        Backend::Local {
            path: PathBuf::from(".strata")
        }
    );
    assert!(stack.resources.is_empty());
}

#[test]
fn a_long_physical_name_is_cut_with_a_hash_and_keeps_the_fifo_suffix() {
    let address = "a_rather_long_queue_name_for_testing_limits";
    let stack = ok(&format!(
        "stack: orders\nresources:\n  {address}:\n    type: test.queue\n    properties: {{ fifo_queue: true }}\n"
    ));
    let Expr::Value {
        value: Value::String(name),
    } = prop(&stack, address, "name")
    else {
        panic!("the name is a string")
    };
    assert_eq!(name.len(), QUEUE_NAME_LIMIT, "{name}");
    assert!(name.starts_with("orders-a-rather-long-"), "{name}");
    assert!(name.ends_with(".fifo"), "{name}");
    let rule = catalog()
        .get("test.queue")
        .and_then(|s| s.name_rule.clone())
        .expect("a name rule");
    assert_eq!(name, &physical_name("orders", address, &rule, true));
}

#[test]
fn loading_is_deterministic_and_the_hash_follows_the_inputs() {
    let first = ok(GOOD_STACK);
    let second = ok(GOOD_STACK);
    assert_eq!(first, second);
    assert_eq!(first.source_hash.len(), 64);
    let other = load_with(GOOD_STACK, &vars(&["env=prod"])).expect("loads");
    assert_ne!(first.source_hash, other.source_hash, "params feed the hash");
    let edited = ok(&GOOD_STACK.replace("Order intake", "Orders"));
    assert_ne!(
        first.source_hash, edited.source_hash,
        "the file feeds the hash"
    );
}

#[test]
fn load_reads_the_file_and_reports_a_missing_one() {
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = temp.path();
    let path = dir.join("stack.yaml");
    std::fs::write(&path, "stack: demo\n").expect("write");
    let stack = load(&path, &LoadOptions::default(), &catalog()).expect("loads");
    assert_eq!(stack.path, path);
    let missing = load(&dir.join("nope.yaml"), &LoadOptions::default(), &catalog())
        .expect_err("missing")
        .render(false);
    assert_contains(&missing, &["cannot read stack file", "strata init"]);
}

// ---------------------------------------------------------------------------------------------
// The full shape of a few messages, as a person sees them.

#[test]
fn snapshot_unknown_property() {
    insta::assert_snapshot!(errors(
        "stack: demo\nresources:\n  orders:\n    type: test.queue\n    properties:\n      visiblity_timeout: 60\n"
    ));
}

#[test]
fn snapshot_unknown_attribute_in_a_quoted_string() {
    insta::assert_snapshot!(errors(concat!(
        "stack: demo\n",
        "resources:\n",
        "  orders:\n",
        "    type: test.queue\n",
        "  worker:\n",
        "    type: test.function\n",
        "    properties:\n",
        "      handler: \"queue ${orders.arn} at ${orders.uri}\"\n",
    )));
}

#[test]
fn snapshot_dependency_cycle() {
    insta::assert_snapshot!(errors(concat!(
        "stack: demo\n",
        "resources:\n",
        "  a:\n",
        "    type: test.function\n",
        "    properties: { handler: \"${b.arn}\" }\n",
        "  b:\n",
        "    type: test.function\n",
        "    properties: { handler: \"${a.arn}\" }\n",
    )));
}

#[test]
fn snapshot_missing_param_and_wrong_type() {
    insta::assert_snapshot!(errors(concat!(
        "stack: demo\n",
        "params:\n",
        "  cidrs: { type: list }\n",
        "resources:\n",
        "  f:\n",
        "    type: test.function\n",
        "    properties:\n",
        "      handler: index.handler\n",
        "      memory_size: \"128\"\n",
    )));
}

// ---------------------------------------------------------------------------------------------
// Sensitive params.

const SECRET_STACK: &str = "\
stack: demo
params:
  token: { type: string, sensitive: true }
  size: { type: number, default: 256, sensitive: true }
resources:
  fn:
    type: test.function
    properties:
      handler: main.handle
      memory_size: ${params.size}
      environment:
        TOKEN: ${params.token}
        HEADER: Bearer ${params.token}
";

#[test]
fn a_sensitive_param_is_marked_wherever_it_is_used_whole_or_joined() {
    let stack = load_with(SECRET_STACK, &vars(&["token=s3cr3t"])).unwrap();
    let sensitive = |v: Value| Value::Sensitive(Box::new(v));
    assert_eq!(
        prop(&stack, "fn", "memory_size"),
        &value(sensitive(Value::int(256)))
    );
    struct NoRefs;
    impl stacks::Scope for NoRefs {
        fn lookup(&self, _: &stacks::Reference) -> Option<Value> {
            None
        }
    }
    let env = prop(&stack, "fn", "environment").eval(&NoRefs);
    let env = env.as_map().unwrap();
    assert_eq!(env["TOKEN"], sensitive(Value::str("s3cr3t")));
    assert_eq!(env["HEADER"], sensitive(Value::str("Bearer s3cr3t")));
}

#[test]
fn errors_about_a_sensitive_param_never_show_its_value() {
    let text = errors_with(SECRET_STACK, &vars(&["token=s3cr3t", "size=big-s3cr3t"]));
    assert_contains(
        &text,
        &["param `size` is a number, not the value given in `--var size=(sensitive)`"],
    );
    assert!(!text.contains("s3cr3t"), "{text}");

    let allowed = SECRET_STACK.replace(
        "token: { type: string, sensitive: true }",
        "token: { type: string, sensitive: true, allowed: [a, b] }",
    );
    let text = errors_with(&allowed, &vars(&["token=s3cr3t"]));
    assert_contains(&text, &["(in `--var token=(sensitive)`)"]);

    let tagged = SECRET_STACK.replace(
        "resources:",
        "tags: { auth: \"${params.token}\" }\nresources:",
    );
    let text = errors_with(&tagged, &vars(&["token=s3cr3t"]));
    assert_contains(
        &text,
        &[
            "error: tag `auth` holds a sensitive param",
            "stack.yaml:5:15",
        ],
    );
    assert!(!text.contains("s3cr3t"), "{text}");
}

fn expr_of<'s>(stack: &'s Stack, resource: &str, property: &str) -> &'s Expr {
    &stack.resources[resource].properties[property]
}

struct Attrs(BTreeMap<String, Value>);

impl stacks::Scope for Attrs {
    fn lookup(&self, reference: &Reference) -> Option<Value> {
        Some(
            self.0
                .get(&reference.display())
                .cloned()
                .unwrap_or(Value::Unknown),
        )
    }
}

#[test]
fn locals_operators_conditionals_and_functions_are_folded_at_load_time() {
    let stack = ok(concat!(
        "stack: demo\n",
        "params:\n",
        "  env: { type: string, default: dev }\n",
        "locals:\n",
        "  name: ${format(\"%s-%d\", locals.prefix, 3)}\n",
        "  prefix: ${stack.name}-${params.env}\n",
        "  zones: { a: 1, b: 2 }\n",
        "resources:\n",
        "  f:\n",
        "    type: test.function\n",
        "    properties:\n",
        "      handler: ${upper(locals.name)}\n",
        "      memory_size: ${128 * (1 + locals.zones[\"b\"])}\n",
        "      enabled: ${params.env == \"dev\" && !false}\n",
        "      subnet_ids: ${[cidrsubnet(\"10.0.0.0/16\", 8, locals.zones.a), \"x\"]}\n",
        "      environment:\n",
        "        A: ${jsonencode({a = 1, b = [true, null]})}\n",
        "        B: '${params.env == \"prod\" ? \"big\" : \"small\"} and $${literal}'\n",
        "        C: ${join(\",\", keys(locals.zones))}\n",
    ));
    let value = |p: &str| match expr_of(&stack, "f", p) {
        Expr::Value { value } => value.clone(),
        other => panic!("`{p}` should be known at load time: {other:?}"),
    };
    assert_eq!(value("handler"), Value::str("DEMO-DEV-3"));
    assert_eq!(value("memory_size"), Value::int(384));
    assert_eq!(value("enabled"), Value::Bool(true));
    assert_eq!(
        value("subnet_ids"),
        Value::List(vec![Value::str("10.0.1.0/24"), Value::str("x")])
    );
    let env = value("environment");
    let env = env.as_map().expect("a mapping");
    assert_eq!(env["A"], Value::str(r#"{"a":1,"b":[true,null]}"#));
    assert_eq!(env["B"], Value::str("small and ${literal}"));
    assert_eq!(env["C"], Value::str("a,b"));
}

#[test]
fn an_expression_over_a_resource_is_kept_and_evaluated_when_the_value_is_known() {
    let stack = ok(concat!(
        "stack: demo\n",
        "locals:\n",
        "  queue_arn: ${q.arn}\n",
        "resources:\n",
        "  q:\n",
        "    type: test.queue\n",
        "  f:\n",
        "    type: test.function\n",
        "    properties:\n",
        "      handler: ${format(\"%s/%s\", upper(locals.queue_arn), stack.name)}\n",
        "      environment:\n",
        "        ARN: arn=${locals.queue_arn}\n",
        "        LEN: n=${length(q.url)}\n",
    ));
    assert!(stack.resources["f"].dependencies().contains("q"));
    assert!(stack
        .graph
        .edges()
        .contains(&("q".to_string(), "f".to_string())));
    let handler = expr_of(&stack, "f", "handler");
    assert!(matches!(handler, Expr::Lang { .. }), "{handler:?}");
    let known = Attrs(
        [
            ("q.arn".to_string(), Value::str("arn:q")),
            ("q.url".to_string(), Value::str("https://x")),
        ]
        .into_iter()
        .collect(),
    );
    assert_eq!(handler.try_eval(&known), Ok(Value::str("ARN:Q/demo")));
    let unknown = Attrs(BTreeMap::new());
    assert_eq!(handler.try_eval(&unknown), Ok(Value::Unknown));
    let env = expr_of(&stack, "f", "environment").eval(&known);
    let env = env.as_map().expect("a mapping");
    assert_eq!(env["ARN"], Value::str("arn=arn:q"));
    assert_eq!(env["LEN"], Value::str("n=9"));
    // Plain references still make the pieces the planner has always read.
    let saved = serde_json::to_string(handler).expect("serializes");
    let back: Expr = serde_json::from_str(&saved).expect("deserializes");
    assert_eq!(&back, handler);
}

#[test]
fn a_sensitive_param_stays_sensitive_through_functions() {
    let stack = ok(concat!(
        "stack: demo\n",
        "params:\n",
        "  token: { type: string, default: s3cret, sensitive: true }\n",
        "resources:\n",
        "  q:\n",
        "    type: test.queue\n",
        "  f:\n",
        "    type: test.function\n",
        "    properties:\n",
        "      handler: ${upper(params.token)}\n",
        "      environment:\n",
        "        T: ${format(\"%s:%s\", params.token, q.arn)}\n",
    ));
    match expr_of(&stack, "f", "handler") {
        Expr::Value { value } => {
            assert_eq!(value, &Value::Sensitive(Box::new(Value::str("S3CRET"))))
        }
        other => panic!("{other:?}"),
    }
    let known = Attrs(
        [("q.arn".to_string(), Value::str("a"))]
            .into_iter()
            .collect(),
    );
    let env = expr_of(&stack, "f", "environment").eval(&known);
    assert!(env.as_map().expect("map")["T"].has_sensitive());
}

#[test]
fn expression_errors_point_at_the_part_that_is_wrong() {
    let text = errors(concat!(
        "stack: demo\n",
        "params:\n",
        "  env: { type: string, default: dev }\n",
        "resources:\n",
        "  f:\n",
        "    type: test.function\n",
        "    properties:\n",
        "      handler: ${uper(params.env)}\n",
        "      memory_size: ${abs(\"x\")}\n",
        "      subnet_ids: ${[cidrsubnet(\"10.0.0.0/16\", 8, 300)]}\n",
        "      environment:\n",
        "        A: ${upper(params.env, 1)}\n",
        "        B: ok ${1 +}\n",
        "        C: ${each.key}\n",
        "        D: ${params.env[0]}\n",
    ));
    assert_contains(
        &text,
        &[
            "unknown function `uper`",
            "stack.yaml:8:18",
            "did you mean `upper`?",
            "argument 1 (`number`) of `abs` must be a number, not the string \"x\"",
            "stack.yaml:9:26",
            "`cidrsubnet`: prefix extension of 8 does not accommodate a subnet numbered 300",
            "stack.yaml:10:22",
            "`upper` takes 1 argument, but 2 are given",
            "stack.yaml:12:14",
            "its signature is upper(string: string)",
            "expected a value, found end of expression",
            "stack.yaml:13:20",
            "`${each.key}` is only known inside a resource with `for_each`",
            "stack.yaml:14:12",
            "a string cannot be indexed",
            "stack.yaml:15:14",
        ],
    );
}

#[test]
fn a_locals_cycle_names_the_cycle_where_it_closes() {
    let text = errors(concat!(
        "stack: demo\n",
        "locals:\n",
        "  a: ${locals.b}\n",
        "  b: x-${locals.c}\n",
        "  c: ${upper(locals.a)}\n",
        "  d: ${locals.nope}\n",
    ));
    assert_contains(
        &text,
        &[
            "locals use each other in a cycle: locals.a -> locals.b -> locals.c -> locals.a",
            "stack.yaml:5:14",
            "unknown local `nope`",
            "stack.yaml:6:6",
        ],
    );
    assert_eq!(text.matches("error:").count(), 2, "{text}");
}

#[test]
fn a_local_that_references_its_user_is_a_self_reference() {
    let text = errors(concat!(
        "stack: demo\n",
        "locals:\n",
        "  arn: ${f.arn}\n",
        "resources:\n",
        "  f:\n",
        "    type: test.function\n",
        "    properties:\n",
        "      handler: ${locals.arn}\n",
    ));
    assert_contains(
        &text,
        &["references itself through local `arn`", "stack.yaml:8:16"],
    );
}
