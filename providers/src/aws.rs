//! Building AWS SDK clients from strata's global options, and reading AWS errors.

use std::fmt;
use std::sync::Arc;

use aws_config::BehaviorVersion;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::client::stalled_stream_protection::StalledStreamProtectionConfig;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::RetryConfig;

use crate::ProviderError;

/// Attempts per request (the first and its retries, with the SDK's exponential backoff and
/// jitter) when neither the environment (`AWS_MAX_ATTEMPTS`, `AWS_RETRY_MODE`) nor the profile
/// sets another policy than the SDK's default: as patient as terraform-provider-aws, whose
/// clients retry throttling and 5xx errors up to 25 times. The SDK's default of 3 attempts lets
/// a fifth of requests throttled fail about one apply in three.
pub const MAX_ATTEMPTS: u32 = 25;

/// A client of one service (`sdk_client!(aws_sdk_sqs, ctx)`) on the context's shared
/// configuration, retrying under [`retry_partition`]'s rules.
macro_rules! sdk_client {
    ($sdk:ident, $ctx:expr) => {
        $sdk::Client::from_conf(
            $sdk::config::Builder::from(&$ctx.sdk)
                .retry_partition($crate::aws::retry_partition())
                .build(),
        )
    };
}
pub(crate) use sdk_client;

/// Where a client's retries draw from: a partition without the SDK's retry quota (a bucket
/// of 500 tokens per service, 5 per throttled retry, which a long throttling spell empties,
/// failing requests that still had attempts left). terraform-provider-aws turns that quota off
/// too (`ratelimit.None`). What keeps strata from hammering a throttling AWS is the bound on
/// requests in flight, which halves when AWS throttles ([`crate::in_flight`]), and the
/// backoff between attempts.
pub fn retry_partition() -> aws_sdk_sts::config::retry::RetryPartition {
    use aws_sdk_sts::config::retry::{RetryPartition, TokenBucket};
    RetryPartition::custom("strata")
        .token_bucket(TokenBucket::unlimited())
        .build()
}

/// The region used when neither a flag, the environment, the profile nor the stack names one.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Where and as whom strata talks to AWS. Built from `--region`, `--profile`,
/// `--endpoint-url` (and the `AWS_*` environment variables the SDK honours).
#[derive(Clone, Debug, Default)]
pub struct AwsOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
    /// The most requests in flight at once (`--max-requests`); 0 means
    /// [`crate::in_flight::DEFAULT_MAX_REQUESTS`].
    pub max_requests: usize,
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
    /// The account id once STS has told it: one `GetCallerIdentity` a run, shared by every
    /// clone of the context (each provider holds one).
    account: Arc<tokio::sync::OnceCell<String>>,
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
        // Every client shares one HTTP client, bounded in requests in flight, so a refresh of
        // a large state queues its calls instead of opening thousands at once.
        let max = match options.max_requests {
            0 => crate::in_flight::DEFAULT_MAX_REQUESTS,
            n => n,
        };
        let client = crate::in_flight::limited(http_client(), max);
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).http_client(client);
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
        let chosen_by_env = ["AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"]
            .iter()
            .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()));
        if !chosen_by_env && sdk.retry_config() == Some(&RetryConfig::standard()) {
            // Neither the environment nor the profile chose a policy.
            sdk = sdk
                .into_builder()
                .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
                .build();
        }
        // A request waits for its place under the bound on requests in flight after the SDK
        // has started timing its upload: the SDK would take a long wait for a stalled upload
        // and fail the request. Uploads are small API requests and Lambda zips; downloads keep
        // the SDK's stall detection, and connections their timeouts.
        sdk = sdk
            .into_builder()
            .stalled_stream_protection(
                StalledStreamProtectionConfig::enabled()
                    .upload_enabled(false)
                    .build(),
            )
            .build();
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
            account: Arc::default(),
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
            account: Arc::default(),
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

    /// The account id, from STS `GetCallerIdentity`, asked once for the context and its clones.
    pub async fn account_id(&self) -> Result<String, ProviderError> {
        self.account
            .get_or_try_init(|| async {
                let sts = sdk_client!(aws_sdk_sts, self);
                let out = sts.get_caller_identity().send().await.map_err(api_error)?;
                out.account
                    .ok_or_else(|| ProviderError::invalid("STS returned no account id"))
            })
            .await
            .cloned()
    }

    /// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` in this context's region and account:
    /// the ARNs providers derive rather than read back.
    pub async fn arn(&self, service: &str, resource: &str) -> Result<String, ProviderError> {
        let account = self.account_id().await?;
        Ok(format!(
            "arn:{}:{service}:{}:{account}:{resource}",
            self.partition(),
            self.region()
        ))
    }
}

/// Turns an SDK error into a [`ProviderError`] that keeps AWS's code and message.
pub fn api_error<E>(err: SdkError<E, HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(service) => {
            let inner = service.err();
            match inner.code() {
                Some(code) => ProviderError::Api {
                    code: code.to_string(),
                    message: inner.message().unwrap_or("").to_string(),
                },
                None => unparsed_error(service.raw()),
            }
        }
        _ => match (err.code(), err.message()) {
            (Some(code), message) => ProviderError::Api {
                code: code.to_string(),
                message: message.unwrap_or("").to_string(),
            },
            _ => ProviderError::Transport(error_chain(&err)),
        },
    }
}

