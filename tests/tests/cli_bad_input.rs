//! Bad input is an error before any cloud call: exit 1, `file:line:column`, the source line,
//! a hint, and no state created. The endpoint points at a closed port, so any AWS call would
//! show up as a connection error instead of the stack error asserted here.

use strata_tests::dead_endpoint;
use strata_tests::run_strata;

/// (what, stack text, expected location, a phrase the message must hold)
const CASES: &[(&str, &str, &str, &str)] = &[
    (
        "malformed YAML",
        "stack: demo\nresources:\n  q:\n    type: [aws.sqs.queue\n",
        "stack.yaml:4:11",
        "invalid YAML",
    ),
    (
        "duplicate key",
        "stack: demo\nresources:\n  q:\n    type: aws.sqs.queue\n    type: aws.sns.topic\n",
        "stack.yaml:5:5",
        "duplicate mapping key `type`",
    ),
    ("not a mapping", "- one\n- two\n", "stack.yaml:1:1", "mapping"),
    (
        "unknown top-level key",
        "stack: demo\nresorces: {}\n",
        "stack.yaml:2:1",
        "did you mean `resources`",
    ),
    (
        "unknown type",
        "stack: demo\nresources:\n  q:\n    type: aws.sqs.queu\n",
        "stack.yaml:4:11",
        "aws.sqs.queue",
    ),
    (
        "unknown property",
        "stack: demo\nresources:\n  q:\n    type: aws.sqs.queue\n    properties:\n      visiblity_timeout: 3\n",
        "stack.yaml:6:7",
        "did you mean `visibility_timeout_seconds`",
    ),
    (
        "missing required property",
        "stack: demo\nresources:\n  p:\n    type: aws.sqs.queue_policy\n    properties: {}\n",
        "stack.yaml:5:5",
        "missing required property `queue_url`",
    ),
    (
        "wrong value type",
        "stack: demo\nresources:\n  q:\n    type: aws.sqs.queue\n    properties:\n      visibility_timeout_seconds: soon\n",
        "stack.yaml:6:35",
        "number",
    ),
    (
        "value outside allowed",
        "stack: demo\nparams:\n  env: { type: string, default: qa, allowed: [dev, prod] }\n",
        "stack.yaml:3:33",
        "`qa` is not an allowed value of param `env`",
    ),
    (
        "unknown param",
        "stack: demo\nresources:\n  q:\n    type: aws.sqs.queue\n    properties:\n      name: \"${params.nme}\"\n",
        "stack.yaml:6:14",
        "unknown param `nme`",
    ),
    (
        "unclosed expression",
        "stack: demo\nresources:\n  q:\n    type: aws.sqs.queue\n    properties:\n      name: \"x-${stack.name\"\n",
        "stack.yaml:6:16",
        "unclosed `${`",
    ),
    (
        "reference to an unknown resource",
        "stack: demo\nresources:\n  q:\n    type: aws.sqs.queue\n    properties:\n      name: \"${nope.arn}\"\n",
        "stack.yaml:6:14",
        "unknown resource `nope`",
    ),
    (
        "unknown attribute",
        "stack: demo\nresources:\n  q:\n    type: aws.sqs.queue\n  r:\n    type: aws.sqs.queue\n    properties:\n      name: \"${q.ur}\"\n",
        "stack.yaml:8:14",
        "did you mean `url`",
    ),
    (
        "depends_on an unknown resource",
        "stack: demo\nresources:\n  q:\n    type: aws.sqs.queue\n    depends_on: [ghost]\n",
        "stack.yaml:5:18",
        "unknown resource `ghost`",
    ),
    (
        "dependency cycle",
        "stack: demo\nresources:\n  a:\n    type: aws.sqs.queue\n    depends_on: [b]\n  b:\n    type: aws.sqs.queue\n    depends_on: [a]\n",
        "stack.yaml:3:3",
        "dependency cycle: a -> b -> a",
    ),
    (
        "a CIDR block with a prefix past 32",
        "stack: demo\nresources:\n  vpc:\n    type: aws.ec2.vpc\n    properties:\n      cidr_block: 10.0.0.0/33\n",
        "stack.yaml:6:19",
        "`10.0.0.0/33` is not a CIDR block (the prefix is not 0 to 32)",
    ),
    (
        "a CIDR block that is not its network's first address",
        "stack: demo\nresources:\n  vpc:\n    type: aws.ec2.vpc\n    properties:\n      cidr_block: 10.0.1.0/16\n",
        "stack.yaml:6:19",
        "write `10.0.0.0/16`",
    ),
    (
        "a string that is not an ARN where an ARN is required",
        "stack: demo\nresources:\n  s:\n    type: aws.sns.subscription\n    properties:\n      topic_arn: orders\n      protocol: sqs\n      endpoint: arn:aws:sqs:us-east-1:123456789012:q\n",
        "stack.yaml:6:18",
        "`orders` is not an ARN for property `topic_arn`",
    ),
    (
        "an ARN of the wrong service",
        "stack: demo\nresources:\n  q:\n    type: aws.sqs.queue\n    properties:\n      redrive_policy:\n        dead_letter_target_arn: arn:aws:sns:us-east-1:123456789012:t\n        max_receive_count: 3\n",
        "stack.yaml:7:33",
        "is an ARN of sns, not an ARN of sqs",
    ),
    (
        "a number outside AWS's range",
        "stack: demo\nresources:\n  q:\n    type: aws.sqs.queue\n    properties:\n      visibility_timeout_seconds: 50000\n",
        "stack.yaml:6:35",
        "AWS takes 0 to 43200",
    ),
    (
        "an unknown Lambda runtime",
        "stack: demo\nresources:\n  f:\n    type: aws.lambda.function\n    properties:\n      runtime: python2.9\n      handler: app.handler\n      role: arn:aws:iam::123456789012:role/r\n      code: { path: . }\n",
        "stack.yaml:6:16",
        "`python2.9` is not an allowed value of property `runtime`",
    ),
    (
        "a Lambda code path naming a plain file",
        "stack: demo\nresources:\n  f:\n    type: aws.lambda.function\n    properties:\n      runtime: python3.12\n      handler: app.handler\n      role: arn:aws:iam::123456789012:role/r\n      code: { path: stack.yaml }\n",
        "stack.yaml:9:21",
        "is neither a directory nor a .zip file",
    ),
    (
        "properties AWS refuses together",
        "stack: demo\nresources:\n  f:\n    type: aws.lambda.function\n    properties:\n      runtime: python3.12\n      handler: app.handler\n      role: arn:aws:iam::123456789012:role/r\n      code: { path: ., s3_bucket: b, s3_key: k.zip }\n",
        "stack.yaml:9:15",
        "`code.path` and `code.s3_bucket` cannot both be given",
    ),
    (
        "a property without the one AWS needs beside it",
        "stack: demo\nresources:\n  q:\n    type: aws.sqs.queue\n  s:\n    type: aws.kinesis.stream\n    properties:\n      shard_count: 1\n      kms_key_id: alias/aws/kinesis\n",
        "stack.yaml:9:7",
        "`kms_key_id` needs `encryption_type`",
    ),
    ("invalid stack name", "stack: Demo_Stack\n", "stack.yaml:1:8", "[a-z]"),
    (
        "invalid resource name",
        "stack: demo\nresources:\n  Work-Queue:\n    type: aws.sqs.queue\n",
        "stack.yaml:3:3",
        "[a-z]",
    ),
];

