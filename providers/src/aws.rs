//! Building AWS SDK clients from strata's global options, and reading AWS errors.

use std::fmt;

use aws_config::BehaviorVersion;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::ProviderError;

/// The region used when neither a flag, the environment, the profile nor the stack names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Where and as whom strata talks to AWS. Built from `--region`, `--profile`,
/// `--endpoint-url` (and the `AWS_*` environment variables the SDK honours).
#[derive(Clone, Debug, Default)]
pub struct AwsOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
}

/// The loaded SDK configuration shared by every provider.
#[derive(Clone)]
pub struct AwsContext {
    pub sdk: aws_config::SdkConfig,
    /// Set when an endpoint URL is in use (the local emulator): S3 then needs path-style.
    pub custom_endpoint: bool,
    /// Where relative local paths in a stack (Lambda `code.path`) start: the stack file's
    /// directory, so `strata -f other/stack.yaml` finds `other/src`.
    pub base_dir: std::path::PathBuf,
}

impl fmt::Debug for AwsContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsContext")
            .field("region", &self.region())
            .field("custom_endpoint", &self.custom_endpoint)
            .finish()
    }
}

/// An HTTPS client on rustls with ring: no C toolchain beyond what `ring` needs, and short
/// builds (the SDK's default client pulls in aws-lc).
pub fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

impl AwsContext {
    /// Loads the SDK configuration: credentials and region from the standard chain, with the
    /// options given taking precedence, then the stack's region, then [`DEFAULT_REGION`].
    pub async fn load(options: &AwsOptions, stack_region: Option<&str>) -> AwsContext {
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(http_client());
        if let Some(profile) = &options.profile {
            loader = loader.profile_name(profile);
        }
        let endpoint = options.endpoint_url.clone().or_else(|| {
            std::env::var("AWS_ENDPOINT_URL")
                .ok()
                .filter(|s| !s.is_empty())
        });
        if let Some(url) = &endpoint {
            loader = loader.endpoint_url(url);
        }
        let explicit_region = options
            .region
            .clone()
            .or_else(|| std::env::var("AWS_REGION").ok().filter(|s| !s.is_empty()));
        if let Some(region) = explicit_region {
            loader = loader.region(aws_config::Region::new(region));
        }
        let mut sdk = loader.load().await;
        if sdk.region().is_none() {
            let region = stack_region.unwrap_or(DEFAULT_REGION).to_string();
            sdk = sdk
                .into_builder()
                .region(aws_config::Region::new(region))
                .build();
        }
        AwsContext {
            sdk,
            custom_endpoint: endpoint.is_some(),
            base_dir: std::path::PathBuf::from("."),
        }
    }

    /// A context for the local emulator at `url` with dummy static credentials.
    pub fn for_endpoint(url: &str, region: &str) -> AwsContext {
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(http_client())
            .endpoint_url(url)
            .region(aws_config::Region::new(region.to_string()))
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(
                    aws_credential_types::Credentials::new(
                        "test",
                        "test",
                        None,
                        None,
                        "strata-static",
                    ),
                ),
            )
            .build();
        AwsContext {
            sdk,
            custom_endpoint: true,
            base_dir: std::path::PathBuf::from("."),
        }
    }

    pub fn region(&self) -> String {
        self.sdk
            .region()
            .map(|r| r.to_string())
            .unwrap_or_else(|| DEFAULT_REGION.to_string())
    }

    /// The ARN partition of the region (`aws`, `aws-cn`, `aws-us-gov`), for ARNs strata builds
    /// itself (API Gateway execution ARNs) rather than reads from AWS.
    pub fn partition(&self) -> &'static str {
        let region = self.region();
        if region.starts_with("cn-") {
            "aws-cn"
        } else if region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }

    /// The account id, from STS `GetCallerIdentity`.
    pub async fn account_id(&self) -> Result<String, ProviderError> {
        let sts = aws_sdk_sts::Client::new(&self.sdk);
        let out = sts.get_caller_identity().send().await.map_err(api_error)?;
        out.account
            .ok_or_else(|| ProviderError::invalid("STS returned no account id"))
    }
}

/// Turns an SDK error into a [`ProviderError`] that keeps AWS's code and message.
pub fn api_error<E, R>(err: SdkError<E, R>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: fmt::Debug + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            ProviderError::Api {
                code: inner.code().unwrap_or("Unknown").to_string(),
                message: inner.message().unwrap_or("").to_string(),
            }
        }
        _ => match (err.code(), err.message()) {
            (Some(code), message) => ProviderError::Api {
                code: code.to_string(),
                message: message.unwrap_or("").to_string(),
            },
            _ => ProviderError::Transport(DisplayErrorContext(&err).to_string()),
        },
    }
}

impl ProviderError {
    /// AWS's error code, when AWS answered.
    pub fn code(&self) -> Option<&str> {
        match self {
            ProviderError::Api { code, .. } => Some(code),
            ProviderError::Partial { source, .. } => source.code(),
            _ => None,
        }
    }

    /// True when the error code is one of `codes`.
    pub fn is_code(&self, codes: &[&str]) -> bool {
        self.code().is_some_and(|c| codes.contains(&c))
    }

    /// AWS's error message, when AWS answered. Some services reuse one code for transient and
    /// permanent errors and tell them apart only in the message (Lambda's "role cannot be
    /// assumed" is an `InvalidParameterValueException`).
    pub fn message(&self) -> Option<&str> {
        match self {
            ProviderError::Api { message, .. } => Some(message),
            ProviderError::Partial { source, .. } => source.message(),
            _ => None,
        }
    }

    /// The error of a create whose first call made object `id` and a later call failed, once
    /// the provider tried to remove what it made (`removal`): removed, nothing was made; else
    /// the object is still there and the error says so ([`ProviderError::made`]), so the
    /// engine records it as tainted instead of leaving it behind.
    pub fn after_rollback(self, id: &str, removal: Result<(), ProviderError>) -> ProviderError {
        match removal {
            Ok(()) => self,
            Err(_) => self.made(id),
        }
    }
}

/// `Ok(None)` for "not found" by any of `codes`, the result otherwise.
pub fn missing_is_none<T>(
    result: Result<T, ProviderError>,
    codes: &[&str],
) -> Result<Option<T>, ProviderError> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.is_code(codes) => Ok(None),
        Err(e) => Err(e),
    }
}
