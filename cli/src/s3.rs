//! The S3 clients the CLI builds for S3 registries and the S3 state backend, and the S3 side
//! of a registry (the CLI owns the AWS configuration).

use providers::aws::{AwsContext, AwsOptions};
use stacks::registry::{ErrorKind, RegistryError, Store, Versioned};
use state::s3::{Condition, S3Store, Written};

use crate::args::Global;

/// Opens S3 registries with clients built from the global options.
pub(crate) fn s3_opener(
    global: &Global,
) -> impl FnMut(&str, &str) -> Result<Box<dyn Store>, RegistryError> {
    let global = global.clone();
    move |bucket: &str, prefix: &str| {
        let client = s3_client(&global, None, None);
        Ok(Box::new(S3Registry {
            store: S3Store::new(client, bucket),
            prefix: prefix.to_string(),
        }) as Box<dyn Store>)
    }
}

/// An S3 client from `--region`/`--profile`/`--endpoint-url` (and the `AWS_*` environment),
/// the stack's region as a fallback, and `region` (a backend's own) over all of them. Against a
/// custom endpoint (the emulator) S3 needs path-style addressing.
pub(crate) fn s3_client(
    global: &Global,
    stack_region: Option<&str>,
    region: Option<&str>,
) -> aws_sdk_s3::Client {
    let options = AwsOptions {
        region: global.region.clone(),
        profile: global.profile.clone(),
        endpoint_url: global.endpoint_url.clone(),
        max_requests: usize::from(global.max_requests),
    };
    let stack_region = stack_region.map(str::to_string);
    let region = region.map(str::to_string);
    // The configuration loads asynchronously; load it on the state crate's I/O runtime, where
    // every call of the client then runs.
    state::s3::block_on(async move {
        let ctx = AwsContext::load(&options, stack_region.as_deref()).await;
        let mut config = aws_sdk_s3::config::Builder::from(&ctx.sdk)
            .force_path_style(ctx.custom_endpoint)
            .retry_partition(providers::aws::retry_partition());
        if let Some(region) = region {
            config = config.region(aws_sdk_s3::config::Region::new(region));
        }
        aws_sdk_s3::Client::from_conf(config.build())
    })
}

/// A registry in S3: keys under `prefix` in one bucket, with the conditional writes publishing
/// needs (`If-None-Match: *` to create, `If-Match` on the ETag to replace).
struct S3Registry {
    store: S3Store,
    prefix: String,
}

impl S3Registry {
    fn key(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }
}

fn remote(e: state::s3::S3Error) -> RegistryError {
    RegistryError::new(ErrorKind::Remote, e.to_string())
        .help("check the bucket in strata.toml, your AWS credentials and region")
}

impl Store for S3Registry {
    fn url(&self, key: &str) -> String {
        self.store.url(&self.key(key))
    }

    fn get(&self, key: &str) -> Result<Option<Versioned>, RegistryError> {
        Ok(self
            .store
            .get(&self.key(key))
            .map_err(remote)?
            .map(|o| Versioned {
                bytes: o.bytes,
                tag: o.etag,
            }))
    }

    fn create(&self, key: &str, bytes: &[u8]) -> Result<bool, RegistryError> {
        let written = self
            .store
            .put(&self.key(key), bytes.to_vec(), Condition::IfAbsent)
            .map_err(remote)?;
        Ok(matches!(written, Written::Done { .. }))
    }

    fn replace(
        &self,
        key: &str,
        bytes: &[u8],
        expected: Option<&str>,
    ) -> Result<bool, RegistryError> {
        let condition = match expected {
            Some(tag) => Condition::IfMatch(tag),
            None => Condition::IfAbsent,
        };
        let written = self
            .store
            .put(&self.key(key), bytes.to_vec(), condition)
            .map_err(remote)?;
        Ok(matches!(written, Written::Done { .. }))
    }
}
