//! `aws.dynamodb.table`: a DynamoDB table with its indexes, stream, time to live, point-in-time
//! recovery, encryption and tags.
//!
//! A table is one `CreateTable`, then (once it is `ACTIVE`) the settings DynamoDB keeps apart:
//! time to live (`UpdateTimeToLive`) and point-in-time recovery (`UpdateContinuousBackups`).
//! An update changes each setting with its own API, in the order terraform-provider-aws uses:
//! global secondary indexes that go are deleted first (one per `UpdateTable`, as DynamoDB allows
//! one index change per call), then one `UpdateTable` for billing, capacity, stream, table
//! class and deletion protection, then new indexes are created (one per call), then encryption
//! (which DynamoDB takes only alone), time to live, tags and point-in-time recovery. The table
//! and its indexes are waited for between steps. The id is the table name.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_table::builders::UpdateTableFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateGlobalSecondaryIndexAction,
    DeleteGlobalSecondaryIndexAction, GlobalSecondaryIndex, GlobalSecondaryIndexUpdate,
    IndexStatus, KeySchemaElement, KeyType, LocalSecondaryIndex, PointInTimeRecoverySpecification,
    PointInTimeRecoveryStatus, Projection, ProjectionType, ProvisionedThroughput,
    ScalarAttributeType, SseSpecification, SseStatus, SseType, StreamSpecification, StreamViewType,
    TableClass, TableDescription, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
    UpdateGlobalSecondaryIndexAction,
};
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::{TableTags, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, given, in_prior_order, required_str};
use crate::retry::{wait_for, with_backoff, Wait};
use crate::tags::{reconcile, tag_strings, tags_value};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.dynamodb.table";

/// DynamoDB's limit on a table name.
const NAME_MAX_LEN: usize = 255;

const PAY_PER_REQUEST: &str = "PAY_PER_REQUEST";
const PROVISIONED: &str = "PROVISIONED";
/// The projection of an index that gives none: every attribute.
const PROJECTION_ALL: &str = "ALL";
const PROJECTION_INCLUDE: &str = "INCLUDE";
/// The class of a table that names none.
const STANDARD: &str = "STANDARD";

/// How long a new table may take to become `ACTIVE` (terraform-provider-aws:
/// `createTableTimeout`), looking every 5 s.
const TABLE_CREATED: Wait = Wait {
    timeout: Duration::from_secs(30 * 60),
    interval: Duration::from_secs(5),
};

/// How long each step of an update may take to settle: the table `ACTIVE` and every global
/// secondary index `ACTIVE` (a new index backfills first) or gone. terraform-provider-aws waits
/// the larger of its per-step budget (`updateTableTimeout`, 20 min) and the resource's update
/// timeout (`updateTableTimeoutTotal`, 60 min), so 60 min; looking every 5 s.
const TABLE_UPDATED: Wait = Wait {
    timeout: Duration::from_secs(60 * 60),
    interval: Duration::from_secs(5),
};

/// How long a deleted table may stay `DELETING` (terraform-provider-aws: `deleteTableTimeout`).
const TABLE_DELETED: Wait = Wait {
    timeout: Duration::from_secs(10 * 60),
    interval: Duration::from_secs(5),
};

/// How long a time-to-live change may take to show (terraform-provider-aws waits the larger of
/// `ttlUpdateTimeout`, 30 s, and the update timeout), looking every 5 s.
const TTL_UPDATED: Wait = Wait {
    timeout: Duration::from_secs(60 * 60),
    interval: Duration::from_secs(5),
};

/// How long a point-in-time recovery change may take to show (terraform-provider-aws:
/// `pitrUpdateTimeout` or the update timeout, whichever is larger; it looks every 15 s).
const PITR_UPDATED: Wait = Wait {
    timeout: Duration::from_secs(60 * 60),
    interval: Duration::from_secs(15),
};

/// How long `UpdateContinuousBackups` keeps retrying "Backups are being enabled" on a new table
/// (terraform-provider-aws: `updateTableContinuousBackupsTimeout`).
const CONTINUOUS_BACKUPS_BUDGET: Duration = Duration::from_secs(20 * 60);

/// How long `CreateTable` keeps retrying while the account has too many tables changing at
/// once ("can be created, updated, or deleted simultaneously"), as terraform-provider-aws does
/// within its create timeout.
const TABLE_LIMIT_BUDGET: Duration = Duration::from_secs(30 * 60);

/// How long `UpdateTable` and `DeleteTable` keep retrying a table that is still changing
/// (`ResourceInUseException`) or an account at its limit of tables changing at once.
const TABLE_BUSY_BUDGET: Duration = Duration::from_secs(10 * 60);

/// The table's properties, with AWS's fixed defaults where it has them.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String).force_new(),
            Prop::new("hash_key", Kind::String).required().force_new(),
            Prop::new("range_key", Kind::String).force_new(),
            Prop::new(
                "attributes",
                Kind::List(Box::new(Kind::Object(vec![
                    Prop::new("name", Kind::String).required(),
                    Prop::new("type", Kind::String)
                        .required()
                        .allowed(&["S", "N", "B"]),
                ]))),
            )
            .required(),
            Prop::new("billing_mode", Kind::String)
                .default(PAY_PER_REQUEST)
                .allowed(&[PAY_PER_REQUEST, PROVISIONED]),
            Prop::new("read_capacity", Kind::Integer),
            Prop::new("write_capacity", Kind::Integer),
            Prop::new(
                "global_secondary_indexes",
                Kind::List(Box::new(Kind::Object(vec![
                    Prop::new("name", Kind::String).required(),
                    Prop::new("hash_key", Kind::String).required(),
                    Prop::new("range_key", Kind::String),
                    Prop::new("projection_type", Kind::String).allowed(PROJECTION_TYPES),
                    Prop::new("non_key_attributes", Kind::List(Box::new(Kind::String))),
                    Prop::new("read_capacity", Kind::Integer),
                    Prop::new("write_capacity", Kind::Integer),
                ]))),
            )
            .resettable(),
            Prop::new(
                "local_secondary_indexes",
                Kind::List(Box::new(Kind::Object(vec![
                    Prop::new("name", Kind::String).required(),
                    Prop::new("range_key", Kind::String).required(),
                    Prop::new("projection_type", Kind::String).allowed(PROJECTION_TYPES),
                    Prop::new("non_key_attributes", Kind::List(Box::new(Kind::String))),
                ]))),
            )
            .force_new(),
            Prop::new("stream_enabled", Kind::Bool).default(false),
            Prop::new("stream_view_type", Kind::String)
                .requires(&["stream_enabled"])
                .allowed(&["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"]),
            Prop::new(
                "ttl",
                Kind::Object(vec![
                    Prop::new("attribute_name", Kind::String),
                    Prop::new("enabled", Kind::Bool),
                ]),
            )
            .resettable(),
            Prop::new("point_in_time_recovery", Kind::Bool).default(false),
            Prop::new(
                "server_side_encryption",
                Kind::Object(vec![
                    Prop::new("enabled", Kind::Bool).required(),
                    Prop::new("kms_key_arn", Kind::String).arn(&["kms"]),
                ]),
            )
            .resettable(),
            Prop::new("deletion_protection_enabled", Kind::Bool).default(false),
            Prop::new("table_class", Kind::String)
                .default(STANDARD)
                .allowed(&[STANDARD, "STANDARD_INFREQUENT_ACCESS"]),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["arn", "name", "stream_arn"],
        taggable: true,
        check: Some(stacks::PropsCheck(check_props)),
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

const PROJECTION_TYPES: &[&str] = &[PROJECTION_ALL, "KEYS_ONLY", PROJECTION_INCLUDE];

