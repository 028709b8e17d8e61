//! `aws.iam.user_group_membership`: one user's membership of the groups it lists.
//!
//! Additive, as terraform-provider-aws's is: the resource manages only the groups it lists
//! (`AddUserToGroup` and `RemoveUserFromGroup` for those that differ, in place); the user's
//! other groups, whoever added them, are never touched, so several of these resources (or
//! other tools) may add the same user to different groups. Read lists the user's groups and
//! keeps the listed ones, in the stack's order.
//!
//! The id is the user name (it stays when the groups change). `strata import` takes
//! Terraform's import id, `USER/GROUP1/GROUP2...`, since which groups belong to the resource
//! cannot be read from IAM.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::NOT_FOUND;
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{given, required_str, set_in_prior_order};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.iam.user_group_membership";

/// The membership's properties: the user (replacing) and its groups (changed in place).
pub fn schema() -> TypeSchema {
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("user", Kind::String).required().force_new(),
            Prop::new("groups", Kind::List(Box::new(Kind::String))).required(),
        ],
        attrs: vec!["id"],
        taggable: false,
        check: Some(stacks::PropsCheck(check_props)),
        name_rule: None,
    }
}

/// How the catalogue knows `aws.iam.user_group_membership`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(UserGroupMembershipProvider::new(ctx)),
    about: "A user's membership of the groups listed; additive: the user's other groups are \
            left alone, and a change adds or removes only the listed groups that differ.",
    import_id: "`USER/GROUP1/GROUP2...`: the user name and the groups the resource manages, \
                as Terraform imports it",
    attributes: &[("id", "the user name")],
    property_notes: &[
        ("user", "the user's name (`${user.name}`)"),
        (
            "groups",
            "the group names, kept as a set; only these memberships are managed",
        ),
    ],
    actions: Actions {
        create: &["iam:AddUserToGroup", "iam:ListGroupsForUser"],
        read: &["iam:ListGroupsForUser"],
        update: &[
            "iam:AddUserToGroup",
            "iam:RemoveUserFromGroup",
            "iam:ListGroupsForUser",
        ],
        delete: &["iam:RemoveUserFromGroup"],
    },
    resources: &[
        "arn:{partition}:iam::{account}:user/{user}",
        "arn:{partition}:iam::{account}:user/*/{user}",
        "arn:{partition}:iam::{account}:group/{groups}",
        "arn:{partition}:iam::{account}:group/*/{groups}",
    ],
    passes_role: &[],
};

/// The group names a request gives, as strings.
fn group_names(props: &Map) -> Result<Vec<String>> {
    let Some(groups) = given(props, "groups") else {
        return Ok(Vec::new());
    };
    groups
        .as_list()
        .and_then(|items| {
            items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .ok_or_else(|| ProviderError::invalid("`groups` must be a list of group names"))
}

/// A membership naming no group: IAM has nothing to add the user to.
fn no_groups() -> ProviderError {
    ProviderError::invalid("`groups` must name at least one group")
}

/// The user and the managed groups an id names: `USER` alone (the groups then come from what
/// strata recorded) or, as `strata import` takes it, `USER/GROUP1/GROUP2...`.
fn split_id(id: &str) -> Result<(&str, Vec<String>)> {
    let mut parts = id.split('/');
    let user = parts.next().filter(|u| !u.is_empty()).ok_or_else(|| {
        ProviderError::invalid(format!(
            "`{id}` is not a user group membership id (USER/GROUP1/GROUP2..., as in \
             `ana/admins/developers`)"
        ))
    })?;
    let groups: Vec<String> = parts.map(str::to_string).collect();
    if groups.iter().any(String::is_empty) {
        return Err(ProviderError::invalid(format!(
            "`{id}` names an empty group (USER/GROUP1/GROUP2...)"
        )));
    }
    Ok((user, groups))
}

/// Adds and removes one user's memberships of the groups it lists; the id is the user name.
pub struct UserGroupMembershipProvider {
    schema: TypeSchema,
    iam: aws_sdk_iam::Client,
}

impl UserGroupMembershipProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            iam: crate::aws::sdk_client!(aws_sdk_iam, ctx),
        }
    }

    /// The membership of `user` in those of `groups` it belongs to, in `groups`' order;
    /// `None` when the user is gone.
    async fn find_membership(&self, user: &str, groups: &[String]) -> Result<Option<Resource>> {
        let listed = self
            .iam
            .list_groups_for_user()
            .user_name(user)
            .into_paginator()
            .items()
            .send()
            .collect::<std::result::Result<Vec<_>, _>>()
            .await
            .map_err(api_error);
        let Some(listed) = missing_is_none(listed, NOT_FOUND)? else {
            return Ok(None);
        };
        let managed: BTreeSet<&str> = groups.iter().map(String::as_str).collect();
        let member_of = listed
            .iter()
            .map(|g| g.group_name())
            .filter(|name| managed.contains(name))
            .map(str::to_string);
        let prior = Value::List(groups.iter().map(Value::str).collect());
        Ok(Some(Resource {
            id: user.to_string(),
            properties: Map::from([
                ("user".to_string(), Value::str(user)),
                (
                    "groups".to_string(),
                    set_in_prior_order(Some(&prior), member_of),
                ),
            ]),
            attributes: Map::from([("id".to_string(), Value::str(user))]),
        }))
    }

    async fn add(&self, user: &str, groups: &[String]) -> Result<()> {
        for group in groups {
            self.iam
                .add_user_to_group()
                .user_name(user)
                .group_name(group)
                .send()
                .await
                .map_err(api_error)?;
        }
        Ok(())
    }

    /// Removes `user` from `groups`; a user, group or membership already gone is success.
    async fn remove(&self, user: &str, groups: &[String]) -> Result<()> {
        for group in groups {
            let out = self
                .iam
                .remove_user_from_group()
                .user_name(user)
                .group_name(group)
                .send()
                .await
                .map_err(api_error);
            missing_is_none(out, NOT_FOUND)?;
        }
        Ok(())
    }

    /// Reads back a membership just made or changed.
    async fn read_written(&self, user: &str, groups: &[String]) -> Result<Resource> {
        self.find_membership(user, groups).await?.ok_or_else(|| {
            ProviderError::invalid(format!(
                "user {user} was added to groups but reads back gone"
            ))
        })
    }
}