#[test]
fn every_kind_of_bad_input_exits_1_naming_the_line_before_any_cloud_call_and_without_state() {
    let env = dead_endpoint();
    let mut failures = Vec::new();
    for (what, text, location, phrase) in CASES {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("stack.yaml"), text).unwrap();
        for command in [
            &["validate"][..],
            &["plan"][..],
            &["apply", "--auto-approve"][..],
        ] {
            let run = run_strata(dir.path(), command, &env);
            let ok = run.code == 1
                && run.stderr.contains("error")
                && run.stderr.contains(location)
                && run.stderr.contains(phrase)
                && !run.stderr.contains("dispatch failure")
                && !run.stderr.contains("panicked")
                && !dir.path().join(".strata").exists();
            if !ok {
                failures.push(format!(
                    "{what} / strata {}: exit {} (want 1, `{location}`, `{phrase}`, no .strata)\n{}",
                    command.join(" "),
                    run.code,
                    run.stderr
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_missing_stack_file_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_strata(dir.path(), &["plan"], &dead_endpoint());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("stack.yaml"), "{}", run.stderr);
}

#[test]
fn a_stack_or_var_file_that_is_a_device_is_refused_not_read_until_memory_runs_out() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_strata(dir.path(), &["plan", "-f", "/dev/zero"], &dead_endpoint());
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("cannot read stack file `/dev/zero`: it is not a regular file"),
        "{}",
        run.stderr
    );
    std::fs::write(
        dir.path().join("stack.yaml"),
        "stack: demo\nresources: {}\n",
    )
    .unwrap();
    let run = run_strata(
        dir.path(),
        &["plan", "--var-file", "/dev/zero"],
        &dead_endpoint(),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("cannot read var file `/dev/zero`: it is not a regular file"),
        "{}",
        run.stderr
    );
    // A file over the cap is refused the same way.
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, vec![b'#'; 17 * 1024 * 1024]).unwrap();
    let run = run_strata(
        dir.path(),
        &["validate", "-f", "big.yaml"],
        &dead_endpoint(),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("it is larger than 16 MiB"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_param_of_the_wrong_type_from_the_command_line_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("stack.yaml"),
        "stack: demo\nparams:\n  memory: { type: number, default: 256 }\n",
    )
    .unwrap();
    let run = run_strata(
        dir.path(),
        &["validate", "--var", "memory=lots"],
        &dead_endpoint(),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("memory"), "{}", run.stderr);
}
