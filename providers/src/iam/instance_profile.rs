//! `aws.iam.instance_profile`: the container that hands one role to EC2 instances.
//!
//! `CreateInstanceProfile` makes it (with its tags); the role is added with
//! `AddRoleToInstanceProfile` and changed in place by removing the old role and adding the new
//! one, as terraform-provider-aws does. A profile holds at most one role. Delete takes the role
//! out first, since IAM refuses to delete a profile that still holds one. The id is the name.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use stacks::{Kind, Map, NameRule, Prop, TypeSchema, Value};

use super::{iam_tags, tags_from_iam, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{desired, given, required_str};
use crate::retry::{wait_for, with_backoff, Wait};
use crate::tags::{reconcile, tag_api, tag_strings};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.iam.instance_profile";

/// IAM's limit on an instance profile name.
const NAME_MAX_LEN: usize = 128;

/// How long a profile just created or changed may take to become readable (IAM is eventually
/// consistent), looking every 2 s; terraform-provider-aws waits up to its two-minute
/// propagation timeout.
const PROFILE_READABLE: Wait = Wait {
    timeout: Duration::from_secs(120),
    interval: Duration::from_secs(2),
};

/// How long `AddRoleToInstanceProfile` keeps retrying while the profile or the role just
/// created is not visible yet (`NoSuchEntity` naming the role, or "Invalid IAM Instance
/// Profile name"); terraform-provider-aws's propagation timeout.
const ADD_ROLE_PROPAGATION_BUDGET: Duration = Duration::from_secs(120);

tag_api! {
    /// IAM's tagging calls for one instance profile, by name.
    ProfileTags(aws_sdk_iam::Client) by instance_profile_name:
        tag_instance_profile(iam_tags), untag_instance_profile
}

/// The profile's properties.
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("name", Kind::String).force_new(),
            Prop::new("path", Kind::String).force_new().default("/"),
            Prop::new("role", Kind::String).resettable(),
            Prop::new("tags", Kind::Map(Box::new(Kind::String))),
        ],
        attrs: vec!["arn", "name", "id"],
        taggable: true,
        check: None,
        name_rule: Some(NameRule {
            prop: "name",
            max_len: NAME_MAX_LEN,
            suffix_when: None,
        }),
    }
}

/// How the catalogue knows `aws.iam.instance_profile`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(InstanceProfileProvider::new(ctx)),
    about: "An instance profile handing one role to EC2 instances; a new role replaces the old \
            one in place.",
    import_id: "the instance profile name",
    attributes: &[
        (
            "arn",
            "the instance profile ARN, which EC2 launch settings take",
        ),
        ("name", "the instance profile name"),
        ("id", "IAM's unique id of the instance profile (`AIPA…`)"),
    ],
    property_notes: &[(
        "role",
        "the role's name (`${role.name}`); a change removes the old role and adds the new one",
    )],
    actions: Actions {
        create: &[
            "iam:CreateInstanceProfile",
            "iam:TagInstanceProfile",
            "iam:AddRoleToInstanceProfile",
            "iam:GetInstanceProfile",
        ],
        read: &["iam:GetInstanceProfile"],
        update: &[
            "iam:RemoveRoleFromInstanceProfile",
            "iam:AddRoleToInstanceProfile",
            "iam:TagInstanceProfile",
            "iam:UntagInstanceProfile",
            "iam:GetInstanceProfile",
        ],
        delete: &[
            "iam:GetInstanceProfile",
            "iam:RemoveRoleFromInstanceProfile",
            "iam:DeleteInstanceProfile",
        ],
    },
    resources: &[
        "arn:{partition}:iam::{account}:instance-profile{path=/}{name}",
        "arn:{partition}:iam::{account}:role/{role}",
        "arn:{partition}:iam::{account}:role/*/{role}",
    ],
    passes_role: &[],
};

/// True for the errors IAM gives while a profile or role created moments ago is not visible to
/// `AddRoleToInstanceProfile` yet.
fn not_propagated(e: &ProviderError) -> bool {
    let message = e.message().unwrap_or_default();
    (e.is_code(NOT_FOUND) && message.contains("role"))
        || message.contains("Invalid IAM Instance Profile name")
}

/// Manages instance profiles; the id is the profile name.
pub struct InstanceProfileProvider {
    schema: TypeSchema,
    iam: aws_sdk_iam::Client,
}