/// How the catalogue knows `aws.dynamodb.table`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(TableProvider::new(ctx)),
    about: "A DynamoDB table; global secondary indexes are added and removed in place, one \
            `UpdateTable` per index, waiting for the table and index to be `ACTIVE` between \
            steps; time to live and point-in-time recovery are set once the table is `ACTIVE`.",
    import_id: "the table name",
    attributes: &[
        ("arn", "the table's ARN"),
        ("name", "the table name"),
        (
            "stream_arn",
            "the ARN of the table's stream while `stream_enabled` (what an \
             `aws.lambda.event_source_mapping` reads from), else null",
        ),
    ],
    property_notes: &[
        (
            "attributes",
            "only the attributes used as keys of the table or of an index (DynamoDB keeps no \
             others); each key needs one",
        ),
        (
            "read_capacity",
            "required with `PROVISIONED` billing, refused with `PAY_PER_REQUEST` (as is \
             `write_capacity`, and the same pair on each global secondary index)",
        ),
        (
            "global_secondary_indexes",
            "an index whose keys or projection change is deleted and created again; an \
             index's `projection_type` is `ALL` when not given",
        ),
        (
            "local_secondary_indexes",
            "an index's `projection_type` is `ALL` when not given",
        ),
        (
            "stream_view_type",
            "required while `stream_enabled`, refused without it; a new view type turns the \
             stream off and on again (a new `stream_arn`)",
        ),
        (
            "server_side_encryption",
            "enabled means a KMS key (the AWS managed key unless `kms_key_arn` names one); \
             taken out, the table goes back to an AWS owned key",
        ),
        (
            "deletion_protection_enabled",
            "while true, destroying or replacing the table fails: turn it off first",
        ),
    ],
    actions: Actions {
        create: &[
            "dynamodb:CreateTable",
            "dynamodb:DescribeTable",
            "dynamodb:TagResource",
            "dynamodb:UpdateTimeToLive",
            "dynamodb:UpdateContinuousBackups",
            "dynamodb:DescribeContinuousBackups",
        ],
        read: &[
            "dynamodb:DescribeTable",
            "dynamodb:DescribeTimeToLive",
            "dynamodb:DescribeContinuousBackups",
            "dynamodb:ListTagsOfResource",
        ],
        update: &[
            "dynamodb:UpdateTable",
            "dynamodb:DescribeTable",
            "dynamodb:UpdateTimeToLive",
            "dynamodb:DescribeTimeToLive",
            "dynamodb:UpdateContinuousBackups",
            "dynamodb:DescribeContinuousBackups",
            "dynamodb:TagResource",
            "dynamodb:UntagResource",
            "dynamodb:ListTagsOfResource",
        ],
        delete: &["dynamodb:DeleteTable", "dynamodb:DescribeTable"],
    },
    resources: &["arn:{partition}:dynamodb:{region}:{account}:table/{name}"],
    passes_role: &[],
};

/// A secondary index as strata compares it (a local index's hash key is the table's).
#[derive(Clone, Debug, PartialEq)]
struct Index {
    name: String,
    hash_key: String,
    range_key: Option<String>,
    projection_type: String,
    non_key_attributes: Vec<String>,
    read_capacity: Option<i64>,
    write_capacity: Option<i64>,
}

impl Index {
    /// True when `other` has the same keys and projection: what DynamoDB cannot change on an
    /// existing index (only its capacity).
    fn same_shape(&self, other: &Index) -> bool {
        let attrs = |ix: &Index| {
            ix.non_key_attributes
                .iter()
                .cloned()
                .collect::<BTreeSet<_>>()
        };
        self.hash_key == other.hash_key
            && self.range_key == other.range_key
            && self.projection_type == other.projection_type
            && attrs(self) == attrs(other)
    }

    fn key_schema(&self) -> Result<Vec<KeySchemaElement>> {
        key_schema(&self.hash_key, self.range_key.as_deref())
    }

    fn projection(&self) -> Projection {
        Projection::builder()
            .projection_type(ProjectionType::from(self.projection_type.as_str()))
            .set_non_key_attributes(
                (!self.non_key_attributes.is_empty()).then(|| self.non_key_attributes.clone()),
            )
            .build()
    }

    fn throughput(&self) -> Result<Option<ProvisionedThroughput>> {
        throughput(self.read_capacity, self.write_capacity)
    }

    /// The index from what DynamoDB describes.
    fn from_aws(
        name: Option<&str>,
        keys: &[KeySchemaElement],
        projection: Option<&Projection>,
        capacity: Option<(i64, i64)>,
    ) -> Index {
        let key = |kind: KeyType| {
            keys.iter()
                .find(|k| *k.key_type() == kind)
                .map(|k| k.attribute_name().to_string())
        };
        Index {
            name: name.unwrap_or_default().to_string(),
            hash_key: key(KeyType::Hash).unwrap_or_default(),
            range_key: key(KeyType::Range),
            projection_type: projection
                .and_then(|p| p.projection_type())
                .map(|t| t.as_str().to_string())
                .unwrap_or_else(|| PROJECTION_ALL.to_string()),
            non_key_attributes: projection
                .map(|p| p.non_key_attributes().to_vec())
                .unwrap_or_default(),
            read_capacity: capacity.map(|c| c.0).filter(|n| *n > 0),
            write_capacity: capacity.map(|c| c.1).filter(|n| *n > 0),
        }
    }

    /// The index as the stack writes it: optional fields only where they say something (a
    /// projection other than `ALL`, or one the stack spelled out; capacity only when
    /// provisioned), so a second plan is empty whichever way the stack wrote it.
    fn to_value(&self, prior: Option<&Map>, local: bool, provisioned: bool) -> Value {
        let prior_has = |field: &str| prior.is_some_and(|p| given(p, field).is_some());
        let mut item = Map::from([("name".to_string(), Value::str(&self.name))]);
        if !local {
            item.insert("hash_key".into(), Value::str(&self.hash_key));
        }
        if let Some(range) = &self.range_key {
            item.insert("range_key".into(), Value::str(range));
        }
        if self.projection_type != PROJECTION_ALL || prior_has("projection_type") {
            item.insert("projection_type".into(), Value::str(&self.projection_type));
        }
        if !self.non_key_attributes.is_empty() {
            let prior_order = prior
                .and_then(|p| given(p, "non_key_attributes"))
                .and_then(|v| v.as_list().map(<[Value]>::to_vec))
                .unwrap_or_default();
            let ordered = in_prior_order(
                prior_order
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string)),
                self.non_key_attributes.clone(),
                |a| Some(a.clone()),
            );
            item.insert(
                "non_key_attributes".into(),
                Value::List(ordered.into_iter().map(Value::String).collect()),
            );
        }
        if provisioned && !local {
            for (field, value) in [
                ("read_capacity", self.read_capacity),
                ("write_capacity", self.write_capacity),
            ] {
                if let Some(n) = value {
                    item.insert(field.into(), Value::int(n));
                }
            }
        }
        Value::Map(item)
    }
}

/// What the stack asks of a table, read out of its properties.
#[derive(Clone, Debug)]
struct Spec {
    hash_key: String,
    range_key: Option<String>,
    attributes: Vec<(String, String)>,
    billing_mode: String,
    read_capacity: Option<i64>,
    write_capacity: Option<i64>,
    global_indexes: Vec<Index>,
    local_indexes: Vec<Index>,
    stream_enabled: bool,
    stream_view_type: Option<String>,
    /// `(attribute_name, enabled)`, when the stack gives `ttl`.
    ttl: Option<(Option<String>, bool)>,
    point_in_time_recovery: bool,
    /// `(enabled, kms_key_arn)`, when the stack gives `server_side_encryption`.
    encryption: Option<(bool, Option<String>)>,
    deletion_protection: bool,
    table_class: String,
}