/// An error answer the SDK could not parse (an emulator's XML in another protocol's shape):
/// the `<Code>` and `<Message>` found in the body, else `Unknown` and the HTTP status.
fn unparsed_error(raw: &HttpResponse) -> ProviderError {
    let body = raw
        .body()
        .bytes()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    let element = |name: &str| {
        let (_, rest) = body.split_once(&format!("<{name}>"))?;
        let (text, _) = rest.split_once(&format!("</{name}>"))?;
        Some(text.trim().to_string())
    };
    ProviderError::Api {
        code: element("Code").unwrap_or_else(|| "Unknown".to_string()),
        message: element("Message")
            .unwrap_or_else(|| format!("HTTP status {}", raw.status().as_u16())),
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

/// An error and its causes as one line, each message once ([`files::chain::error_chain`]).
pub use files::chain::error_chain;

/// What to do about a cloud error, when strata knows: from AWS's error code or, for errors
/// AWS never answered (no connection, no credentials), from what the SDK said. The one place
/// such advice is written; every printer of a cloud error asks it.
pub fn help_for(message: &str) -> Option<&'static str> {
    let has = |needles: &[&str]| needles.iter().any(|n| message.contains(n));
    if has(&[
        "Connection refused",
        "tcp connect error",
        "dns error",
        "failed to lookup address",
    ]) {
        return Some(
            "AWS could not be reached: check --endpoint-url / AWS_ENDPOINT_URL (unset it for \
             AWS itself), the region, and the network or proxy",
        );
    }
    if has(&[
        "aws sso login",
        "SSO",
        "sso_session",
        "sso token",
        "/sso/cache/",
    ]) {
        return Some(
            "the SSO session is missing or expired: run `aws sso login --profile PROFILE` and \
             try again",
        );
    }
    if has(&[
        "ExpiredToken",
        "RequestExpired",
        "TokenRefreshRequired",
        "security token included in the request is expired",
    ]) {
        return Some(
            "the credentials have expired: refresh them (a new session token, `aws sso login`, \
             or your CI's credentials step) and try again",
        );
    }
    if has(&[
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId",
    ]) {
        return Some(
            "AWS does not accept these credentials: check the access key, the secret and the \
             profile (--profile, AWS_PROFILE)",
        );
    }
    if has(&[
        "AccessDenied",
        "UnauthorizedOperation",
        "AuthorizationError",
        "not authorized to perform",
    ]) {
        return Some(
            "the credentials in use may not make this call: grant the action named above to the \
             role or user strata runs as (docs/resources.md lists each type's IAM actions)",
        );
    }
    if has(&[
        "Throttling",
        "RequestLimitExceeded",
        "TooManyRequests",
        "Rate exceeded",
        "SlowDown",
        "RequestThrottled",
    ]) {
        return Some(
            "AWS kept throttling the request after every retry: run again, or lower \
             --parallelism",
        );
    }
    if has(&[
        "loading credentials",
        "no credentials",
        "credentials provider was not properly configured",
        "CredentialsNotLoaded",
        "the credential provider was not enabled",
    ]) {
        return Some(
            "no AWS credentials were found: set AWS_PROFILE (or --profile) to a profile of \
             ~/.aws/config, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role \
             provides them",
        );
    }
    None
}

/// The profile `options` (or `AWS_PROFILE`) names, when it is in neither the AWS config file
/// nor the credentials file (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`, else
/// `~/.aws/config` and `~/.aws/credentials`): the SDK would otherwise fall through to other
/// credential sources and fail far from the cause. `Ok(())` when no profile is named.
pub fn check_profile(options: &AwsOptions) -> Result<(), String> {
    let named = options
        .profile
        .clone()
        .or_else(|| std::env::var("AWS_PROFILE").ok())
        .filter(|p| !p.is_empty());
    let Some(profile) = named else {
        return Ok(());
    };
    let home = std::env::var_os("HOME").map(std::path::PathBuf::from);
    let file = |var: &str, default: &str| {
        std::env::var_os(var)
            .filter(|v| !v.is_empty())
            .map(std::path::PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(default)))
    };
    let config = file("AWS_CONFIG_FILE", "config");
    let credentials = file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
    let sections = |path: &Option<std::path::PathBuf>, prefixed: bool| -> Vec<String> {
        let Some(text) = path.as_ref().and_then(|p| std::fs::read_to_string(p).ok()) else {
            return Vec::new();
        };
        text.lines()
            .filter_map(|line| {
                let name = line.trim().strip_prefix('[')?.strip_suffix(']')?.trim();
                let name = if prefixed {
                    name.strip_prefix("profile ").map(str::trim).unwrap_or(name)
                } else {
                    name
                };
                Some(name.to_string())
            })
            .collect()
    };
    let mut known = sections(&config, true);
    known.extend(sections(&credentials, false));
    if known.contains(&profile) {
        return Ok(());
    }
    let places: Vec<String> = [config, credentials]
        .into_iter()
        .flatten()
        .map(|p| p.display().to_string())
        .collect();
    Err(format!(
        "the AWS profile `{profile}` is not defined (looked in {})",
        places.join(" and ")
    ))
}
