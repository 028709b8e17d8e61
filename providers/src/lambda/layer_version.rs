//! `aws.lambda.layer_version`: one version of a Lambda layer.
//!
//! A layer version is immutable: `PublishLayerVersion` makes the next version of the layer
//! from a package, and every property forces replacement (a new version is published, then
//! the old one is deleted, or the other way round as the lifecycle says). Delete deletes that
//! version only (`DeleteLayerVersion`); the layer is gone when its last version is.
//!
//! `code` is given as a function's is, and reads back the same way (see
//! [`super::code::code_as_read`]): a directory is zipped deterministically, so the same sources
//! give the same `CodeSha256` and read as unchanged, and edited sources read as a change of
//! `code`, which replaces the version. Code in S3 is compared by the hash recorded at publish.
//!
//! The id is the layer version ARN (`arn:…:layer:NAME:VERSION`).

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{Architecture, LayerVersionContentInput, Runtime};
use stacks::{Kind, Map, Prop, TypeSchema, Value};

use super::code::{code_as_read, package, CodeSource};
use super::function::{string_list, NOT_FOUND};
use crate::aws::{api_error, missing_is_none, AwsContext};
use crate::catalogue::entry::{Actions, Entry};
use crate::props::{given, required_str, set_in_prior_order};
use crate::{
    after_made, CreateRequest, DeleteRequest, FindRequest, Provider, ProviderError, ReadRequest,
    Resource, Result, UpdateRequest,
};

pub const TYPE_NAME: &str = "aws.lambda.layer_version";

/// The layer version's properties: all of them force replacement.
pub fn schema() -> TypeSchema {
    let strings = || Kind::List(Box::new(Kind::String));
    TypeSchema {
        type_name: TYPE_NAME,
        props: vec![
            Prop::new("layer_name", Kind::String).required().force_new(),
            Prop::new(
                "code",
                Kind::Object(vec![
                    Prop::new("path", Kind::String)
                        .directory_or_zip()
                        .conflicts_with(&["s3_bucket", "s3_key"]),
                    Prop::new("s3_bucket", Kind::String).requires(&["s3_key"]),
                    Prop::new("s3_key", Kind::String).requires(&["s3_bucket"]),
                ]),
            )
            .required()
            .force_new(),
            Prop::new("compatible_runtimes", strings())
                .allowed(aws_sdk_lambda::types::Runtime::values())
                .force_new(),
            Prop::new("compatible_architectures", strings()).force_new(),
            Prop::new("description", Kind::String).force_new(),
            Prop::new("license_info", Kind::String).force_new(),
        ],
        attrs: vec!["arn", "layer_arn", "version", "code_sha256"],
        taggable: false,
        check: None,
        name_rule: None,
    }
}

/// How the catalogue knows `aws.lambda.layer_version`.
pub const ENTRY: Entry = Entry {
    schema,
    provider: |ctx| Arc::new(LayerVersionProvider::new(ctx)),
    about: "One version of a Lambda layer, from a local directory or file strata packages, or \
            from an object in S3; versions are immutable, so every change publishes a new one.",
    import_id: "the layer version ARN",
    attributes: &[
        ("arn", "the layer version ARN (`LAYER_ARN:VERSION`)"),
        ("layer_arn", "the layer ARN, without the version"),
        ("version", "the version number"),
        (
            "code_sha256",
            "the SHA-256 of the package, as Lambda reports it",
        ),
    ],
    property_notes: &[(
        "code",
        "`path` (a directory or `.zip` strata packages), or `s3_bucket` and `s3_key`",
    )],
    actions: Actions {
        create: &["lambda:PublishLayerVersion", "lambda:GetLayerVersion"],
        read: &["lambda:GetLayerVersion", "lambda:ListLayerVersions"],
        update: &[],
        delete: &["lambda:DeleteLayerVersion"],
    },
    resources: &[
        "arn:{partition}:lambda:{region}:{account}:layer:{layer_name}",
        "arn:{partition}:lambda:{region}:{account}:layer:{layer_name}:*",
    ],
    passes_role: &[],
};

/// The layer name and version number of a layer version ARN.
fn split_arn(arn: &str) -> Result<(&str, i64)> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "lambda", _, _, "layer", name, version] if !name.is_empty() => version
            .parse()
            .map(|v| (*name, v))
            .map_err(|_| ProviderError::invalid(format!("`{arn}` has no version number"))),
        _ => Err(ProviderError::invalid(format!(
            "`{arn}` is not a layer version ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION)"
        ))),
    }
}