fn field_str(item: &Map, field: &str) -> Option<String> {
    given(item, field).and_then(|v| v.as_str().map(str::to_string))
}

fn field_int(item: &Map, field: &str) -> Option<i64> {
    given(item, field).and_then(|v| v.as_i64())
}

fn field_bool(item: &Map, field: &str) -> Option<bool> {
    given(item, field).and_then(|v| v.as_bool())
}

/// The mappings of a list-of-objects property (none when not given).
fn items(props: &Map, prop: &str) -> Result<Vec<Map>> {
    let Some(list) = given(props, prop) else {
        return Ok(Vec::new());
    };
    let list = list
        .as_list()
        .ok_or_else(|| ProviderError::invalid(format!("`{prop}` must be a list of mappings")))?;
    list.iter()
        .map(|item| {
            item.unmarked().as_map().cloned().ok_or_else(|| {
                ProviderError::invalid(format!("each item of `{prop}` must be a mapping"))
            })
        })
        .collect()
}

/// The indexes of `prop`; a local index takes the table's hash key.
fn indexes(props: &Map, prop: &str, table_hash_key: &str) -> Result<Vec<Index>> {
    let local = prop == "local_secondary_indexes";
    items(props, prop)?
        .iter()
        .map(|item| {
            let missing =
                |field: &str| ProviderError::invalid(format!("each of `{prop}` needs `{field}`"));
            Ok(Index {
                name: field_str(item, "name").ok_or_else(|| missing("name"))?,
                hash_key: if local {
                    table_hash_key.to_string()
                } else {
                    field_str(item, "hash_key").ok_or_else(|| missing("hash_key"))?
                },
                range_key: field_str(item, "range_key"),
                projection_type: field_str(item, "projection_type")
                    .unwrap_or_else(|| PROJECTION_ALL.to_string()),
                non_key_attributes: given(item, "non_key_attributes")
                    .and_then(|v| {
                        v.as_list().map(|l| {
                            l.iter()
                                .filter_map(|s| s.as_str().map(str::to_string))
                                .collect()
                        })
                    })
                    .unwrap_or_default(),
                read_capacity: field_int(item, "read_capacity"),
                write_capacity: field_int(item, "write_capacity"),
            })
        })
        .collect()
}

impl Spec {
    fn from_props(schema: &TypeSchema, props: &Map) -> Result<Spec> {
        let want_str =
            |prop: &str| desired(schema, props, prop).and_then(|v| v.as_str().map(str::to_string));
        let want_bool = |prop: &str| {
            desired(schema, props, prop)
                .and_then(|v| v.as_bool())
                .unwrap_or(false)
        };
        let hash_key = required_str(props, "hash_key")?;
        let attributes = items(props, "attributes")?
            .iter()
            .map(|a| match (field_str(a, "name"), field_str(a, "type")) {
                (Some(name), Some(kind)) => Ok((name, kind)),
                _ => Err(ProviderError::invalid(
                    "each of `attributes` needs `name` and `type`",
                )),
            })
            .collect::<Result<Vec<_>>>()?;
        let ttl = given(props, "ttl")
            .and_then(|v| v.as_map().cloned())
            .map(|t| {
                (
                    field_str(&t, "attribute_name"),
                    field_bool(&t, "enabled").unwrap_or(false),
                )
            });
        let encryption = given(props, "server_side_encryption")
            .and_then(|v| v.as_map().cloned())
            .map(|e| {
                (
                    field_bool(&e, "enabled").unwrap_or(false),
                    field_str(&e, "kms_key_arn"),
                )
            });
        let spec = Spec {
            range_key: field_str(props, "range_key"),
            attributes,
            billing_mode: want_str("billing_mode").unwrap_or_else(|| PAY_PER_REQUEST.into()),
            read_capacity: field_int(props, "read_capacity"),
            write_capacity: field_int(props, "write_capacity"),
            global_indexes: indexes(props, "global_secondary_indexes", &hash_key)?,
            local_indexes: indexes(props, "local_secondary_indexes", &hash_key)?,
            stream_enabled: want_bool("stream_enabled"),
            stream_view_type: field_str(props, "stream_view_type"),
            ttl,
            point_in_time_recovery: want_bool("point_in_time_recovery"),
            encryption,
            deletion_protection: want_bool("deletion_protection_enabled"),
            table_class: want_str("table_class").unwrap_or_else(|| STANDARD.into()),
            hash_key,
        };
        spec.check()?;
        Ok(spec)
    }

    fn provisioned(&self) -> bool {
        self.billing_mode == PROVISIONED
    }

    /// Refuses what DynamoDB would refuse, before any call (as terraform-provider-aws's
    /// `CustomizeDiff` does): attribute definitions that no key uses or keys without one,
    /// capacity that does not match the billing mode, a stream without a view type.
    fn check(&self) -> Result<()> {
        let mut keys: BTreeSet<&str> = BTreeSet::from([self.hash_key.as_str()]);
        keys.extend(self.range_key.as_deref());
        for ix in self.global_indexes.iter().chain(&self.local_indexes) {
            keys.insert(&ix.hash_key);
            keys.extend(ix.range_key.as_deref());
        }
        let mut defined = BTreeSet::new();
        for (name, _) in &self.attributes {
            if !defined.insert(name.as_str()) {
                return Err(ProviderError::invalid(format!(
                    "attribute `{name}` is defined twice in `attributes`"
                )));
            }
        }
        let unused: Vec<&str> = defined.difference(&keys).copied().collect();
        if !unused.is_empty() {
            return Err(ProviderError::invalid(format!(
                "every attribute in `attributes` must be a key of the table or of an index; \
                 not a key: {}",
                unused.join(", ")
            )));
        }
        let undefined: Vec<&str> = keys.difference(&defined).copied().collect();
        if !undefined.is_empty() {
            return Err(ProviderError::invalid(format!(
                "every key needs its type in `attributes`; missing: {}",
                undefined.join(", ")
            )));
        }
        let mut names = BTreeSet::new();
        for ix in self.global_indexes.iter().chain(&self.local_indexes) {
            if !names.insert(ix.name.as_str()) {
                return Err(ProviderError::invalid(format!(
                    "index `{}` is declared twice",
                    ix.name
                )));
            }
            let include = ix.projection_type == PROJECTION_INCLUDE;
            if include == ix.non_key_attributes.is_empty() {
                return Err(ProviderError::invalid(format!(
                    "index `{}`: `non_key_attributes` goes with `projection_type: INCLUDE`, \
                     and only with it",
                    ix.name
                )));
            }
        }
        let capacities = std::iter::once(("the table", self.read_capacity, self.write_capacity))
            .chain(
                self.global_indexes
                    .iter()
                    .map(|ix| (ix.name.as_str(), ix.read_capacity, ix.write_capacity)),
            );
        for (what, read, write) in capacities {
            match (self.provisioned(), read, write) {
                (true, Some(r), Some(w)) if r >= 1 && w >= 1 => {}
                (true, ..) => {
                    return Err(ProviderError::invalid(format!(
                        "{what}: `read_capacity` and `write_capacity` (at least 1) are required \
                         with `billing_mode: PROVISIONED`"
                    )))
                }
                (false, None, None) => {}
                (false, ..) => {
                    return Err(ProviderError::invalid(format!(
                        "{what}: `read_capacity` and `write_capacity` are for \
                         `billing_mode: PROVISIONED`; a `PAY_PER_REQUEST` table takes neither"
                    )))
                }
            }
        }
        match (self.stream_enabled, &self.stream_view_type) {
            (true, None) => {
                return Err(ProviderError::invalid(
                    "`stream_view_type` is required when `stream_enabled` is true",
                ))
            }
            (false, Some(_)) => {
                return Err(ProviderError::invalid(
                    "`stream_view_type` is only for a table with `stream_enabled: true`",
                ))
            }
            _ => {}
        }
        if let Some((None, true)) = self.ttl {
            return Err(ProviderError::invalid(
                "`ttl` needs `attribute_name` when `enabled` is true",
            ));
        }
        Ok(())
    }

