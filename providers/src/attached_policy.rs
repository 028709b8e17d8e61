//! A policy document that is a setting of another resource, managed as a resource of its own:
//! a queue's `Policy` attribute (`aws.sqs.queue_policy`), a topic's (`aws.sns.topic_policy`).
//!
//! Everything but the calls is the same for each such type: the id is the holder's id (its
//! URL or ARN), "create" and "update" write the document, "delete" takes it off (or puts back
//! the service's default), a holder that is gone has no policy, and only `policy` changes in
//! place. A type says what is particular to it by implementing [`PolicySlot`]; the provider is
//! [`AttachedPolicyProvider`].

use async_trait::async_trait;
use stacks::{Map, TypeSchema, Value};

use crate::document::{document_from_aws, required_document_json};
use crate::props::required_str;
use crate::{
    CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest, Resource,
    Result, UpdateRequest,
};

/// The property holding the document, in every such type.
const POLICY: &str = "policy";

/// Where one kind of resource keeps its policy, and the calls that read and write it.
#[async_trait]
pub trait PolicySlot: Send + Sync + 'static {
    /// The property that names the holder (`queue_url`, `arn`); its value is the id.
    const HOLDER: &'static str;
    /// What the holder is called in messages (`queue`, `topic`).
    const HOLDER_KIND: &'static str;
    /// Whether the holder keeps the document exactly as written, with no attributes besides
    /// `id`, so that create records what it wrote instead of reading it back.
    const KEPT_AS_WRITTEN: bool = false;

    /// Writes `policy` (JSON text) onto `holder`.
    async fn put(&self, holder: &str, policy: String) -> Result<()>;

    /// The policy text on `holder` and the attributes to report besides `id`; `None` when the
    /// holder is gone or holds no policy.
    async fn get(&self, holder: &str) -> Result<Option<(String, Map)>>;

    /// Takes the policy off `holder` (or puts back the service's default); a holder that is
    /// gone is success.
    async fn remove(&self, holder: &str) -> Result<()>;
}

/// The provider of a [`PolicySlot`] type.
pub struct AttachedPolicyProvider<S> {
    schema: TypeSchema,
    slot: S,
}

impl<S: PolicySlot> AttachedPolicyProvider<S> {
    pub fn with_slot(schema: TypeSchema, slot: S) -> Self {
        Self { schema, slot }
    }

    /// The policy in the stack's terms, or `None` when the holder is gone or has none.
    async fn find_policy(&self, holder: &str) -> Result<Option<Resource>> {
        let Some((text, attributes)) = self.slot.get(holder).await? else {
            return Ok(None);
        };
        Self::as_resource(holder, &text, attributes).map(Some)
    }

    /// The policy in the stack's terms from the document's text on `holder`.
    fn as_resource(holder: &str, text: &str, mut attributes: Map) -> Result<Resource> {
        let properties = Map::from([
            (S::HOLDER.to_string(), Value::str(holder)),
            (POLICY.to_string(), document_from_aws(POLICY, text)?),
        ]);
        attributes.insert("id".to_string(), Value::str(holder));
        Ok(Resource {
            id: holder.to_string(),
            properties,
            attributes,
        })
    }

    /// Reads the policy just written; it is an error for it to be missing.
    async fn read_written(&self, holder: &str) -> Result<Resource> {
        self.find_policy(holder).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "the policy of {} {holder} was set but reads back empty",
                S::HOLDER_KIND
            ))
        })
    }
}

#[async_trait]
impl<S: PolicySlot> Provider for AttachedPolicyProvider<S> {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let holder = required_str(&req.properties, S::HOLDER)?;
        let policy = required_document_json(&req.properties, POLICY)?;
        if S::KEPT_AS_WRITTEN {
            self.slot.put(&holder, policy.clone()).await?;
            return Self::as_resource(&holder, &policy, Map::new());
        }
        self.slot.put(&holder, policy).await?;
        self.read_written(&holder).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_policy(&req.id).await
    }

    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        if let Some(prop) = req.changed.iter().find(|p| *p != POLICY) {
            return Err(ProviderError::not_in_place(prop, self.schema.type_name));
        }
        if !req.changed.is_empty() {
            let policy = required_document_json(&req.properties, POLICY)?;
            self.slot.put(&req.id, policy).await?;
        }
        self.read_written(&req.id).await
    }

    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        self.slot.remove(&req.id).await
    }

    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        self.find_policy(&required_str(&req.properties, S::HOLDER)?)
            .await
    }
}
