//! A bound on the requests strata has in flight to AWS at once, across every client: a refresh
//! of a large state or a wide apply queues its calls here instead of opening thousands of
//! connections (which a listener with a small backlog refuses, and AWS throttles).
//!
//! It wraps the HTTP client every SDK client shares ([`limited`]); a request holds a place
//! from when it is sent until its response arrives. Retries go through it again, so a throttled
//! request waits its turn like any other.
//!
//! The bound adapts as TCP's congestion window does (additive increase, multiplicative
//! decrease): a throttling answer from AWS halves it (once per round of requests: the answers
//! to requests sent before the last cut do not cut again), and each round of requests answered
//! without throttling raises it by one again, up to the configured most. So a burst that AWS
//! throttles is followed by fewer requests at once, not by the same burst retried.

use std::sync::{Arc, Mutex, MutexGuard};

use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::byte_stream::ByteStream;
use tokio::sync::Notify;

/// Requests in flight at once, across every client of a run: enough to keep a
/// refresh at the API's rate over a real network (about 30 ms a call), few enough that AWS's
/// per-account request rates (EC2's token buckets refill at 20 per second for most mutating
/// calls, more for describes) are not overrun by a burst.
pub const DEFAULT_MAX_REQUESTS: usize = 32;

/// `inner`, letting at most `max` requests be in flight at once (at least one), fewer for a
/// while after AWS throttles.
pub fn limited(inner: SharedHttpClient, max: usize) -> SharedHttpClient {
    SharedHttpClient::new(Limited {
        inner,
        gate: Arc::new(Gate::new(max)),
    })
}

/// The adaptive bound: how many requests may be in flight now, and how many are.
#[derive(Debug)]
struct Gate {
    most: usize,
    state: Mutex<GateState>,
    /// Signalled when a place may have come free.
    freed: Notify,
}

#[derive(Debug)]
struct GateState {
    /// Requests allowed in flight now: between 1 and `most`.
    limit: usize,
    in_flight: usize,
    /// Counts the cuts: a request remembers the round it was sent in, and only a throttling
    /// answer to a request of the current round cuts again.
    round: u64,
    /// Requests answered without throttling since the limit last changed.
    answered: usize,
}

/// A place in the gate, held while a request is in flight; given back when dropped.
#[derive(Debug)]
struct Place {
    gate: Arc<Gate>,
    round: u64,
}

impl Gate {
    fn new(most: usize) -> Gate {
        let most = most.max(1);
        Gate {
            most,
            state: Mutex::new(GateState {
                limit: most,
                in_flight: 0,
                round: 0,
                answered: 0,
            }),
            freed: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, GateState> {
        // The state is a few counters, consistent after every statement: a panic elsewhere
        // while it was held leaves nothing to repair.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a place.
    async fn enter(self: &Arc<Self>) -> Place {
        loop {
            let freed = self.freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            {
                let mut state = self.state();
                if state.in_flight < state.limit {
                    state.in_flight += 1;
                    return Place {
                        gate: Arc::clone(self),
                        round: state.round,
                    };
                }
            }
            freed.await;
        }
    }

    /// The limit now, for tests.
    #[cfg(test)]
    fn limit(&self) -> usize {
        self.state().limit
    }
}

impl Place {
    /// Records how the request fared: a throttling answer to a request of this round halves the
    /// limit; a round of answers without throttling raises it by one.
    fn answered(&self, throttled: bool) {
        let mut state = self.gate.state();
        if throttled {
            if self.round == state.round {
                state.limit = (state.limit / 2).max(1);
                state.round += 1;
                state.answered = 0;
            }
        } else {
            state.answered += 1;
            if state.answered >= state.limit && state.limit < self.gate.most {
                state.limit += 1;
                state.answered = 0;
                drop(state);
                self.gate.freed.notify_one();
            }
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        self.gate.state().in_flight -= 1;
        self.gate.freed.notify_one();
    }
}

#[derive(Debug)]
struct Limited {
    inner: SharedHttpClient,
    gate: Arc<Gate>,
}

impl HttpClient for Limited {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(LimitedConnector {
            inner: self.inner.http_connector(settings, components),
            gate: Arc::clone(&self.gate),
        })
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.inner.connector_metadata()
    }
}

#[derive(Debug)]
struct LimitedConnector {
    inner: SharedHttpConnector,
    gate: Arc<Gate>,
}

impl HttpConnector for LimitedConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let inner = self.inner.clone();
        let gate = Arc::clone(&self.gate);
        HttpConnectorFuture::new(async move {
            let place = gate.enter().await;
            let response = inner.call(request).await.map_err(refused_is_final)?;
            let (response, throttled) = throttling(response).await?;
            place.answered(throttled);
            Ok(response)
        })
    }
}

/// The status codes AWS throttles with whatever the error code: 429 (REST APIs) and 503
/// (EC2's `RequestLimitExceeded`, S3's `SlowDown`, a service shedding load).
const THROTTLING_STATUSES: [u16; 2] = [429, 503];

/// Whether `response` is AWS throttling, and the response, unchanged. Query and JSON services
/// throttle with a 400 whose error code says so (`Throttling`, `ThrottlingException`): such an
/// answer's body (an error, a few hundred bytes) is read to find its code.
async fn throttling(mut response: HttpResponse) -> Result<(HttpResponse, bool), ConnectorError> {
    let status = response.status().as_u16();
    if THROTTLING_STATUSES.contains(&status) {
        return Ok((response, true));
    }
    if status != 400 {
        return Ok((response, false));
    }
    let in_headers = ["x-amzn-errortype", "x-amzn-query-error"]
        .iter()
        .filter_map(|name| response.headers().get(*name))
        .any(is_throttling_code);
    let bytes = ByteStream::new(response.take_body())
        .collect()
        .await
        .map_err(|e| ConnectorError::io(e.into()))?
        .into_bytes();
    let throttled = in_headers || body_names_throttling(&String::from_utf8_lossy(&bytes));
    *response.body_mut() = SdkBody::from(bytes);
    Ok((response, throttled))
}

/// Whether an error body's code is a throttling one: `<Code>Throttling</Code>` (query and EC2
/// protocols), `"__type": "…#ThrottlingException"` or `"code": …` (JSON protocols).
fn body_names_throttling(body: &str) -> bool {
    if let Ok(serde_json::Value::Object(error)) = serde_json::from_str(body) {
        return ["__type", "code", "Code"]
            .iter()
            .filter_map(|key| error.get(*key).and_then(|v| v.as_str()))
            .any(is_throttling_code);
    }
    body.split("<Code>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</Code>"))
        .any(|(code, _)| is_throttling_code(code))
}

