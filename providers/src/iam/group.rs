//! `aws.iam.group`: an IAM group, which users join and policies attach to.
//!
//! `CreateGroup` makes it; `UpdateGroup` moves it to a new path in place. Delete is a plain
//! `DeleteGroup`, as terraform-provider-aws's is: IAM refuses (`DeleteConflict`) while the
//! group still has members or policies, and strata does not remove what it does not manage.
//! Memberships and policy attachments that the stack manages reference the group, so they are
//! removed before it in the same run. The id is the group name.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::NOT_FOUND;
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, required_str};
use crate::retry::{wait_for, Wait};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.iam.group";

/// IAM's limit on a group name.
const NAME_MAX_LEN: usize = 128;

/// How long a group just created or changed may take to become readable (IAM is eventually
/// consistent), looking every 2 s: terraform-provider-aws's two-minute propagation timeout.
const GROUP_READABLE: Wait = Wait {
    timeout: Duration::from_secs(120),
    interval: Duration::from_secs(2),
};

/// The group's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String).force_new(),
            Prop::new("path", Kind::String).default("/"),
        ],
        attrs: vec!["arn", "name", "unique_id"],
        taggable: false,
        check: None,
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.iam.group`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(GroupProvider::new(ctx)),
    about: "An IAM group; deleting it fails while members or policies that the stack does not \
            manage remain, as in Terraform.",
    import_id: "the group name",
    attributes: &[
        ("arn", "the group ARN"),
        ("name", "the group name"),
        ("unique_id", "IAM's unique id of the group (`AGPA…`)"),
    ],
    property_notes: &[("path", "changed in place (`UpdateGroup`)")],
    actions: Actions {
        create: &["iam:CreateGroup", "iam:GetGroup"],
        read: &["iam:GetGroup"],
        update: &["iam:UpdateGroup", "iam:GetGroup"],
        delete: &["iam:DeleteGroup"],
    },
    resources: &["arn:{partition}:iam::{account}:group{path=/}{name}"],
    passes_role: &[],
};

/// Manages IAM groups; the id is the group name.
pub struct GroupProvider {
    schema: TypeSchema,
    iam: aws_sdk_iam::Client,
}

impl GroupProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            iam: crate::aws::sdk_client!(aws_sdk_iam, ctx),
        }
    }

    /// The group in the stack's terms, or `None` when it does not exist. `GetGroup` also lists
    /// members; one item is enough to read the group itself.
    async fn find_group(&self, name: &str) -> Result<Option<Resource>> {
        let out = self
            .iam
            .get_group()
            .group_name(name)
            .max_items(1)
            .send()
            .await
            .map_err(api_error);
        let Some(out) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let group = out.group().ok_or_else(|| {
            ProviderError::invalid(format!("GetGroup returned nothing for {name}"))
        })?;
        Ok(Some(Resource {
            id: group.group_name().to_string(),
            properties: Map::from([
                ("name".to_string(), Value::str(group.group_name())),
                ("path".to_string(), Value::str(group.path())),
            ]),
            attributes: Map::from([
                ("arn".to_string(), Value::str(group.arn())),
                ("name".to_string(), Value::str(group.group_name())),
                ("unique_id".to_string(), Value::str(group.group_id())),
            ]),
        }))
    }

    /// Reads a group that must exist, waiting out IAM's eventual consistency.
    async fn read_existing(&self, name: &str) -> Result<Resource> {
        wait_for(
            &format!("group {name} to be readable"),
            GROUP_READABLE,
            || self.find_group(name),
        )
        .await
    }

    fn path(&self, props: &Map) -> String {
        desired(&self.schema, props, "path")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "/".to_string())
    }
}

#[async_trait]
impl Provider for GroupProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let name = required_str(&req.properties, "name")?;
        self.iam
            .create_group()
            .group_name(&name)
            .path(self.path(&req.properties))
            .send()
            .await
            .map_err(api_error)?;
        after_made(&name, self.read_existing(&name)).await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_group(&req.id).await
    }

    /// A new path moves the group in place (`UpdateGroup` with `NewPath`).
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        if let Some(prop) = req.changed.iter().find(|p| *p != "path") {
            return Err(ProviderError::not_in_place(prop, TYPE_NAME));
        }
        if !req.changed.is_empty() {
            self.iam
                .update_group()
                .group_name(&req.id)
                .new_path(self.path(&req.properties))
                .send()
                .await
                .map_err(api_error)?;
        }
        self.read_existing(&req.id).await
    }

    /// `DeleteGroup`; a group already gone is success. A group that still has members or
    /// policies the stack does not manage is refused by IAM, and the error says so.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let out = self
            .iam
            .delete_group()
            .group_name(&req.id)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// Finds the group by its deterministic name.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "name")?;
        self.find_group(&name).await
    }
}
