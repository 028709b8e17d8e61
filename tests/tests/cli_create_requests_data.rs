//! Storage and monitoring creates read nothing back either. Through the recording proxy, a
//! bucket with every optional setting (versioning, KMS encryption, lifecycle rules, a partial
//! public access block, CORS rules, object ownership, tags) and one with none make
//! `CreateBucket` and their `Put*` calls only: no `HeadBucket`, no `Get*` (a bucket S3 does not
//! know yet is waited out by the first `Put`, which retries `NoSuchBucket`). Log groups (one
//! with retention and tags, one with neither) are `CreateLogGroup` and `PutRetentionPolicy`,
//! their ARNs derived; metric filters one `PutMetricFilter` each; alarms (one with every
//! setting, one with an extended statistic and actions off) the name check and one
//! `PutMetricAlarm` each. Tables (one with indexes, a stream, time to live, point-in-time
//! recovery and tags, one provisioned with none) are `CreateTable` and the calls turning time to
//! live and recovery on, with no `DescribeTable` (the emulator answers `ACTIVE`, so there is
//! nothing to wait for) and no read of what was just set. Parameters (a tagged `String` with a
//! description and pattern, an `Advanced` `StringList`, a `SecureString` under AWS's default
//! key) are one `PutParameter` each; secrets `CreateSecret` (and `PutResourcePolicy`); Kinesis
//! streams their create and settings, each waited for until `ACTIVE`, with no read after;
//! Firehose delivery streams their create and the wait for `ACTIVE`. The state they leave equals, property by
//! property, what the provider reads from the emulator (the defaults S3 gives a bucket with
//! none of the settings included), and plans with and without refresh are empty.

use strata_tests::kit::assert_apply_asks;

const STACK: &str = r#"
stack: lean-data
region: us-east-1
tags: { team: data }
resources:
  plain:
    type: aws.s3.bucket
    properties: { bucket: lean-data-plain }
  full:
    type: aws.s3.bucket
    properties:
      bucket: lean-data-full
      force_destroy: true
      versioning: true
      server_side_encryption: { sse_algorithm: "aws:kms", kms_master_key_id: alias/data, bucket_key_enabled: true }
      lifecycle_rules:
        - id: logs
          prefix: logs/
          expiration_days: 90
          transitions: [{ days: 30, storage_class: STANDARD_IA }]
        - { id: uploads, status: Disabled, abort_incomplete_multipart_upload_days: 2, noncurrent_version_expiration_days: 10 }
      public_access_block: { block_public_policy: false }
      cors_rules:
        - { allowed_methods: [GET, PUT], allowed_origins: ["https://app.example.com"], allowed_headers: ["*"], max_age_seconds: 300 }
        - { allowed_methods: [GET], allowed_origins: ["*"], expose_headers: [ETag], id: anyone }
      object_ownership: BucketOwnerPreferred
      tags: { tier: gold }
  app_logs:
    type: aws.logs.log_group
    properties: { retention_in_days: 14, tags: { tier: gold } }
  audit_logs:
    type: aws.logs.log_group
  errors:
    type: aws.logs.metric_filter
    properties:
      log_group_name: ${app_logs.name}
      pattern: '{ $.level = "ERROR" }'
      metric_transformation: { name: AppErrors, namespace: Lean, value: "1", default_value: 0, unit: Count }
  warnings:
    type: aws.logs.metric_filter
    properties:
      log_group_name: ${app_logs.name}
      pattern: WARN
      metric_transformation: { name: AppWarnings, namespace: Lean, value: "1" }
  errors_alarm:
    type: aws.cloudwatch.metric_alarm
    properties:
      namespace: Lean
      metric_name: AppErrors
      statistic: Sum
      period: 60
      evaluation_periods: 3
      datapoints_to_alarm: 2
      threshold: 1.5
      comparison_operator: GreaterThanOrEqualToThreshold
      treat_missing_data: notBreaching
      alarm_description: the app logged errors
      dimensions: { service: app, stage: live }
      alarm_actions: ["${alerts.arn}"]
      ok_actions: ["${alerts.arn}"]
      tags: { tier: gold }
    depends_on: [errors]
  quiet_alarm:
    type: aws.cloudwatch.metric_alarm
    properties:
      namespace: AWS/SQS
      metric_name: ApproximateAgeOfOldestMessage
      extended_statistic: p90
      period: 300
      evaluation_periods: 1
      threshold: 600
      comparison_operator: GreaterThanThreshold
      actions_enabled: false
  alerts:
    type: aws.sns.topic
  orders:
    type: aws.dynamodb.table
    properties:
      hash_key: pk
      range_key: sk
      attributes: [{ name: pk, type: S }, { name: sk, type: S }, { name: status, type: S }, { name: placed, type: N }]
      global_secondary_indexes:
        - { name: by_status, hash_key: status, range_key: placed, projection_type: INCLUDE, non_key_attributes: [total] }
      local_secondary_indexes:
        - { name: by_placed, range_key: placed, projection_type: KEYS_ONLY }
      ttl: { attribute_name: expires_at, enabled: true }
      point_in_time_recovery: true
      stream_enabled: true
      stream_view_type: NEW_AND_OLD_IMAGES
      tags: { tier: gold }
  sessions:
    type: aws.dynamodb.table
    properties:
      hash_key: id
      attributes: [{ name: id, type: S }]
      billing_mode: PROVISIONED
      read_capacity: 2
      write_capacity: 1
  endpoint:
    type: aws.ssm.parameter
    properties:
      name: /lean/endpoint
      type: String
      value: https://api.example.com
      description: Where the API is
      allowed_pattern: "^https://.*"
      tags: { tier: gold }
  hosts:
    type: aws.ssm.parameter
    properties: { name: lean-hosts, type: StringList, value: "a,b,c", tier: Advanced }
  password:
    type: aws.ssm.parameter
    properties: { name: /lean/password, type: SecureString, value: hunter2 }
  db_secret:
    type: aws.secretsmanager.secret
    properties:
      name: lean/db
      description: The database login
      recovery_window_in_days: 7
      policy:
        Version: "2012-10-17"
        Statement:
          Effect: Deny
          Principal: { AWS: "*" }
          Action: secretsmanager:DeleteSecret
          Resource: "*"
      tags: { tier: gold }
  api_secret:
    type: aws.secretsmanager.secret
    properties: { name: lean/api }
  clicks:
    type: aws.kinesis.stream
    properties:
      shard_count: 2
      retention_period: 48
      shard_level_metrics: [IncomingBytes, OutgoingBytes]
      tags: { tier: gold }
  events:
    type: aws.kinesis.stream
    properties: { stream_mode_details: { stream_mode: ON_DEMAND } }
  delivery_role:
    type: aws.iam.role
    properties:
      assume_role_policy:
        Version: "2012-10-17"
        Statement: { Effect: Allow, Principal: { Service: firehose.amazonaws.com }, Action: sts:AssumeRole }
  clicks_to_s3:
    type: aws.firehose.delivery_stream
    properties:
      destination: extended_s3
      kinesis_source_configuration: { kinesis_stream_arn: "${clicks.arn}", role_arn: "${delivery_role.arn}" }
      extended_s3_configuration:
        role_arn: ${delivery_role.arn}
        bucket_arn: ${full.arn}
        prefix: clicks/
        error_output_prefix: errors/
        buffering_interval: 60
        compression_format: GZIP
      tags: { tier: gold }
  direct_to_s3:
    type: aws.firehose.delivery_stream
    properties:
      destination: extended_s3
      extended_s3_configuration: { role_arn: "${delivery_role.arn}", bucket_arn: "${plain.arn}" }