/// Manages layer versions; the id is the layer version ARN.
pub struct LayerVersionProvider {
    schema: TypeSchema,
    lambda: aws_sdk_lambda::Client,
    /// Where relative `code.path`s start (the stack file's directory).
    base_dir: PathBuf,
}

impl LayerVersionProvider {
    pub fn new(ctx: &AwsContext) -> Self {
        Self {
            schema: schema(),
            lambda: crate::aws::sdk_client!(aws_sdk_lambda, ctx),
            base_dir: ctx.base_dir.clone(),
        }
    }

    /// The version in the stack's terms, or `None` when it (or its layer) does not exist.
    /// `prior` is what the stack wrote (for `code`, and the order of the lists);
    /// `recorded_sha` the `CodeSha256` recorded at publish; `local_sha` the hash of the
    /// package just published.
    async fn find_version(
        &self,
        layer: &str,
        version: i64,
        prior: &Map,
        recorded_sha: Option<&str>,
        local_sha: Option<&str>,
    ) -> Result<Option<Resource>> {
        let out = self
            .lambda
            .get_layer_version()
            .layer_name(layer)
            .version_number(version)
            .send()
            .await
            .map_err(api_error);
        let Some(out) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let arn = out
            .layer_version_arn()
            .ok_or_else(|| ProviderError::invalid("GetLayerVersion returned no ARN"))?;
        let live_sha = out
            .content()
            .and_then(|c| c.code_sha256())
            .unwrap_or_default();
        let mut properties = Map::from([("layer_name".to_string(), Value::str(layer))]);
        if let Some(code) = code_as_read(
            prior.get("code"),
            live_sha,
            recorded_sha,
            local_sha,
            &self.base_dir,
        ) {
            properties.insert("code".into(), code);
        }
        let runtimes = out
            .compatible_runtimes()
            .iter()
            .map(|r| r.as_str().to_string());
        properties.insert(
            "compatible_runtimes".into(),
            set_in_prior_order(prior.get("compatible_runtimes"), runtimes),
        );
        let architectures = out
            .compatible_architectures()
            .iter()
            .map(|a| a.as_str().to_string());
        properties.insert(
            "compatible_architectures".into(),
            set_in_prior_order(prior.get("compatible_architectures"), architectures),
        );
        for (prop, value) in [
            ("description", out.description()),
            ("license_info", out.license_info()),
        ] {
            if let Some(text) = value.filter(|t| !t.is_empty()) {
                properties.insert(prop.into(), Value::str(text));
            }
        }
        let layer_arn = out.layer_arn().map(str::to_string).unwrap_or_else(|| {
            arn.rsplit_once(':')
                .map_or(arn, |(layer, _)| layer)
                .to_string()
        });
        Ok(Some(Resource {
            id: arn.to_string(),
            properties,
            attributes: Map::from([
                ("arn".to_string(), Value::str(arn)),
                ("layer_arn".to_string(), Value::str(layer_arn)),
                ("version".to_string(), Value::int(out.version())),
                ("code_sha256".to_string(), Value::str(live_sha)),
            ]),
        }))
    }
}

/// The strings of a list property, as Lambda's enum type.
fn enum_list<T: for<'a> From<&'a str>>(props: &Map, prop: &str) -> Result<Option<Vec<T>>> {
    Ok(string_list(prop, given(props, prop))?
        .map(|items| items.iter().map(|s| T::from(s.as_str())).collect()))
}

#[async_trait]
impl Provider for LayerVersionProvider {
    fn schema(&self) -> &TypeSchema {
        &self.schema
    }