impl InstanceProfileProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            iam: crate::aws::sdk_client!(aws_sdk_iam, ctx),
        }
    }

    /// The profile in the stack's terms, or `None` when it does not exist.
    async fn find_profile(&self, name: &str) -> Result<Option<Resource>> {
        let out = self
            .iam
            .get_instance_profile()
            .instance_profile_name(name)
            .send()
            .await
            .map_err(api_error);
        let Some(out) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let profile = out.instance_profile().ok_or_else(|| {
            ProviderError::invalid(format!("GetInstanceProfile returned nothing for {name}"))
        })?;
        let mut properties = Map::from([
            (
                "name".to_string(),
                Value::str(profile.instance_profile_name()),
            ),
            ("path".to_string(), Value::str(profile.path())),
            ("tags".to_string(), tags_from_iam(profile.tags())),
        ]);
        // A profile holds at most one role.
        if let Some(role) = profile.roles().first() {
            properties.insert("role".to_string(), Value::str(role.role_name()));
        }
        let attributes = Map::from([
            ("arn".to_string(), Value::str(profile.arn())),
            (
                "name".to_string(),
                Value::str(profile.instance_profile_name()),
            ),
            ("id".to_string(), Value::str(profile.instance_profile_id())),
        ]);
        Ok(Some(Resource {
            id: profile.instance_profile_name().to_string(),
            properties,
            attributes,
        }))
    }

    /// Reads a profile that must exist (it was just created or changed), waiting out IAM's
    /// eventual consistency.
    async fn read_existing(&self, name: &str) -> Result<Resource> {
        wait_for(
            &format!("instance profile {name} to be readable"),
            PROFILE_READABLE,
            || self.find_profile(name),
        )
        .await
    }

    /// Adds `role`, retrying while IAM does not see the profile or the role yet.
    async fn add_role(&self, profile: &str, role: &str) -> Result<()> {
        with_backoff(ADD_ROLE_PROPAGATION_BUDGET, not_propagated, || {
            let call = self
                .iam
                .add_role_to_instance_profile()
                .instance_profile_name(profile)
                .role_name(role);
            async move { call.send().await.map_err(api_error) }
        })
        .await?;
        Ok(())
    }

    /// Takes `role` out; a profile, role or membership already gone is success.
    async fn remove_role(&self, profile: &str, role: &str) -> Result<()> {
        let out = self
            .iam
            .remove_role_from_instance_profile()
            .instance_profile_name(profile)
            .role_name(role)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }
}

#[async_trait]
impl Provider for InstanceProfileProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Creates the profile with its path and tags, then adds the role.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let name = required_str(props, "name")?;
        let path = desired(&self.schema, props, "path")
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_else(|| "/".to_string());
        let tags = iam_tags(tag_strings(props.get("tags"))?)?;
        self.iam
            .create_instance_profile()
            .instance_profile_name(&name)
            .path(path)
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(api_error)?;
        after_made(&name, async {
            // IAM may not show the new profile to AddRoleToInstanceProfile at once.
            self.read_existing(&name).await?;
            if let Some(role) = given(props, "role").and_then(|v| v.as_str().map(str::to_string)) {
                self.add_role(&name, &role).await?;
            }
            self.read_existing(&name).await
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        self.find_profile(&req.id).await
    }

    /// A new role: the old one is removed and the new one added; tags: only the keys that
    /// differ.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        let name = req.id.as_str();
        let changed = |prop: &str| req.changed.iter().any(|c| c == prop);
        if let Some(prop) = req
            .changed
            .iter()
            .find(|p| !matches!(p.as_str(), "role" | "tags"))
        {
            return Err(ProviderError::not_in_place(prop, TYPE_NAME));
        }
        if changed("role") {
            let role_of =
                |props: &Map| given(props, "role").and_then(|v| v.as_str().map(str::to_string));
            if let Some(old) = role_of(&req.prior_properties) {
                self.remove_role(name, &old).await?;
            }
            if let Some(new) = role_of(&req.properties) {
                self.add_role(name, &new).await?;
            }
        }
        if changed("tags") {
            let api = ProfileTags {
                client: &self.iam,
                id: name,
            };
            reconcile(&api, &req.prior_properties, &req.properties).await?;
        }
        self.read_existing(name).await
    }

    /// Takes out the role the profile holds, then deletes it; a profile already gone is
    /// success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let Some(profile) = self.find_profile(&req.id).await? else {
            return Ok(());
        };
        if let Some(role) = profile.properties.get("role").and_then(Value::as_str) {
            self.remove_role(&req.id, role).await?;
        }
        let out = self
            .iam
            .delete_instance_profile()
            .instance_profile_name(&req.id)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// Finds the profile by its deterministic name.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let name = required_str(&req.properties, "name")?;
        self.find_profile(&name).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_a_role_is_retried_only_while_the_profile_or_role_is_not_visible_yet() {
        let role_missing = ProviderError::Api {
            code: "NoSuchEntity".into(),
            message: "The role with name worker cannot be found.".into(),
        };
        let profile_missing = ProviderError::Api {
            code: "InvalidParameterValue".into(),
            message: "Value (web) for parameter iamInstanceProfile.name is invalid. Invalid IAM \
                      Instance Profile name"
                .into(),
        };
        let full = ProviderError::Api {
            code: "LimitExceeded".into(),
            message: "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1".into(),
        };
        assert!(not_propagated(&role_missing));
        assert!(not_propagated(&profile_missing));
        assert!(!not_propagated(&full));
    }
}
