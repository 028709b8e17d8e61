//! What every lookup's reading code shares: its entry, the arguments as given, and how a read
//! fails (turned into a [`LookupError`] naming the type and the filter).

use stacks::schema::LookupSchema;
use stacks::{Map, Value};

use crate::ProviderError;

/// The shape of each lookup's arguments and attributes, short for the entries.
pub(crate) use stacks::schema::LookupKind as K;

/// One lookup type: its schema and what the docs and `strata iam-policy` say of it.
#[derive(Clone, Copy, Debug)]
pub struct LookupEntry {
    pub schema: LookupSchema,
    /// What it finds, in one sentence, for the docs.
    pub about: &'static str,
    /// The IAM actions reading it calls: what a deployer's role needs at every plan.
    pub actions: &'static [&'static str],
}

/// Why a lookup could not give its values. Each names the lookup type and the arguments it was
/// given (secrets among them shown as `(sensitive)`), never a value read.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// No lookup type of this name (the loader refuses it first).
    #[error("unknown lookup type `{0}`")]
    UnknownType(String),
    /// The arguments cannot be read as the type's schema says (the loader checks them first).
    #[error("{type_name} {filter}: {message}")]
    Invalid {
        type_name: &'static str,
        filter: String,
        message: String,
    },
    /// A single-valued lookup found nothing.
    #[error("{type_name} found nothing matching {filter}")]
    NotFound {
        type_name: &'static str,
        filter: String,
    },
    /// A single-valued lookup found more than one object: narrow the filter.
    #[error(
        "{type_name} found {} objects matching {filter} ({}); narrow the filter so it matches one",
        found.len(), found.join(", ")
    )]
    Ambiguous {
        type_name: &'static str,
        filter: String,
        found: Vec<String>,
    },
    /// AWS refused or failed a read.
    #[error("reading {type_name} {filter}: {source}")]
    Cloud {
        type_name: &'static str,
        filter: String,
        #[source]
        source: ProviderError,
    },
}

/// Why one read failed, before the type and filter are added ([`Failure::into_error`]).
#[derive(Debug)]
pub(crate) enum Failure {
    NotFound,
    Ambiguous(Vec<String>),
    Invalid(String),
    Cloud(ProviderError),
}

impl From<ProviderError> for Failure {
    fn from(e: ProviderError) -> Failure {
        Failure::Cloud(e)
    }
}

impl Failure {
    pub(crate) fn into_error(self, args: &Args) -> LookupError {
        let (type_name, filter) = (args.type_name, args.describe());
        match self {
            Failure::NotFound => LookupError::NotFound { type_name, filter },
            Failure::Ambiguous(found) => LookupError::Ambiguous {
                type_name,
                filter,
                found,
            },
            Failure::Invalid(message) => LookupError::Invalid {
                type_name,
                filter,
                message,
            },
            Failure::Cloud(source) => LookupError::Cloud {
                type_name,
                filter,
                source,
            },
        }
    }
}

pub(crate) type Found = Result<Map, Failure>;

/// The one object a single-valued lookup found, named by `id` in an error: none or more
/// than one is a [`Failure`].
pub(crate) fn only<T>(mut items: Vec<T>, id: impl Fn(&T) -> String) -> Result<T, Failure> {
    match items.len() {
        0 => Err(Failure::NotFound),
        1 => Ok(items.remove(0)),
        _ => {
            let mut ids: Vec<String> = items.iter().map(id).collect();
            ids.sort();
            Err(Failure::Ambiguous(ids))
        }
    }
}

/// What a read of one object gave, when AWS answered; [`Failure::NotFound`] when its error
/// code says the object is not there (one of `codes`).
pub(crate) fn present<T>(result: Result<T, ProviderError>, codes: &[&str]) -> Result<T, Failure> {
    crate::aws::missing_is_none(result, codes)
        .map_err(Failure::Cloud)?
        .ok_or(Failure::NotFound)
}

/// A lookup's arguments, checked against its schema: every name known, every required one
/// given, every value known (a value known only after apply cannot be looked up with).
pub(crate) struct Args<'a> {
    type_name: &'static str,
    map: &'a Map,
}