#[async_trait]
impl Provider for UserGroupMembershipProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// `AddUserToGroup` for each listed group (adding a member again is a no-op in IAM).
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let user = required_str(&req.properties, "user")?;
        let groups = group_names(&req.properties)?;
        let Some((first, rest)) = groups.split_first() else {
            return Err(no_groups());
        };
        self.add(&user, std::slice::from_ref(first)).await?;
        after_made(&user, async {
            self.add(&user, rest).await?;
            self.read_written(&user, &groups).await
        })
        .await
    }

    /// The groups come from the id when it names them (import), else from what was recorded.
    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (user, from_id) = split_id(&req.id)?;
        let groups = if from_id.is_empty() {
            group_names(&req.prior_properties)?
        } else {
            from_id
        };
        self.find_membership(user, &groups).await
    }

    /// Adds the user to the groups newly listed and removes it from those no longer listed;
    /// its other groups are not touched.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        if let Some(prop) = req.changed.iter().find(|p| *p != "groups") {
            return Err(ProviderError::not_in_place(prop, TYPE_NAME));
        }
        let user = required_str(&req.properties, "user")?;
        let prior = group_names(&req.prior_properties)?;
        let desired = group_names(&req.properties)?;
        let removed: Vec<String> = prior
            .iter()
            .filter(|g| !desired.contains(g))
            .cloned()
            .collect();
        let added: Vec<String> = desired
            .iter()
            .filter(|g| !prior.contains(g))
            .cloned()
            .collect();
        self.remove(&user, &removed).await?;
        self.add(&user, &added).await?;
        self.read_written(&user, &desired).await
    }

    /// Removes the user from the listed groups only.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let (user, _) = split_id(&req.id)?;
        self.remove(user, &group_names(&req.properties)?).await
    }

    /// The membership when the user belongs to any of the recorded groups (a create that
    /// stopped half-way is adopted, and the plan adds the rest).
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let user = required_str(&req.properties, "user")?;
        let groups = group_names(&req.properties)?;
        let found = self.find_membership(&user, &groups).await?;
        Ok(found.filter(|r| {
            r.properties
                .get("groups")
                .and_then(Value::as_list)
                .is_some_and(|g| !g.is_empty())
        }))
    }
}

/// What the loader checks of a membership (`TypeSchema::check`): at least one group.
fn check_props(props: &Map) -> std::result::Result<(), String> {
    crate::props::at_load(
        group_names(props).and_then(|groups| match groups.is_empty() {
            true => Err(no_groups()),
            false => Ok(()),
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_import_id_names_the_user_and_the_groups_it_manages() {
        let (user, groups) = split_id("ana/admins/developers").unwrap();
        assert_eq!(user, "ana");
        assert_eq!(groups, vec!["admins".to_string(), "developers".to_string()]);
        let (user, groups) = split_id("ana").unwrap();
        assert_eq!(user, "ana");
        assert!(groups.is_empty());
    }

    #[test]
    fn an_id_without_a_user_or_with_an_empty_group_is_refused() {
        for id in ["", "/admins", "ana//admins", "ana/"] {
            let err = split_id(id).unwrap_err().to_string();
            assert!(err.contains("USER/GROUP1/GROUP2"), "{id}: {err}");
        }
    }
}