/// Whether an error code, as a header or a body spells it, is one of AWS's throttling codes:
/// `ThrottlingException`, `com.amazonaws.sqs#ThrottlingException`,
/// `ThrottlingException:http://internal.amazon.com/…`, `AWS.SimpleQueueService.RequestThrottled;Sender`.
fn is_throttling_code(code: &str) -> bool {
    let code = code.split([':', ';']).next().unwrap_or_default();
    let code = code.rsplit(['#', '.']).next().unwrap_or_default().trim();
    aws_runtime::retries::classifiers::THROTTLING_ERRORS.contains(&code)
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

    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;

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

    #[tokio::test]
    async fn throttling_halves_the_bound_once_per_round_and_answers_raise_it_again() {
        let gate = Arc::new(Gate::new(8));
        let mut places = Vec::new();
        for _ in 0..8 {
            places.push(gate.enter().await);
        }
        // The whole burst is throttled: the bound is halved once, not eight times.
        for place in &places {
            place.answered(true);
        }
        assert_eq!(gate.limit(), 4);
        drop(places);

        // A request of the new round throttled halves it again.
        let place = gate.enter().await;
        place.answered(true);
        drop(place);
        assert_eq!(gate.limit(), 2);

        // Two answers without throttling (a round at 2) raise it to 3, three more to 4.
        for _ in 0..5 {
            let place = gate.enter().await;
            place.answered(false);
        }
        assert_eq!(gate.limit(), 4);

        // Never below one.
        for _ in 0..5 {
            let place = gate.enter().await;
            place.answered(true);
        }
        assert_eq!(gate.limit(), 1);
    }

    #[tokio::test]
    async fn after_a_cut_no_new_request_starts_until_those_in_flight_fall_below_the_bound() {
        let gate = Arc::new(Gate::new(4));
        let mut places = Vec::new();
        for _ in 0..4 {
            places.push(gate.enter().await);
        }
        places[0].answered(true);
        assert_eq!(gate.limit(), 2);
        // Four in flight, two allowed: a new request waits until two have been answered.
        let waiting = tokio::spawn({
            let gate = Arc::clone(&gate);
            async move { gate.enter().await }
        });
        places.pop();
        places.pop();
        tokio::task::yield_now().await;
        assert!(
            !waiting.is_finished(),
            "started with two in flight and a bound of 2"
        );
        places.pop();
        let place = tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("the request waiting for a place starts once one is free")
            .unwrap();
        drop(place);
    }

    #[test]
    fn each_protocol_s_throttling_answer_is_recognised_and_other_errors_are_not() {
        for throttling in [
            "<Response><Errors><Error><Code>RequestLimitExceeded</Code></Error></Errors>",
            "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code></Error>",
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"x"}"#,
            r#"{"code":"TooManyRequestsException"}"#,
        ] {
            assert!(body_names_throttling(throttling), "{throttling}");
        }
        for other in [
            "<Code>InvalidParameterValue</Code><Message>Throttling is not the code</Message>",
            r#"{"__type":"ResourceNotFoundException","message":"no ThrottlingException"}"#,
            "<Error><Code>AccessDenied</Code></Error>",
            "not an error body",
        ] {
            assert!(!body_names_throttling(other), "{other}");
        }
        assert!(is_throttling_code(
            "AWS.SimpleQueueService.RequestThrottled;Sender"
        ));
        assert!(is_throttling_code(
            "ThrottlingException:http://internal.amazon.com/x"
        ));
        assert!(!is_throttling_code("AccessDenied;Sender"));
    }

    #[tokio::test]
    async fn a_400_answer_is_read_for_its_code_and_passed_on_whole() {
        let body = r#"{"__type":"com.amazonaws.sqs#ThrottlingException","message":"slow"}"#;
        let response = HttpResponse::new(400.try_into().unwrap(), SdkBody::from(body));
        let (response, throttled) = throttling(response).await.unwrap();
        assert!(throttled);
        assert_eq!(response.body().bytes(), Some(body.as_bytes()));

        let denied = r#"{"__type":"com.amazonaws.sqs#AccessDenied","message":"no"}"#;
        let response = HttpResponse::new(400.try_into().unwrap(), SdkBody::from(denied));
        let (response, throttled) = throttling(response).await.unwrap();
        assert!(!throttled);
        assert_eq!(response.body().bytes(), Some(denied.as_bytes()));

        let unavailable = HttpResponse::new(503.try_into().unwrap(), SdkBody::empty());
        assert!(throttling(unavailable).await.unwrap().1);
    }
}