    fn attribute_definitions(&self) -> Result<Vec<AttributeDefinition>> {
        self.attributes
            .iter()
            .map(|(name, kind)| {
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::from(kind.as_str()))
                    .build()
                    .map_err(|e| ProviderError::invalid(e.to_string()))
            })
            .collect()
    }

    fn throughput(&self) -> Result<Option<ProvisionedThroughput>> {
        if !self.provisioned() {
            return Ok(None);
        }
        throughput(self.read_capacity, self.write_capacity)
    }

    fn stream(&self) -> Result<StreamSpecification> {
        StreamSpecification::builder()
            .stream_enabled(self.stream_enabled)
            .set_stream_view_type(
                self.stream_view_type
                    .as_deref()
                    .filter(|_| self.stream_enabled)
                    .map(StreamViewType::from),
            )
            .build()
            .map_err(|e| ProviderError::invalid(e.to_string()))
    }

    /// What `server_side_encryption` asks for: `None` is DynamoDB's default, an AWS owned key.
    fn kms_encryption(&self) -> Option<Option<&str>> {
        match &self.encryption {
            Some((true, key)) => Some(key.as_deref()),
            _ => None,
        }
    }
}

fn key_schema(hash: &str, range: Option<&str>) -> Result<Vec<KeySchemaElement>> {
    std::iter::once((hash, KeyType::Hash))
        .chain(range.map(|r| (r, KeyType::Range)))
        .map(|(name, kind)| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(|e| ProviderError::invalid(e.to_string()))
        })
        .collect()
}

fn throughput(read: Option<i64>, write: Option<i64>) -> Result<Option<ProvisionedThroughput>> {
    match (read, write) {
        (Some(read), Some(write)) => ProvisionedThroughput::builder()
            .read_capacity_units(read)
            .write_capacity_units(write)
            .build()
            .map(Some)
            .map_err(|e| ProviderError::invalid(e.to_string())),
        _ => Ok(None),
    }
}

fn sse_specification(kms: Option<Option<&str>>) -> SseSpecification {
    match kms {
        Some(key) => SseSpecification::builder()
            .enabled(true)
            .sse_type(SseType::Kms)
            .set_kms_master_key_id(key.map(str::to_string))
            .build(),
        None => SseSpecification::builder().enabled(false).build(),
    }
}

/// The global secondary index changes that bring `current` to `wanted`, each its own
/// `UpdateTable` call (DynamoDB allows one index created or deleted per call). An index whose
/// keys or projection changed is deleted and created again; one whose capacity alone changed
/// (on a provisioned table) is updated, as is every kept index when the table turns
/// provisioned (DynamoDB then needs each index's capacity).
#[derive(Debug, Default, PartialEq)]
struct IndexChanges {
    delete: Vec<String>,
    update: Vec<Index>,
    create: Vec<Index>,
}

fn index_changes(
    current: &[Index],
    wanted: &[Index],
    provisioned: bool,
    turning_provisioned: bool,
) -> IndexChanges {
    let mut changes = IndexChanges::default();
    for now in current {
        match wanted.iter().find(|w| w.name == now.name) {
            None => changes.delete.push(now.name.clone()),
            Some(w) if !w.same_shape(now) => {
                changes.delete.push(now.name.clone());
                changes.create.push(w.clone());
            }
            Some(w) => {
                let capacity_differs =
                    (w.read_capacity, w.write_capacity) != (now.read_capacity, now.write_capacity);
                if provisioned && (capacity_differs || turning_provisioned) {
                    changes.update.push(w.clone());
                }
            }
        }
    }
    for w in wanted {
        if !current.iter().any(|now| now.name == w.name) {
            changes.create.push(w.clone());
        }
    }
    changes
}

/// The key attributes of a described table and its indexes: DynamoDB keeps definitions of
/// these only (the emulator keeps stale ones after an index is deleted, so they are filtered).
fn key_attributes(table: &TableDescription) -> BTreeSet<String> {
    let mut keys: BTreeSet<String> = table
        .key_schema()
        .iter()
        .map(|k| k.attribute_name().to_string())
        .collect();
    for ix in table.global_secondary_indexes() {
        keys.extend(
            ix.key_schema()
                .iter()
                .map(|k| k.attribute_name().to_string()),
        );
    }
    for ix in table.local_secondary_indexes() {
        keys.extend(
            ix.key_schema()
                .iter()
                .map(|k| k.attribute_name().to_string()),
        );
    }
    keys
}

fn global_indexes_of(table: &TableDescription) -> Vec<Index> {
    table
        .global_secondary_indexes()
        .iter()
        .map(|ix| {
            Index::from_aws(
                ix.index_name(),
                ix.key_schema(),
                ix.projection(),
                ix.provisioned_throughput().map(|t| {
                    (
                        t.read_capacity_units().unwrap_or(0),
                        t.write_capacity_units().unwrap_or(0),
                    )
                }),
            )
        })
        .collect()
}

fn local_indexes_of(table: &TableDescription) -> Vec<Index> {
    table
        .local_secondary_indexes()
        .iter()
        .map(|ix| Index::from_aws(ix.index_name(), ix.key_schema(), ix.projection(), None))
        .collect()
}

fn billing_mode_of(table: &TableDescription) -> String {
    table
        .billing_mode_summary()
        .and_then(|b| b.billing_mode())
        .map(|m| m.as_str().to_string())
        // A table that was never on demand has no billing mode summary.
        .unwrap_or_else(|| PROVISIONED.to_string())
}

fn stream_enabled_of(table: &TableDescription) -> bool {
    table
        .stream_specification()
        .is_some_and(|s| s.stream_enabled())
}

/// The key under which the encryption is: `Some(arn)` for a KMS key, `None` for the AWS
/// owned key (DynamoDB's default, with no SSE description or a disabled one).
fn kms_key_of(table: &TableDescription) -> Option<String> {
    let sse = table.sse_description()?;
    match sse.status() {
        Some(SseStatus::Enabled | SseStatus::Enabling | SseStatus::Updating) => {
            Some(sse.kms_master_key_arn().unwrap_or_default().to_string())
        }
        _ => None,
    }
}

/// Indexes of `prop` in the order the stack wrote them (by name), the rest in DynamoDB's order.
fn indexes_value(
    found: Vec<Index>,
    prior: &Map,
    prop: &str,
    local: bool,
    provisioned: bool,
) -> Value {
    let prior_items = items(prior, prop).unwrap_or_default();
    let ordered = in_prior_order(
        prior_items.iter().filter_map(|i| field_str(i, "name")),
        found,
        |ix| Some(ix.name.clone()),
    );
    Value::List(
        ordered
            .iter()
            .map(|ix| {
                let prior_item = prior_items
                    .iter()
                    .find(|i| field_str(i, "name").as_deref() == Some(ix.name.as_str()));
                ix.to_value(prior_item, local, provisioned)
            })
            .collect(),
    )
}