    /// Packages the code and publishes the next version of the layer with it.
    async fn create(&self, req: CreateRequest) -> Result<Resource> {
        let props = &req.properties;
        let layer = required_str(props, "layer_name")?;
        let code =
            given(props, "code").ok_or_else(|| ProviderError::invalid("`code` is required"))?;
        let (content, local_sha) = match CodeSource::from_value(&code)? {
            CodeSource::Path(_) => {
                let built = package(&code, &self.base_dir)?;
                let content = LayerVersionContentInput::builder()
                    .zip_file(Blob::new(built.zip))
                    .build();
                (content, Some(built.sha256))
            }
            CodeSource::S3 { bucket, key } => (
                LayerVersionContentInput::builder()
                    .s3_bucket(bucket)
                    .s3_key(key)
                    .build(),
                None,
            ),
        };
        let text = |prop: &str| given(props, prop).and_then(|v| v.as_str().map(str::to_string));
        let out = self
            .lambda
            .publish_layer_version()
            .layer_name(&layer)
            .content(content)
            .set_compatible_runtimes(enum_list::<Runtime>(props, "compatible_runtimes")?)
            .set_compatible_architectures(enum_list::<Architecture>(
                props,
                "compatible_architectures",
            )?)
            .set_description(text("description"))
            .set_license_info(text("license_info"))
            .send()
            .await
            .map_err(api_error)?;
        let arn = out
            .layer_version_arn()
            .ok_or_else(|| ProviderError::invalid("PublishLayerVersion returned no ARN"))?;
        after_made(arn, async {
            let (_, version) = split_arn(arn)?;
            self.find_version(&layer, version, props, None, local_sha.as_deref())
                .await?
                .ok_or_else(|| {
                    ProviderError::invalid(format!(
                        "layer version {arn} was published but cannot be read back"
                    ))
                })
        })
        .await
    }

    async fn read(&self, req: ReadRequest) -> Result<Option<Resource>> {
        let (layer, version) = split_arn(&req.id)?;
        let recorded_sha = req
            .prior_attributes
            .get("code_sha256")
            .and_then(Value::as_str);
        self.find_version(layer, version, &req.prior_properties, recorded_sha, None)
            .await
    }

    /// Every property forces replacement: there is nothing to change in place.
    async fn update(&self, req: UpdateRequest) -> Result<Resource> {
        if let Some(prop) = req.changed.first() {
            return Err(ProviderError::not_in_place(prop, TYPE_NAME));
        }
        let (layer, version) = split_arn(&req.id)?;
        let recorded_sha = req
            .prior_attributes
            .get("code_sha256")
            .and_then(Value::as_str);
        self.find_version(layer, version, &req.properties, recorded_sha, None)
            .await?
            .ok_or_else(|| ProviderError::invalid(format!("layer version {} is gone", req.id)))
    }

    /// Deletes this version; one already gone is success.
    async fn delete(&self, req: DeleteRequest) -> Result<()> {
        let (layer, version) = split_arn(&req.id)?;
        let out = self
            .lambda
            .delete_layer_version()
            .layer_name(layer)
            .version_number(version)
            .send()
            .await
            .map_err(api_error);
        missing_is_none(out, NOT_FOUND).map(|_| ())
    }

    /// Finds the newest version of the layer that reads back as the stack asks (same package,
    /// same settings): what a publish interrupted before its result was recorded made.
    async fn find(&self, req: FindRequest) -> Result<Option<Resource>> {
        let layer = required_str(&req.properties, "layer_name")?;
        let out = self
            .lambda
            .list_layer_versions()
            .layer_name(&layer)
            .send()
            .await
            .map_err(api_error);
        let Some(out) = missing_is_none(out, NOT_FOUND)? else {
            return Ok(None);
        };
        let mut versions: Vec<i64> = out.layer_versions().iter().map(|v| v.version()).collect();
        versions.sort_unstable_by(|a, b| b.cmp(a));
        for version in versions {
            let Some(found) = self
                .find_version(&layer, version, &req.properties, None, None)
                .await?
            else {
                continue;
            };
            let same = self.schema.props.iter().all(|p| {
                match (req.properties.get(p.name), found.properties.get(p.name)) {
                    (Some(want), Some(have)) => want.unmarked() == *have,
                    (Some(want), None) => *want == Value::Null,
                    (None, _) => true,
                }
            });
            if same {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layer_version_arn_names_the_layer_and_the_version() {
        assert_eq!(
            split_arn("arn:aws:lambda:us-east-1:123456789012:layer:shared:7").unwrap(),
            ("shared", 7)
        );
        assert!(split_arn("arn:aws:lambda:us-east-1:123456789012:layer:shared").is_err());
        assert!(split_arn("arn:aws:lambda:us-east-1:123456789012:function:orders:7").is_err());
    }
}