"#;

#[tokio::test(flavor = "multi_thread")]
async fn storage_creates_read_nothing_back_and_record_what_aws_holds() {
    // Nothing but what is listed: no read back (the one look-up of the account aside).
    let expected = [
        // Both buckets: made, then their public access block and encryption always written
        // (whatever the account's defaults); both tagged (the stack's tags).
        ("s3:CreateBucket", 2),
        ("s3:PutPublicAccessBlock", 2),
        ("s3:PutBucketEncryption", 2),
        ("s3:PutBucketTagging", 2),
        // The full one's own settings.
        ("s3:PutBucketVersioning", 1),
        ("s3:PutBucketLifecycleConfiguration", 1),
        ("s3:PutBucketCors", 1),
        // Log groups: one create each (tags in it), retention where it expires; nothing read
        // back, the ARN derived from the account.
        ("logs:CreateLogGroup", 2),
        ("logs:PutRetentionPolicy", 1),
        // Metric filters: one put each.
        ("logs:PutMetricFilter", 2),
        // Alarms: the check that no alarm has the name (a put would take it over), then one
        // put each (tags in it).
        ("monitoring:DescribeAlarms", 2),
        ("monitoring:PutMetricAlarm", 2),
        ("sns:CreateTopic", 1),
        // Tables: one create each (tags in it; the emulator answers ACTIVE, so nothing is
        // waited for), time to live and point-in-time recovery turned on where asked (the
        // answer says recovery is on: not waited for).
        ("dynamodb:CreateTable", 2),
        ("dynamodb:UpdateTimeToLive", 1),
        ("dynamodb:UpdateContinuousBackups", 1),
        // Parameters: one put each (tags in it), their ARNs derived.
        ("ssm:PutParameter", 3),
        // Secrets: one create each (tags in it), the policy put where given.
        ("secretsmanager:CreateSecret", 2),
        ("secretsmanager:PutResourcePolicy", 1),
        // Streams: made, waited for until ACTIVE (the emulator answers so at once), each
        // setting then made and waited for; tags added (the emulator ignores them in
        // `CreateStream`); the last wait's summary recorded, nothing else read.
        ("kinesis:CreateStream", 2),
        ("kinesis:DescribeStreamSummary", 4),
        ("kinesis:IncreaseStreamRetentionPeriod", 1),
        ("kinesis:EnableEnhancedMonitoring", 1),
        ("kinesis:AddTagsToStream", 2),
        // Delivery streams: made (tags in it), waited for until ACTIVE, the wait's
        // description recorded. Their role: one create.
        ("iam:CreateRole", 1),
        ("firehose:CreateDeliveryStream", 2),
        ("firehose:DescribeDeliveryStream", 2),
    ];
    assert_apply_asks(STACK, "lean-data", &expected).await;
}