/// Everything a read learns about a table besides `DescribeTable`.
struct Settings {
    /// `(status, attribute_name)`.
    ttl: (Option<TimeToLiveStatus>, Option<String>),
    point_in_time_recovery: bool,
    tags: Vec<(String, String)>,
}

/// The table in the stack's terms. `prior` (what the stack last wrote) decides only how
/// things AWS does not order or spell one way read back: order of lists, and optional fields
/// the stack spelled out. Lists DynamoDB keeps as sets (attribute definitions, indexes, an
/// index's non-key attributes) take the prior's order; what the prior does not name (all of
/// it, on import) keeps DynamoDB's order, which is the order they were created in, so a table
/// strata made imports back as its stack wrote it.
fn table_resource(table: &TableDescription, settings: Settings, prior: &Map) -> Result<Resource> {
    let name = table
        .table_name()
        .ok_or_else(|| ProviderError::invalid("DynamoDB described a table without a name"))?;
    let arn = table.table_arn().unwrap_or_default();
    let billing_mode = billing_mode_of(table);
    let provisioned = billing_mode == PROVISIONED;
    let key = |kind: KeyType| {
        table
            .key_schema()
            .iter()
            .find(|k| *k.key_type() == kind)
            .map(|k| k.attribute_name().to_string())
    };

    let mut properties = Map::new();
    properties.insert("name".into(), Value::str(name));
    if let Some(hash) = key(KeyType::Hash) {
        properties.insert("hash_key".into(), Value::str(hash));
    }
    if let Some(range) = key(KeyType::Range) {
        properties.insert("range_key".into(), Value::str(range));
    }

    let keys = key_attributes(table);
    let attributes: Vec<(String, String)> = table
        .attribute_definitions()
        .iter()
        .filter(|a| keys.contains(a.attribute_name()))
        .map(|a| {
            (
                a.attribute_name().to_string(),
                a.attribute_type().as_str().to_string(),
            )
        })
        .collect();
    let prior_attributes = items(prior, "attributes").unwrap_or_default();
    let attributes = in_prior_order(
        prior_attributes.iter().filter_map(|a| field_str(a, "name")),
        attributes,
        |(name, _)| Some(name.clone()),
    );
    properties.insert(
        "attributes".into(),
        Value::List(
            attributes
                .into_iter()
                .map(|(name, kind)| {
                    Value::Map(Map::from([
                        ("name".to_string(), Value::String(name)),
                        ("type".to_string(), Value::String(kind)),
                    ]))
                })
                .collect(),
        ),
    );

    properties.insert("billing_mode".into(), Value::str(&billing_mode));
    if provisioned {
        if let Some(t) = table.provisioned_throughput() {
            properties.insert(
                "read_capacity".into(),
                Value::int(t.read_capacity_units().unwrap_or(0)),
            );
            properties.insert(
                "write_capacity".into(),
                Value::int(t.write_capacity_units().unwrap_or(0)),
            );
        }
    }
    properties.insert(
        "global_secondary_indexes".into(),
        indexes_value(
            global_indexes_of(table),
            prior,
            "global_secondary_indexes",
            false,
            provisioned,
        ),
    );
    properties.insert(
        "local_secondary_indexes".into(),
        indexes_value(
            local_indexes_of(table),
            prior,
            "local_secondary_indexes",
            true,
            provisioned,
        ),
    );

    let stream_enabled = stream_enabled_of(table);
    properties.insert("stream_enabled".into(), Value::Bool(stream_enabled));
    if let Some(view) = table
        .stream_specification()
        .and_then(|s| s.stream_view_type())
        .filter(|_| stream_enabled)
    {
        properties.insert("stream_view_type".into(), Value::str(view.as_str()));
    }

    let prior_ttl = given(prior, "ttl").and_then(|v| v.as_map().cloned());
    match settings.ttl {
        (Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling), attribute) => {
            let mut ttl = Map::from([("enabled".to_string(), Value::Bool(true))]);
            if let Some(attribute) = attribute {
                ttl.insert("attribute_name".into(), Value::String(attribute));
            }
            properties.insert("ttl".into(), Value::Map(ttl));
        }
        // Off: only worth saying where the stack says it (`enabled: false`).
        _ => {
            if let Some(prior_ttl) = prior_ttl {
                let mut ttl = Map::from([("enabled".to_string(), Value::Bool(false))]);
                if let Some(attribute) = field_str(&prior_ttl, "attribute_name") {
                    ttl.insert("attribute_name".into(), Value::String(attribute));
                }
                properties.insert("ttl".into(), Value::Map(ttl));
            }
        }
    }

    properties.insert(
        "point_in_time_recovery".into(),
        Value::Bool(settings.point_in_time_recovery),
    );

    let prior_sse = given(prior, "server_side_encryption").and_then(|v| v.as_map().cloned());
    match kms_key_of(table) {
        Some(key) => {
            let mut sse = Map::from([("enabled".to_string(), Value::Bool(true))]);
            if prior_sse
                .as_ref()
                .is_some_and(|p| field_str(p, "kms_key_arn").is_some())
            {
                sse.insert("kms_key_arn".into(), Value::String(key));
            }
            properties.insert("server_side_encryption".into(), Value::Map(sse));
        }
        None => {
            if prior_sse.is_some() {
                properties.insert(
                    "server_side_encryption".into(),
                    Value::Map(Map::from([("enabled".to_string(), Value::Bool(false))])),
                );
            }
        }
    }

    properties.insert(
        "deletion_protection_enabled".into(),
        Value::Bool(table.deletion_protection_enabled().unwrap_or(false)),
    );
    properties.insert(
        "table_class".into(),
        Value::str(
            table
                .table_class_summary()
                .and_then(|c| c.table_class())
                .map(|c| c.as_str())
                .unwrap_or(STANDARD),
        ),
    );
    properties.insert("tags".into(), tags_value(settings.tags));

    let stream_arn = table
        .latest_stream_arn()
        .filter(|_| stream_enabled)
        .map(Value::str)
        .unwrap_or(Value::Null);
    Ok(Resource {
        id: name.to_string(),
        properties,
        attributes: Map::from([
            ("arn".to_string(), Value::str(arn)),
            ("name".to_string(), Value::str(name)),
            ("stream_arn".to_string(), stream_arn),
        ]),
    })
}

/// The errors of a table (or account) still busy with an earlier change.
fn busy(e: &ProviderError) -> bool {
    e.is_code(&["ResourceInUseException"]) || too_many_changing(e)
}

fn too_many_changing(e: &ProviderError) -> bool {
    e.is_code(&["LimitExceededException"])
        && e.message().is_some_and(|m| m.contains("simultaneously"))
}

/// True when the table is `ACTIVE` and so is every global secondary index (none creating,
/// backfilling, updating or deleting).
fn settled(table: &TableDescription) -> bool {
    table.table_status() == Some(&TableStatus::Active)
        && table
            .global_secondary_indexes()
            .iter()
            .all(|ix| ix.index_status().is_none_or(|s| *s == IndexStatus::Active))
        && !table
            .sse_description()
            .and_then(|s| s.status())
            .is_some_and(|s| {
                matches!(
                    s,
                    SseStatus::Enabling | SseStatus::Disabling | SseStatus::Updating
                )
            })
}

/// Manages DynamoDB tables; the id is the table name.
pub struct TableProvider {
    schema: TypeSchema,
    dynamodb: aws_sdk_dynamodb::Client,
}

