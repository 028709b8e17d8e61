//! A bound on the requests strata has in flight to AWS at once, across every client: a refresh
//! of a large state or a wide apply queues its calls here instead of opening thousands of
//! connections (which a listener with a small backlog refuses, and AWS throttles).
//!
//! It wraps the HTTP client every SDK client shares ([`limited`]); a request holds a permit
//! from when it is sent until its response arrives. Retries go through it again, so a throttled
//! request waits its turn like any other.

use std::sync::Arc;

use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use tokio::sync::Semaphore;

/// Requests in flight at once, across every client of a run: enough to keep a
/// refresh at the API's rate over a real network (about 30 ms a call), few enough that AWS's
/// per-account request rates (EC2's token buckets refill at 20 per second for most mutating
/// calls, more for describes) are not overrun by a burst.
pub const DEFAULT_MAX_REQUESTS: usize = 32;

/// `inner`, letting at most `max` requests be in flight at once (at least one).
pub fn limited(inner: SharedHttpClient, max: usize) -> SharedHttpClient {
    SharedHttpClient::new(Limited {
        inner,
        permits: Arc::new(Semaphore::new(max.max(1))),
    })
}

#[derive(Debug)]
struct Limited {
    inner: SharedHttpClient,
    permits: Arc<Semaphore>,
}

impl HttpClient for Limited {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(LimitedConnector {
            inner: self.inner.http_connector(settings, components),
            permits: Arc::clone(&self.permits),
        })
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    permits: Arc<Semaphore>,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let permits = Arc::clone(&self.permits);
        HttpConnectorFuture::new(async move {
            let _permit = permits
                .acquire_owned()
                .await
                .map_err(|e| ConnectorError::other(e.into(), None))?;
            inner.call(request).await.map_err(refused_is_final)
        })
    }
}

/// A refused connection is not retried: nothing listens at the endpoint (a wrong
/// `--endpoint-url`, an emulator not started), and retrying for as long as strata's policy
/// outlasts throttling (`aws::MAX_ATTEMPTS`) would only delay the error by minutes. AWS's
/// endpoints always listen; a reset connection or a timeout is still retried.
fn refused_is_final(error: ConnectorError) -> ConnectorError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(e) = cause {
        let refused = e
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused);
        if refused && error.is_io() {
            // The same cause, as an error the SDK's retry classifiers leave alone.
            return ConnectorError::other(error.into_source(), None);
        }
        cause = e.source();
    }
    error
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
    use aws_smithy_types::body::SdkBody;

    use super::*;

    /// A client whose every call takes a while, counting how many run at once.
    #[derive(Debug, Default)]
    struct Slow {
        now: Arc<AtomicUsize>,
        most: Arc<AtomicUsize>,
    }

    impl HttpClient for Slow {
        fn http_connector(
            &self,
            _: &HttpConnectorSettings,
            _: &RuntimeComponents,
        ) -> SharedHttpConnector {
            SharedHttpConnector::new(SlowConnector {
                now: Arc::clone(&self.now),
                most: Arc::clone(&self.most),
            })
        }
    }

    #[derive(Debug)]
    struct SlowConnector {
        now: Arc<AtomicUsize>,
        most: Arc<AtomicUsize>,
    }

    impl HttpConnector for SlowConnector {
        fn call(&self, _: HttpRequest) -> HttpConnectorFuture {
            let now = Arc::clone(&self.now);
            let most = Arc::clone(&self.most);
            HttpConnectorFuture::new(async move {
                let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(running, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                Ok(HttpResponse::new(200.try_into().unwrap(), SdkBody::empty()))
            })
        }
    }

    #[tokio::test]
    async fn no_more_requests_than_the_limit_are_in_flight_and_all_of_them_finish() {
        let slow = Slow::default();
        let most = Arc::clone(&slow.most);
        let client = limited(SharedHttpClient::new(slow), 4);
        let components = RuntimeComponentsBuilder::for_tests().build().unwrap();
        let settings = HttpConnectorSettings::builder().build();
        let calls: Vec<_> = (0..40)
            .map(|_| {
                let connector = client.http_connector(&settings, &components);
                let request = HttpRequest::get("http://localhost/").unwrap();
                tokio::spawn(async move { connector.call(request).await })
            })
            .collect();
        for call in calls {
            assert_eq!(call.await.unwrap().unwrap().status().as_u16(), 200);
        }
        assert_eq!(most.load(Ordering::SeqCst), 4);
    }
}
