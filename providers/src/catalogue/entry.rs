//! What registering a resource type means: one [`Entry`] per type, declared in the type's
//! file beside its schema.

use std::sync::Arc;

use stacks::TypeSchema;

use crate::aws::AwsContext;
use crate::Provider;

/// One resource type: its schema and its provider together, and what the docs say of it.
#[derive(Clone, Copy)]
pub struct Entry {
    /// The type's schema (its properties, which force replacement, its attributes).
    pub schema: fn() -> TypeSchema,
    /// The type's provider, with clients built from the context. Its
    /// [`Provider::schema`] is `schema()`.
    pub provider: fn(&AwsContext) -> Arc<dyn Provider>,
    /// What the type is, in one sentence, for the docs.
    pub about: &'static str,
    /// What `strata import ADDR ID` takes as `ID` ("the queue URL"): the id the provider's
    /// `read` is given.
    pub import_id: &'static str,
    /// Every attribute of the schema with what it holds, in the schema's order.
    pub attributes: &'static [(&'static str, &'static str)],
    /// Remarks on some properties, for the docs (`vpc_id`: detached and attached on change).
    pub property_notes: &'static [(&'static str, &'static str)],
    /// The IAM actions the provider calls, per operation: what a deployer's role needs.
    pub actions: Actions,
    /// The ARNs those actions apply to, as templates filled from the planned resource (see
    /// [`crate::catalogue::policy`]): `{partition}`, `{region}`, `{account}`, `{id}` (the
    /// physical id, `*` before it exists), `{PROP}` (a property's value; a list gives one ARN
    /// per item; an ARN whose property is not set is left out), `{PROP=DEFAULT}`,
    /// `{PROP|name}` (after the last `/` or `:`), `{PROP|path}` (with a leading `/`). A value
    /// known only after apply becomes `*`. Actions AWS authorises on `*` alone
    /// ([`crate::catalogue::policy::STAR_ONLY`]) are granted on `*` instead.
    pub resources: &'static [&'static str],
    /// The roles the type hands to its service (`iam:PassRole`): the property path holding
    /// the role ARN (`role`, `targets[].role_arn`) and the service it is passed to
    /// (`lambda.amazonaws.com`), the `iam:PassedToService` condition.
    pub passes_role: &'static [(&'static str, &'static str)],
}

/// The IAM actions (`service:Action`) a type's provider calls for each operation, declared
/// beside the provider that makes the calls, so the policy a deployer needs can be derived
/// from a plan. `create` includes what a create reads back and what undoing a half-made create
/// calls; `read` is what refresh, adoption and import call; `update` what any in-place change
/// may call; `delete` what removing the object calls.
#[derive(Clone, Copy, Debug)]
pub struct Actions {
    pub create: &'static [&'static str],
    pub read: &'static [&'static str],
    pub update: &'static [&'static str],
    pub delete: &'static [&'static str],
}

impl Actions {
    /// Every action of every operation, each once, sorted.
    pub fn all(&self) -> Vec<&'static str> {
        let mut all: Vec<&'static str> =
            [self.create, self.read, self.update, self.delete].concat();
        all.sort_unstable();
        all.dedup();
        all
    }
}

/// How the name of a type strata makes itself begins: such a type calls no AWS API.
pub const LOCAL_PREFIX: &str = "strata.";

impl Entry {
    /// The type name, from the schema.
    pub fn type_name(&self) -> &'static str {
        (self.schema)().type_name
    }

    /// True for a type strata makes itself, kept only in its state (`strata.random_id`): its
    /// provider calls no AWS API, so it declares no IAM action and no ARN, and `strata
    /// import` refuses it.
    pub fn is_local(&self) -> bool {
        self.type_name().starts_with(LOCAL_PREFIX)
    }

    /// What the docs say the attribute holds, when the entry documents it.
    pub fn attribute_doc(&self, attribute: &str) -> Option<&'static str> {
        self.attributes
            .iter()
            .find(|(name, _)| *name == attribute)
            .map(|(_, doc)| *doc)
    }

    /// The docs' remark on a property, if any.
    pub fn property_note(&self, prop: &str) -> Option<&'static str> {
        self.property_notes
            .iter()
            .find(|(name, _)| *name == prop)
            .map(|(_, note)| *note)
    }
}