impl TableProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            dynamodb: crate::aws::sdk_client!(aws_sdk_dynamodb, ctx),
        }
    }

    /// `DescribeTable`, or `None` when there is no such table.
    async fn describe(&self, name: &str) -> Result<Option<TableDescription>> {
        let out = self
            .dynamodb
            .describe_table()
            .table_name(name)
            .send()
            .await
            .map_err(api_error);
        Ok(missing_is_none(out, NOT_FOUND)?.and_then(|o| o.table))
    }

    /// Waits until the table and its indexes have settled (`budget` names the step).
    async fn wait_settled(&self, name: &str, budget: Wait) -> Result<TableDescription> {
        wait_for(
            &format!("DynamoDB table {name} to be ACTIVE"),
            budget,
            || async {
                let table = self.describe(name).await?.ok_or_else(|| {
                    ProviderError::invalid(format!("DynamoDB table {name} disappeared"))
                })?;
                Ok(settled(&table).then_some(table))
            },
        )
        .await
    }

    async fn time_to_live(&self, name: &str) -> Result<(Option<TimeToLiveStatus>, Option<String>)> {
        let out = self
            .dynamodb
            .describe_time_to_live()
            .table_name(name)
            .send()
            .await
            .map_err(api_error)?;
        let description = out.time_to_live_description;
        Ok((
            description
                .as_ref()
                .and_then(|d| d.time_to_live_status().cloned()),
            description.and_then(|d| d.attribute_name),
        ))
    }

    async fn point_in_time_recovery(&self, name: &str) -> Result<bool> {
        let out = self
            .dynamodb
            .describe_continuous_backups()
            .table_name(name)
            .send()
            .await
            .map_err(api_error)?;
        Ok(out
            .continuous_backups_description()
            .and_then(|c| c.point_in_time_recovery_description())
            .and_then(|p| p.point_in_time_recovery_status())
            == Some(&PointInTimeRecoveryStatus::Enabled))
    }

    async fn tags(&self, arn: &str) -> Result<Vec<(String, String)>> {
        let mut tags = Vec::new();
        let mut next_token = None;
        loop {
            let out = self
                .dynamodb
                .list_tags_of_resource()
                .resource_arn(arn)
                .set_next_token(next_token)
                .send()
                .await
                .map_err(api_error)?;
            tags.extend(
                out.tags()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string())),
            );
            match out.next_token {
                Some(token) if !token.is_empty() => next_token = Some(token),
                _ => return Ok(tags),
            }
        }
    }

    /// The table named `name` in the stack's terms, or `None` when it does not exist.
    async fn find_table(&self, name: &str, prior: &Map) -> Result<Option<Resource>> {
        let Some(table) = self.describe(name).await? else {
            return Ok(None);
        };
        let settings = Settings {
            ttl: self.time_to_live(name).await?,
            point_in_time_recovery: self.point_in_time_recovery(name).await?,
            tags: self.tags(table.table_arn().unwrap_or_default()).await?,
        };
        table_resource(&table, settings, prior).map(Some)
    }

    async fn read_existing(&self, name: &str, prior: &Map) -> Result<Resource> {
        self.find_table(name, prior)
            .await?
            .ok_or_else(|| ProviderError::invalid(format!("DynamoDB table {name} disappeared")))
    }

    /// Sends one `UpdateTable` (retrying while the table is busy) and waits for the table and
    /// its indexes to settle.
    async fn update_table(&self, name: &str, call: UpdateTableFluentBuilder) -> Result<()> {
        with_backoff(TABLE_BUSY_BUDGET, busy, || {
            let call = call.clone();
            async move { call.send().await.map_err(api_error) }
        })
        .await?;
        self.wait_settled(name, TABLE_UPDATED).await.map(|_| ())
    }

    /// Turns time to live on or off as `wanted` says (`(attribute, enabled)`, `None`: off),
    /// calling nothing when it already is so. DynamoDB cannot move an enabled time to live to
    /// another attribute, so that is off, then on.
    async fn set_time_to_live(
        &self,
        name: &str,
        wanted: Option<(Option<String>, bool)>,
    ) -> Result<()> {
        let (status, current) = self.time_to_live(name).await?;
        let on = matches!(
            status,
            Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
        );
        let target = match wanted {
            Some((Some(attribute), true)) => Some(attribute),
            _ => None,
        };
        if on && target == current {
            return Ok(());
        }
        if on {
            self.switch_time_to_live(name, current.unwrap_or_default(), false)
                .await?;
        }
        if let Some(attribute) = target {
            self.switch_time_to_live(name, attribute, true).await?;
        }
        Ok(())
    }

    /// One `UpdateTimeToLive`: time to live on `attribute` turned on or off.
    async fn put_time_to_live(&self, name: &str, attribute: String, enabled: bool) -> Result<()> {
        let spec = TimeToLiveSpecification::builder()
            .attribute_name(attribute)
            .enabled(enabled)
            .build()
            .map_err(|e| ProviderError::invalid(e.to_string()))?;
        self.dynamodb
            .update_time_to_live()
            .table_name(name)
            .time_to_live_specification(spec)
            .send()
            .await
            .map_err(api_error)?;
        Ok(())
    }

    /// Turns time to live on `attribute` on or off, and waits until it reads so.
    async fn switch_time_to_live(
        &self,
        name: &str,
        attribute: String,
        enabled: bool,
    ) -> Result<()> {
        self.put_time_to_live(name, attribute, enabled).await?;
        let target = if enabled {
            TimeToLiveStatus::Enabled
        } else {
            TimeToLiveStatus::Disabled
        };
        wait_for(
            &format!(
                "time to live of DynamoDB table {name} to be {}",
                target.as_str()
            ),
            TTL_UPDATED,
            || async {
                let (status, _) = self.time_to_live(name).await?;
                Ok((status.as_ref() == Some(&target)).then_some(()))
            },
        )
        .await
    }

    /// Turns point-in-time recovery on or off, calling nothing when it already is so.
    async fn set_point_in_time_recovery(&self, name: &str, enabled: bool) -> Result<()> {
        if self.point_in_time_recovery(name).await? == enabled {
            return Ok(());
        }
        self.switch_point_in_time_recovery(name, enabled).await
    }

    /// One `UpdateContinuousBackups` turning point-in-time recovery on or off (retried while
    /// DynamoDB is still enabling continuous backups), then a wait until it reads so, only
    /// when the answer does not already say so.
    async fn switch_point_in_time_recovery(&self, name: &str, enabled: bool) -> Result<()> {
        let spec = PointInTimeRecoverySpecification::builder()
            .point_in_time_recovery_enabled(enabled)
            .build()
            .map_err(|e| ProviderError::invalid(e.to_string()))?;
        let out = with_backoff(
            CONTINUOUS_BACKUPS_BUDGET,
            |e| {
                e.is_code(&["ContinuousBackupsUnavailableException"])
                    && e.message().is_some_and(|m| m.contains("being enabled"))
            },
            || {
                let call = self
                    .dynamodb
                    .update_continuous_backups()
                    .table_name(name)
                    .point_in_time_recovery_specification(spec.clone());
                async move { call.send().await.map_err(api_error) }
            },
        )
        .await?;
        let answered = out
            .continuous_backups_description()
            .and_then(|c| c.point_in_time_recovery_description())
            .and_then(|p| p.point_in_time_recovery_status())
            == Some(&PointInTimeRecoveryStatus::Enabled);
        if answered == enabled {
            return Ok(());
        }
        wait_for(
            &format!("point-in-time recovery of DynamoDB table {name} to change"),
            PITR_UPDATED,
            || async { Ok((self.point_in_time_recovery(name).await? == enabled).then_some(())) },
        )
        .await
    }

    /// Brings the global secondary indexes, billing, capacity, stream, class and deletion
    /// protection from `current` to `spec`, step by step.
    async fn update_table_settings(
        &self,
        name: &str,
        current: &TableDescription,
        spec: &Spec,
        changed: &BTreeSet<&str>,
    ) -> Result<()> {
        let was_provisioned = billing_mode_of(current) == PROVISIONED;
        let billing_changed = billing_mode_of(current) != spec.billing_mode;
        let indexes = if changed.contains("global_secondary_indexes") || billing_changed {
            index_changes(
                &global_indexes_of(current),
                &spec.global_indexes,
                spec.provisioned(),
                billing_changed && !was_provisioned,
            )
        } else {
            IndexChanges::default()
        };

        // Deletes first: an index that goes needs no capacity when the table turns provisioned.
        for index in &indexes.delete {
            let delete = DeleteGlobalSecondaryIndexAction::builder()
                .index_name(index)
                .build()
                .map_err(|e| ProviderError::invalid(e.to_string()))?;
            let call = self
                .dynamodb
                .update_table()
                .table_name(name)
                .global_secondary_index_updates(
                    GlobalSecondaryIndexUpdate::builder().delete(delete).build(),
                );
            self.update_table(name, call).await?;
        }

        // A new stream view type: DynamoDB takes it only on a stream being turned on.
        let stream_was = stream_enabled_of(current);
        let view_was = current
            .stream_specification()
            .and_then(|s| s.stream_view_type())
            .map(|v| v.as_str().to_string());
        if stream_was && spec.stream_enabled && view_was != spec.stream_view_type {
            let off = StreamSpecification::builder()
                .stream_enabled(false)
                .build()
                .map_err(|e| ProviderError::invalid(e.to_string()))?;
            self.update_table(
                name,
                self.dynamodb
                    .update_table()
                    .table_name(name)
                    .stream_specification(off),
            )
            .await?;
        }

        let mut call = self.dynamodb.update_table().table_name(name);
        let mut any = false;
        if billing_changed {
            call = call.billing_mode(BillingMode::from(spec.billing_mode.as_str()));
            any = true;
        }
        if spec.provisioned()
            && (billing_changed
                || changed.contains("read_capacity")
                || changed.contains("write_capacity"))
        {
            call = call.set_provisioned_throughput(spec.throughput()?);
            any = true;
        }
        if stream_was != spec.stream_enabled
            || (spec.stream_enabled && view_was != spec.stream_view_type)
        {
            call = call.stream_specification(spec.stream()?);
            any = true;
        }
        for index in &indexes.update {
            let update = UpdateGlobalSecondaryIndexAction::builder()
                .index_name(&index.name)
                .set_provisioned_throughput(index.throughput()?)
                .build()
                .map_err(|e| ProviderError::invalid(e.to_string()))?;
            call = call.global_secondary_index_updates(
                GlobalSecondaryIndexUpdate::builder().update(update).build(),
            );
            any = true;
        }
        if changed.contains("table_class") {
            call = call.table_class(TableClass::from(spec.table_class.as_str()));
            any = true;
        }
        if changed.contains("deletion_protection_enabled") {
            call = call.deletion_protection_enabled(spec.deletion_protection);
            any = true;
        }
        if any {
            self.update_table(name, call).await?;
        }

        // Creates last, one per call, with the definitions of their key attributes.
        for index in &indexes.create {
            let create = CreateGlobalSecondaryIndexAction::builder()
                .index_name(&index.name)
                .set_key_schema(Some(index.key_schema()?))
                .projection(index.projection())
                .set_provisioned_throughput(if spec.provisioned() {
                    index.throughput()?
                } else {
                    None
                })
                .build()
                .map_err(|e| ProviderError::invalid(e.to_string()))?;
            let call = self
                .dynamodb
                .update_table()
                .table_name(name)
                .set_attribute_definitions(Some(spec.attribute_definitions()?))
                .global_secondary_index_updates(
                    GlobalSecondaryIndexUpdate::builder().create(create).build(),
                );
            self.update_table(name, call).await?;
        }
        Ok(())
    }

    /// Deletes the table and waits until it is gone; one already gone is success.
    async fn remove(&self, name: &str) -> Result<()> {
        let out = with_backoff(TABLE_BUSY_BUDGET, busy, || {
            let call = self.dynamodb.delete_table().table_name(name);
            async move { call.send().await.map_err(api_error) }
        })
        .await;
        if missing_is_none(out, NOT_FOUND)?.is_none() {
            return Ok(());
        }
        wait_for(
            &format!("DynamoDB table {name} to be deleted"),
            TABLE_DELETED,
            || async { Ok(self.describe(name).await?.is_none().then_some(())) },
        )
        .await
    }
}