impl<'a> Args<'a> {
    pub(crate) fn new(schema: &LookupSchema, args: &'a Value) -> Result<Args<'a>, LookupError> {
        static EMPTY: Map = Map::new();
        let type_name = schema.name;
        let invalid = |message: String| LookupError::Invalid {
            type_name,
            filter: describe(args.as_map().unwrap_or(&EMPTY)),
            message,
        };
        let map = match args {
            Value::Null => &EMPTY,
            Value::Map(map) => map,
            other => {
                return Err(invalid(format!(
                    "the arguments must be a mapping, not {}",
                    other.kind_name()
                )))
            }
        };
        for name in map.keys() {
            if schema.arg(name).is_none() {
                return Err(invalid(format!(
                    "unknown argument `{name}` (it takes {})",
                    schema.arg_names().join(", ")
                )));
            }
        }
        for arg in schema.args {
            match map.get(arg.name) {
                None | Some(Value::Null) if arg.required => {
                    return Err(invalid(format!("`{}` is required", arg.name)))
                }
                Some(value) if value.has_unknown() => {
                    return Err(invalid(format!(
                        "`{}` is known only after apply; a lookup needs it at plan time",
                        arg.name
                    )))
                }
                _ => {}
            }
        }
        Ok(Args { type_name, map })
    }

    /// The arguments as the errors show them: secrets as `(sensitive)`.
    fn describe(&self) -> String {
        describe(self.map)
    }

    fn get(&self, name: &str) -> Option<Value> {
        self.map
            .get(name)
            .map(Value::unmarked)
            .filter(|v| *v != Value::Null)
    }

    /// A string argument, when given.
    pub(crate) fn str(&self, name: &str) -> Result<Option<String>, Failure> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(other) => Err(Failure::Invalid(format!(
                "`{name}` must be a string, not {}",
                other.kind_name()
            ))),
        }
    }

    /// A string argument the schema requires ([`Args::new`] checked it is given).
    pub(crate) fn required(&self, name: &str) -> Result<String, Failure> {
        self.str(name)?
            .ok_or_else(|| Failure::Invalid(format!("`{name}` is required")))
    }

    pub(crate) fn bool(&self, name: &str) -> Result<Option<bool>, Failure> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(other) => Err(Failure::Invalid(format!(
                "`{name}` must be true or false, not {}",
                other.kind_name()
            ))),
        }
    }

    /// A list of strings (a single string counts as a list of one).
    pub(crate) fn strings(&self, name: &str) -> Result<Vec<String>, Failure> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(value) => strings_of(name, &value),
        }
    }

    /// A mapping of names to strings (tags).
    pub(crate) fn string_map(&self, name: &str) -> Result<Vec<(String, String)>, Failure> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(value) => string_pairs(name, &value),
        }
    }

    /// The `filter` argument as name and values, `tags` in it spelled `tag:KEY` as EC2's
    /// filters name them, followed by the `tags` argument's the same way.
    pub(crate) fn filters(&self) -> Result<Vec<(String, Vec<String>)>, Failure> {
        let mut out = Vec::new();
        if let Some(filter) = self.get("filter") {
            let map = filter.as_map().ok_or_else(|| {
                Failure::Invalid(format!(
                    "`filter` must be a mapping of filter names to values, not {}",
                    filter.kind_name()
                ))
            })?;
            for (name, value) in map {
                if name == "tags" {
                    for (key, value) in string_pairs("filter.tags", value)? {
                        out.push((format!("tag:{key}"), vec![value]));
                    }
                } else {
                    out.push((name.clone(), strings_of(&format!("filter.{name}"), value)?));
                }
            }
        }
        for (key, value) in self.string_map("tags")? {
            out.push((format!("tag:{key}"), vec![value]));
        }
        Ok(out)
    }
}

/// The arguments in one line, secrets hidden: `{ filter: { tags: { Name: "shared" } } }`.
fn describe(map: &Map) -> String {
    if map.is_empty() {
        "(no filter)".to_string()
    } else {
        Value::Map(map.clone()).render()
    }
}

fn strings_of(name: &str, value: &Value) -> Result<Vec<String>, Failure> {
    let scalar = |v: &Value| match v.unmarked() {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    let wrong = || Failure::Invalid(format!("`{name}` must be a string or a list of strings"));
    match value {
        Value::List(items) => items.iter().map(|v| scalar(v).ok_or_else(wrong)).collect(),
        other => scalar(other).map(|s| vec![s]).ok_or_else(wrong),
    }
}

fn string_pairs(name: &str, value: &Value) -> Result<Vec<(String, String)>, Failure> {
    let map = value.as_map().ok_or_else(|| {
        Failure::Invalid(format!("`{name}` must be a mapping of names to strings"))
    })?;
    map.iter()
        .map(|(k, v)| match v.unmarked() {
            Value::String(s) => Ok((k.clone(), s)),
            other => Err(Failure::Invalid(format!(
                "`{name}.{k}` must be a string, not {}",
                other.kind_name()
            ))),
        })
        .collect()
}

/// A string attribute, `null` when AWS gave none.
pub(crate) fn text(value: Option<impl Into<String>>) -> Value {
    value
        .map(|s| Value::String(s.into()))
        .unwrap_or(Value::Null)
}

/// A time AWS gave, as RFC 3339 text.
pub(crate) fn date(d: Option<&aws_smithy_types::DateTime>) -> Value {
    text(d.and_then(|d| d.fmt(aws_smithy_types::date_time::Format::DateTime).ok()))
}

/// A list of strings attribute.
pub(crate) fn texts<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Value {
    Value::List(
        values
            .into_iter()
            .map(|s| Value::String(s.into()))
            .collect(),
    )
}
