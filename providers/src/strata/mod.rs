//! strata's own types: values strata makes itself and keeps in its state, with no AWS call
//! (Terraform's `random` provider). Their type names start with `strata.`
//! ([`crate::catalogue::Entry::is_local`]), so the catalogue's checks and `strata iam-policy`
//! know that they need no IAM action.
//!
//! A value is made once, on create, from the operating system's random source; it changes
//! only when a property that replaces it changes (`keepers`, by design). So `read` returns what
//! the state recorded, `delete` forgets it, `find` never finds one (an interrupted create makes
//! a new value), and `import` is refused: there is nothing outside the state to import.

use async_trait::async_trait;
use stacks::{Failure, Kind, Map, Prop, TypeSchema, Value};

use crate::catalogue::Actions;
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

pub mod random_id;
pub mod random_string;

/// The most bytes a `random_id`, or characters a `random_string`, may hold: a bound far above
/// any use, so a typo cannot make strata allocate without limit.
pub const MAX_LENGTH: i64 = 4096;

/// What `strata import` says of a local type: nothing to import.
pub const IMPORT_REFUSED: &str = "nothing: the value exists only in strata's state, so \
                                  `strata apply` makes it";

/// The IAM actions of a local type: none, as it calls no AWS API.
pub const NO_ACTIONS: Actions = Actions {
    create: &[],
    read: &[],
    update: &[],
    delete: &[],
};

/// `keepers`: values whose change makes a new random value (Terraform's `keepers`).
pub fn keepers() -> Prop {
    Prop::new("keepers", Kind::Map(Box::new(Kind::Any))).force_new()
}

/// A count between 1 and [`MAX_LENGTH`] (`byte_length`, `length`).
pub fn positive_count(value: &Value) -> std::result::Result<(), Failure> {
    count_between(value, 1)
}

/// A count between 0 and [`MAX_LENGTH`] (`min_upper` and the other minimums).
pub fn count(value: &Value) -> std::result::Result<(), Failure> {
    count_between(value, 0)
}

fn count_between(value: &Value, min: i64) -> std::result::Result<(), Failure> {
    let Some(n) = value.as_i64() else {
        return Ok(());
    };
    if (min..=MAX_LENGTH).contains(&n) {
        return Ok(());
    }
    Err(Failure {
        problem: "is out of range".into(),
        help: format!("give {min} to {MAX_LENGTH}"),
    })
}

/// `len` bytes from the operating system's random source.
pub fn random_bytes(len: usize) -> Result<Vec<u8>> {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes).map_err(random_source_failed)?;
    Ok(bytes)
}

/// A number below `n` (which is above 0), uniformly: draws that would favour the low numbers
/// are thrown away.
pub fn random_below(n: usize) -> Result<usize> {
    let n = u32::try_from(n).map_err(|_| ProviderError::invalid("too many choices"))?;
    let zone = u32::MAX - u32::MAX % n;
    loop {
        let draw = getrandom::u32().map_err(random_source_failed)?;
        if draw < zone {
            return Ok((draw % n) as usize);
        }
    }
}

fn random_source_failed(e: getrandom::Error) -> ProviderError {
    ProviderError::Transport(format!("the operating system's random source failed: {e}"))
}

/// A non-negative whole-number property (its default when not given).
pub fn count_of(schema: &TypeSchema, props: &Map, prop: &str) -> usize {
    crate::props::desired(schema, props, prop)
        .and_then(|v| v.as_i64())
        .and_then(|n| usize::try_from(n).ok())
        .unwrap_or(0)
}

/// The provider of a local type: `make` makes a new value from the properties, and `shown`
/// gives the resource as the properties ask it to be shown (a `random_string`'s `result`
/// marked sensitive when `sensitive: true`), so a recorded value keeps its marks on every read.
pub struct LocalProvider {
    schema: TypeSchema,
    make: fn(&TypeSchema, &Map) -> Result<Resource>,
    shown: fn(&TypeSchema, Resource) -> Resource,
}

impl LocalProvider {
    pub fn new(
        schema: TypeSchema,
        make: fn(&TypeSchema, &Map) -> Result<Resource>,
        shown: fn(&TypeSchema, Resource) -> Resource,
    ) -> LocalProvider {
        LocalProvider {
            schema,
            make,
            shown,
        }
    }
}

/// The properties without sensitive markers (what the value is made from).
fn plain(props: &Map) -> Map {
    props
        .iter()
        .map(|(k, v)| (k.clone(), v.unmarked()))
        .collect()
}

#[async_trait]
impl Provider for LocalProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = plain(&req.properties);
        if let Some(check) = self.schema.check {
            (check.0)(&props).map_err(ProviderError::Invalid)?;
        }
        let made = (self.make)(&self.schema, &props)?;
        Ok((self.shown)(&self.schema, made))
    }

    /// What the state recorded; with nothing recorded (an import), a refusal.
    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        if req.prior_attributes.is_empty() {
            return Err(ProviderError::invalid(format!(
                "a {} is made by strata and kept only in its state: there is nothing to \
                 import; `strata apply` makes one",
                self.schema.type_name
            )));
        }
        let recorded = Resource {
            id: req.id,
            properties: plain(&req.prior_properties),
            attributes: req.prior_attributes,
        };
        Ok(Some((self.shown)(&self.schema, recorded)))
    }

    /// Only what changes no value is updated in place (`sensitive`): the recorded value, shown
    /// as the new properties ask.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        if let Some(prop) = req
            .changed
            .iter()
            .find(|c| self.schema.prop(c).is_none_or(|p| p.force_new))
        {
            return Err(ProviderError::not_in_place(prop, self.schema.type_name));
        }
        let kept = Resource {
            id: req.id,
            properties: plain(&req.properties),
            attributes: req.prior_attributes,
        };
        Ok((self.shown)(&self.schema, kept))
    }

    /// Nothing to delete outside the state.
    async fn delete(&self, _req: DeleteRequest) -> Result<()> {
        Ok(())
    }

    /// A value lost before it was recorded cannot be found: a new one is made.
    async fn find(&self, _req: FindRequest) -> Result<Option<Resource>> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_below_a_bound_cover_it_and_stay_below_it() {
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let n = random_below(7).unwrap();
            seen[n] = true;
        }
        assert!(seen.iter().all(|s| *s), "{seen:?}");
    }

    #[test]
    fn counts_are_checked_between_their_bounds() {
        assert!(positive_count(&Value::int(0)).is_err());
        assert!(positive_count(&Value::int(1)).is_ok());
        assert!(positive_count(&Value::int(MAX_LENGTH + 1)).is_err());
        assert!(count(&Value::int(0)).is_ok());
        assert!(count(&Value::int(-1)).is_err());
    }
}