#[async_trait]
impl Provider for TableProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// One `CreateTable` with the keys, indexes, billing, stream, encryption, class,
    /// deletion protection and tags; once the table is `ACTIVE`, time to live and
    /// point-in-time recovery.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = required_str(props, "name")?;
        let spec = Spec::from_props(&self.schema, props)?;
        let tags = tag_strings(props.get("tags"))?;
        let tags_recorded = tags.clone();
        let global_indexes = spec
            .global_indexes
            .iter()
            .map(|ix| {
                GlobalSecondaryIndex::builder()
                    .index_name(&ix.name)
                    .set_key_schema(Some(ix.key_schema()?))
                    .projection(ix.projection())
                    .set_provisioned_throughput(if spec.provisioned() {
                        ix.throughput()?
                    } else {
                        None
                    })
                    .build()
                    .map_err(|e| ProviderError::invalid(e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let local_indexes = spec
            .local_indexes
            .iter()
            .map(|ix| {
                LocalSecondaryIndex::builder()
                    .index_name(&ix.name)
                    .set_key_schema(Some(ix.key_schema()?))
                    .projection(ix.projection())
                    .build()
                    .map_err(|e| ProviderError::invalid(e.to_string()))
            })
            .collect::<Result<Vec<_>>>()?;
        let call = self
            .dynamodb
            .create_table()
            .table_name(&name)
            .set_key_schema(Some(key_schema(&spec.hash_key, spec.range_key.as_deref())?))
            .set_attribute_definitions(Some(spec.attribute_definitions()?))
            .billing_mode(BillingMode::from(spec.billing_mode.as_str()))
            .set_provisioned_throughput(spec.throughput()?)
            .set_global_secondary_indexes((!global_indexes.is_empty()).then_some(global_indexes))
            .set_local_secondary_indexes((!local_indexes.is_empty()).then_some(local_indexes))
            .set_stream_specification(if spec.stream_enabled {
                Some(spec.stream()?)
            } else {
                None
            })
            .set_sse_specification(spec.kms_encryption().map(|k| sse_specification(Some(k))))
            .table_class(TableClass::from(spec.table_class.as_str()))
            .deletion_protection_enabled(spec.deletion_protection)
            .set_tags(
                (!tags.is_empty())
                    .then(|| super::dynamodb_tags(tags))
                    .transpose()?,
            );
        let out = with_backoff(TABLE_LIMIT_BUDGET, too_many_changing, || {
            let call = call.clone();
            async move { call.send().await.map_err(api_error) }
        })
        .await?;
        after_made(&name, async {
            // Waited for only while the answer says the table (an index, its encryption) is
            // not ready yet: DynamoDB answers `CREATING`, an emulator may answer `ACTIVE`.
            let table = match out.table_description {
                Some(table) if settled(&table) => table,
                _ => self.wait_settled(&name, TABLE_CREATED).await?,
            };
            let mut ttl = (None, None);
            if let Some((Some(attribute), true)) = &spec.ttl {
                // A new table has no time to live yet: turned on, not read first, not waited
                // for (on or turning on reads the same).
                self.put_time_to_live(&name, attribute.clone(), true)
                    .await?;
                ttl = (Some(TimeToLiveStatus::Enabled), Some(attribute.clone()));
            }
            if spec.point_in_time_recovery {
                self.switch_point_in_time_recovery(&name, true).await?;
            }
            let settings = Settings {
                ttl,
                point_in_time_recovery: spec.point_in_time_recovery,
                tags: tags_recorded.into_iter().collect(),
            };
            table_resource(&table, settings, props)
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_table(&req.id, &req.prior_properties).await
    }

    /// Each changed setting with its own API, in the order DynamoDB needs (see the module
    /// docs), then reads the table back.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        const IN_PLACE: &[&str] = &[
            "attributes",
            "billing_mode",
            "read_capacity",
            "write_capacity",
            "global_secondary_indexes",
            "stream_enabled",
            "stream_view_type",
            "ttl",
            "point_in_time_recovery",
            "server_side_encryption",
            "deletion_protection_enabled",
            "table_class",
            "tags",
        ];
        if let Some(other) = req.changed.iter().find(|c| !IN_PLACE.contains(&c.as_str())) {
            return Err(ProviderError::not_in_place(other, TYPE_NAME));
        }
        let name = req.id.as_str();
        let spec = Spec::from_props(&self.schema, &req.properties)?;
        let changed: BTreeSet<&str> = req.changed.iter().map(String::as_str).collect();
        let current = self.wait_settled(name, TABLE_UPDATED).await?;

        self.update_table_settings(name, &current, &spec, &changed)
            .await?;

        if changed.contains("server_side_encryption") {
            let wanted = spec.kms_encryption();
            let now = kms_key_of(&current);
            let same = match (wanted, &now) {
                (None, None) => true,
                (Some(None), Some(_)) => true,
                (Some(Some(key)), Some(now)) => key == now,
                _ => false,
            };
            if !same {
                // DynamoDB takes an encryption change only alone in its `UpdateTable`.
                let call = self
                    .dynamodb
                    .update_table()
                    .table_name(name)
                    .sse_specification(sse_specification(wanted));
                self.update_table(name, call).await?;
            }
        }
        if changed.contains("ttl") {
            self.set_time_to_live(name, spec.ttl.clone()).await?;
        }
        if changed.contains("tags") {
            let arn = current.table_arn().unwrap_or_default();
            let api = TableTags {
                client: &self.dynamodb,
                id: arn,
            };
            reconcile(&api, &req.prior_properties, &req.properties).await?;
        }
        if changed.contains("point_in_time_recovery") {
            self.set_point_in_time_recovery(name, spec.point_in_time_recovery)
                .await?;
        }
        self.read_existing(name, &req.properties).await
    }

    /// Deletes the table and waits until it is gone; one already gone is success. A table with
    /// deletion protection is refused by DynamoDB, and the error says so.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        self.remove(&req.id).await
    }

    /// Finds the table by its deterministic name.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "name")?;
        self.find_table(&name, &req.properties).await
    }
}

