//! Bounded retries with exponential backoff and jitter, for errors AWS documents as
//! transient (eventual consistency, throttling beyond what the SDK already retries).

use std::future::Future;
use std::time::Duration;

use crate::ProviderError;

/// First delay between attempts.
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(200);
/// Longest delay between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Error codes that mean "slow down and try again" on every AWS service.
pub const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "PriorRequestNotComplete",
];

/// Calls `op` until it succeeds, returns an error `retryable` rejects, or `budget` is spent.
/// Throttling codes are always retried.
pub async fn with_backoff<T, F, Fut>(
    budget: Duration,
    retryable: impl Fn(&ProviderError) -> bool,
    mut op: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let started = tokio::time::Instant::now();
    let mut delay = INITIAL_BACKOFF;
    loop {
        match op().await {
            Ok(value) => return Ok(value),
            Err(err) => {
                let transient = err.is_code(THROTTLING_CODES) || retryable(&err);
                if !transient || started.elapsed() + delay > budget {
                    return Err(err);
                }
                let jitter = fastrand::u64(0..=delay.as_millis() as u64 / 2);
                tokio::time::sleep(delay + Duration::from_millis(jitter)).await;
                delay = (delay * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Deletes with `op` until it succeeds, retrying the errors whose code is one of `retry` (and
/// throttling) within `budget`; an error whose code is one of `gone` means the resource is
/// already gone, which is success. Deletes that wait for dependants to let go (EC2 networks,
/// IAM roles) are all this.
pub async fn delete_with_backoff<T, F, Fut>(
    budget: Duration,
    retry: &[&str],
    gone: &[&str],
    op: F,
) -> Result<(), ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let out = with_backoff(budget, |e| e.is_code(retry), op).await;
    crate::aws::missing_is_none(out, gone).map(|_| ())
}

/// How long a waiter keeps looking for a state AWS reaches eventually, and how often it looks.
///
/// Every wait has one, named and documented beside the type that waits (`VPC_AVAILABLE`,
/// `QUEUE_READABLE`, ...), so that how patient strata is can be read and compared with
/// terraform-provider-aws in one place per wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Wait {
    /// Give up (with [`ProviderError::Timeout`]) once this much time has passed.
    pub timeout: Duration,
    /// Sleep this long between two looks.
    pub interval: Duration,
}

/// Polls `check` until it returns `Some`, every `budget.interval`, for at most
/// `budget.timeout`: the one waiter every provider uses.
pub async fn wait_for<T, F, Fut>(what: &str, budget: Wait, mut check: F) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, ProviderError>>,
{
    let started = tokio::time::Instant::now();
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        if started.elapsed() >= budget.timeout {
            return Err(ProviderError::Timeout {
                what: what.to_string(),
                seconds: budget.timeout.as_secs(),
            });
        }
        tokio::time::sleep(budget.interval).await;
    }
}
