//! What a provider is: the [`Provider`] trait, its requests and errors, and the [`Registry`]
//! that holds one provider per type.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use stacks::{Catalog, Map, TypeSchema};

/// A resource as it exists: its physical id, its properties in the stack's terms (normalised
/// so that a second plan is empty), and its attributes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Resource {
    pub id: String,
    pub properties: Map,
    pub attributes: Map,
}

/// Create a resource.
#[derive(Clone, Debug)]
pub struct CreateRequest {
    pub address: String,
    pub stack: String,
    /// Fully known desired properties (no unknowns; sensitive markers may be present).
    /// `name` is already the deterministic physical name; `tags` already carry the stack's
    /// tags and the `strata:` tags.
    pub properties: Map,
}

/// Read a resource by its id. `prior` is what strata recorded (it may help a provider read
/// only what it manages).
#[derive(Clone, Debug)]
pub struct ReadRequest {
    pub address: String,
    pub id: String,
    pub prior_properties: Map,
    pub prior_attributes: Map,
}

/// Update a resource in place.
#[derive(Clone, Debug)]
pub struct UpdateRequest {
    pub address: String,
    pub id: String,
    /// The properties as last recorded (or refreshed).
    pub prior_properties: Map,
    pub prior_attributes: Map,
    /// Fully known desired properties.
    pub properties: Map,
    /// The names of the properties that differ; only these are changed.
    pub changed: Vec<String>,
}

/// Delete a resource. A resource that is already gone is success.
#[derive(Clone, Debug)]
pub struct DeleteRequest {
    pub address: String,
    pub id: String,
    pub properties: Map,
    pub attributes: Map,
}

/// Look for a resource that strata may have created before a crash, or that a person
/// imports: by its deterministic name (`properties["name"]`) or by the `strata:stack` and
/// `strata:address` tags.
#[derive(Clone, Debug)]
pub struct FindRequest {
    pub address: String,
    pub stack: String,
    /// The desired properties recorded with the intent.
    pub properties: Map,
}

/// Why a provider call failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// AWS (or the emulator) answered with an error.
    #[error("{code}: {message}")]
    Api { code: String, message: String },
    /// The request could not be made or answered (network, timeout).
    #[error("{0}")]
    Transport(String),
    /// A wait for a state AWS reaches eventually ran out of time.
    #[error("timed out after {seconds}s waiting for {what}")]
    Timeout { what: String, seconds: u64 },
    /// The request cannot be made as given (a value AWS would reject, a missing id).
    #[error("{0}")]
    Invalid(String),
    /// A create made the object (`id`) and then failed (a follow-up call refused, the read
    /// back failed): the object exists, so the engine records it as tainted, and the next plan
    /// replaces it. Made with [`ProviderError::made`].
    #[error("{source}")]
    Partial {
        id: String,
        source: Box<ProviderError>,
    },
}

impl ProviderError {
    pub fn invalid(message: impl Into<String>) -> ProviderError {
        ProviderError::Invalid(message.into())
    }

    /// An update asked to change `prop` of `type_name`, which the type cannot change in place
    /// (the planner replaces for a `force_new` property, so this means a schema and its
    /// provider disagree).
    /// This error, from a create that had already made object `id`: see
    /// [`ProviderError::Partial`]. An error that already says so is kept as it is.
    pub fn made(self, id: impl Into<String>) -> ProviderError {
        match self {
            partial @ ProviderError::Partial { .. } => partial,
            other => ProviderError::Partial {
                id: id.into(),
                source: Box::new(other),
            },
        }
    }

    /// What a create made before it failed: the id of a [`ProviderError::Partial`].
    pub fn made_id(&self) -> Option<&str> {
        match self {
            ProviderError::Partial { id, .. } => Some(id),
            _ => None,
        }
    }

    pub fn not_in_place(prop: &str, type_name: &str) -> ProviderError {
        ProviderError::invalid(format!(
            "`{prop}` of {type_name} cannot be changed in place"
        ))
    }
}

pub type Result<T, E = ProviderError> = std::result::Result<T, E>;

/// Runs what a create does once its object `id` exists (follow-up calls, waits, the read back):
/// an error from it says the object was made ([`ProviderError::made`]), so the engine records
/// it as tainted instead of forgetting it.
pub async fn after_made<T>(
    id: &str,
    rest: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    rest.await.map_err(|e| e.made(id))
}

/// One resource type's lifecycle against AWS.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The type's schema: properties, which force replacement, attributes.
    fn schema(&self) -> &TypeSchema;

    async fn create(&self, req: CreateRequest) -> Result<Resource>;

    /// `Ok(None)` when the resource no longer exists: the planner creates it again.
    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>>;

    /// Reads many resources of this type. Providers whose API reads many ids in one call
    /// override this; the default reads them one by one, in parallel.
    async fn read_many(&self, reqs: Vec<ReadRequest>) -> Vec<Result<Option<Resource>>> {
        futures::future::join_all(reqs.into_iter().map(|r| self.read(r))).await
    }

    async fn update(&self, req: UpdateRequest) -> Result<Resource>;

    async fn delete(&self, req: DeleteRequest) -> Result<()>;

    /// Finds a resource by identity for adoption after a crash. `Ok(None)`: nothing there.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>>;
}

/// The providers strata uses, by type name.
#[derive(Clone, Default)]
pub struct Registry {
    providers: BTreeMap<String, Arc<Slot>>,
}

/// A type's provider, built the first time it is asked for.
struct Slot {
    schema: TypeSchema,
    make: Box<dyn Fn() -> Arc<dyn Provider> + Send + Sync>,
    built: OnceLock<Arc<dyn Provider>>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    pub fn insert(&mut self, provider: Arc<dyn Provider>) {
        let schema = provider.schema().clone();
        let built = OnceLock::new();
        let _ = built.set(provider.clone());
        self.insert_slot(Slot {
            schema,
            make: Box::new(move || provider.clone()),
            built,
        });
    }

    /// Registers the provider of `schema`'s type, which `make` builds the first time it is
    /// asked for: a stack uses a few of the types, and every provider builds its SDK clients,
    /// which costs a command's start time and memory. `make`'s provider must have `schema`.
    pub fn insert_lazy(
        &mut self,
        schema: TypeSchema,
        make: impl Fn() -> Arc<dyn Provider> + Send + Sync + 'static,
    ) {
        self.insert_slot(Slot {
            schema,
            make: Box::new(make),
            built: OnceLock::new(),
        });
    }

    fn insert_slot(&mut self, slot: Slot) {
        self.providers
            .insert(slot.schema.type_name.to_string(), Arc::new(slot));
    }

    pub fn get(&self, type_name: &str) -> Option<&Arc<dyn Provider>> {
        let slot = self.providers.get(type_name)?;
        Some(slot.built.get_or_init(|| (slot.make)()))
    }

    /// The type names that have a provider, sorted.
    pub fn type_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.providers.keys().map(String::as_str)
    }

    /// The schemas of every provider, for the stack loader.
    pub fn catalog(&self) -> Catalog {
        Catalog::new(self.providers.values().map(|slot| slot.schema.clone()))
    }
}