/// What the loader checks of a table's properties together (`TypeSchema::check`), as the
/// provider does before any call: keys typed in `attributes`, capacity and billing mode, the
/// stream's view type, TTL's attribute.
fn check_props(props: &Map) -> std::result::Result<(), String> {
    crate::props::at_load((|| -> Result<()> {
        Spec::from_props(&schema(), props)?;
        Ok(())
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(yaml: serde_json::Value) -> Map {
        match Value::from_json(yaml) {
            Value::Map(m) => m,
            other => panic!("{other:?}"),
        }
    }

    fn index(name: &str, hash: &str, capacity: Option<(i64, i64)>) -> Index {
        Index {
            name: name.to_string(),
            hash_key: hash.to_string(),
            range_key: None,
            projection_type: PROJECTION_ALL.to_string(),
            non_key_attributes: Vec::new(),
            read_capacity: capacity.map(|c| c.0),
            write_capacity: capacity.map(|c| c.1),
        }
    }

    #[test]
    fn an_attribute_no_key_uses_and_a_key_without_an_attribute_are_refused() {
        let schema = schema();
        let unused = props(serde_json::json!({
            "hash_key": "id",
            "attributes": [{"name": "id", "type": "S"}, {"name": "email", "type": "S"}],
        }));
        let err = Spec::from_props(&schema, &unused).unwrap_err().to_string();
        assert!(err.contains("not a key: email"), "{err}");
        let undefined = props(serde_json::json!({
            "hash_key": "id",
            "attributes": [{"name": "id", "type": "S"}],
            "global_secondary_indexes": [{"name": "by_email", "hash_key": "email"}],
        }));
        let err = Spec::from_props(&schema, &undefined)
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing: email"), "{err}");
    }

    #[test]
    fn capacity_must_match_the_billing_mode_and_a_stream_needs_a_view_type() {
        let schema = schema();
        let on_demand_with_capacity = props(serde_json::json!({
            "hash_key": "id", "attributes": [{"name": "id", "type": "S"}],
            "read_capacity": 5, "write_capacity": 5,
        }));
        assert!(Spec::from_props(&schema, &on_demand_with_capacity).is_err());
        let provisioned_without = props(serde_json::json!({
            "hash_key": "id", "attributes": [{"name": "id", "type": "S"}],
            "billing_mode": "PROVISIONED",
        }));
        assert!(Spec::from_props(&schema, &provisioned_without).is_err());
        let stream_without_view = props(serde_json::json!({
            "hash_key": "id", "attributes": [{"name": "id", "type": "S"}],
            "stream_enabled": true,
        }));
        assert!(Spec::from_props(&schema, &stream_without_view).is_err());
    }

    #[test]
    fn index_changes_delete_gone_and_reshaped_indexes_and_create_new_ones() {
        let current = vec![index("a", "x", None), index("b", "y", None)];
        let wanted = vec![index("b", "z", None), index("c", "x", None)];
        let changes = index_changes(&current, &wanted, false, false);
        assert_eq!(changes.delete, vec!["a", "b"]);
        assert_eq!(
            changes
                .create
                .iter()
                .map(|i| i.name.as_str())
                .collect::<Vec<_>>(),
            vec!["b", "c"]
        );
        assert!(changes.update.is_empty());
    }

    #[test]
    fn a_provisioned_index_whose_capacity_alone_changed_is_updated_in_place() {
        let current = vec![index("a", "x", Some((1, 1)))];
        let wanted = vec![index("a", "x", Some((5, 5)))];
        let changes = index_changes(&current, &wanted, true, false);
        assert_eq!(changes.update, wanted);
        assert!(changes.delete.is_empty() && changes.create.is_empty());
        // Turning provisioned, every kept index is given its capacity.
        let current = vec![index("a", "x", None)];
        let changes = index_changes(&current, &wanted, true, true);
        assert_eq!(changes.update, wanted);
    }

    #[test]
    fn an_index_reads_back_without_the_fields_the_stack_left_out() {
        let ix = index("by_email", "email", Some((3, 4)));
        let on_demand = ix.to_value(None, false, false);
        assert_eq!(
            on_demand,
            Value::from_json(serde_json::json!({"name": "by_email", "hash_key": "email"}))
        );
        let prior = props(serde_json::json!({"name": "by_email", "projection_type": "ALL"}));
        let spelled = ix.to_value(Some(&prior), false, true);
        assert_eq!(
            spelled,
            Value::from_json(serde_json::json!({
                "name": "by_email", "hash_key": "email", "projection_type": "ALL",
                "read_capacity": 3, "write_capacity": 4,
            }))
        );
    }
}
