//! S3 objects with the conditional writes the S3 backend (and S3 module registries) rely on,
//! called from synchronous code.
//!
//! The state API is synchronous (a write returns once it is durable), while the AWS SDK is
//! async. Every call here runs on one small I/O runtime of this crate's own, never on the
//! caller's, so it works the same from a plain thread, a test, or inside the CLI's runtime; the
//! runtime lives for the whole process (dropping a runtime inside another one's task panics).

use std::future::Future;
use std::sync::{mpsc, OnceLock};

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;

/// How many worker threads the I/O runtime has: S3 calls are few and mostly waiting.
const IO_THREADS: usize = 2;

/// The runtime every S3 call of this crate runs on.
fn io_runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(IO_THREADS)
            .thread_name("strata-state-io")
            .enable_all()
            .build()
            .expect("the state I/O runtime starts")
    })
}

/// Runs `future` to completion on this crate's I/O runtime and returns its output, blocking the
/// calling thread. Use it to build AWS clients (whose configuration loads asynchronously) for
/// [`S3Store`] from synchronous code.
pub fn block_on<F>(future: F) -> F::Output
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (tx, rx) = mpsc::sync_channel(1);
    io_runtime().spawn(async move {
        let _ = tx.send(future.await);
    });
    rx.recv()
        .expect("the state I/O runtime never drops a task before it finishes")
}

/// An object as read: its bytes and its ETag.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    pub bytes: Vec<u8>,
    pub etag: String,
}

/// When a write may happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition<'a> {
    /// Always.
    Always,
    /// Only if the key does not exist (`If-None-Match: *`).
    IfAbsent,
    /// Only if the object's ETag is still this one (`If-Match`).
    IfMatch(&'a str),
}

/// What a conditional write did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Written {
    /// Written; the new object's ETag.
    Done { etag: String },
    /// The condition did not hold; nothing was written.
    ConditionFailed,
}

/// An S3 call that failed: what was being done, to which object, and what S3 said.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{action} {url}: {message}")]
pub struct S3Error {
    pub action: &'static str,
    pub url: String,
    pub message: String,
}

/// One bucket, through a client built by the caller (region, endpoint, path-style addressing).
#[derive(Clone, Debug)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
}

/// Error codes S3 answers a failed `If-Match`/`If-None-Match` with: 412, or 409 when a concurrent
/// conditional write to the same key won.
const CONDITION_CODES: &[&str] = &["PreconditionFailed", "ConditionalRequestConflict"];

impl S3Store {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>) -> S3Store {
        S3Store {
            client,
            bucket: bucket.into(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// `s3://BUCKET/KEY`.
    pub fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }

    /// The object at `key`, or `None` when there is none.
    pub fn get(&self, key: &str) -> Result<Option<Object>, S3Error> {
        let request = self.client.get_object().bucket(&self.bucket).key(key);
        let url = self.url(key);
        block_on(async move {
            let out = match request.send().await {
                Ok(out) => out,
                Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                    return Ok(None)
                }
                Err(e) => return Err(failure("reading", &url, &e)),
            };
            let etag = out.e_tag().unwrap_or_default().to_string();
            let bytes = out
                .body
                .collect()
                .await
                .map_err(|e| S3Error {
                    action: "reading",
                    url: url.clone(),
                    message: e.to_string(),
                })?
                .into_bytes()
                .to_vec();
            Ok(Some(Object { bytes, etag }))
        })
    }

    /// Writes `bytes` at `key` if `condition` holds.
    pub fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        condition: Condition<'_>,
    ) -> Result<Written, S3Error> {
        let mut request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type(key))
            .body(ByteStream::from(bytes));
        request = match condition {
            Condition::Always => request,
            Condition::IfAbsent => request.if_none_match("*"),
            Condition::IfMatch(etag) => request.if_match(etag),
        };
        let conditional = condition != Condition::Always;
        let url = self.url(key);
        block_on(async move {
            match request.send().await {
                Ok(out) => Ok(Written::Done {
                    etag: out.e_tag().unwrap_or_default().to_string(),
                }),
                Err(e) if conditional && condition_failed(&e) => Ok(Written::ConditionFailed),
                Err(e) => Err(failure("writing", &url, &e)),
            }
        })
    }

    /// Deletes `key`, only if its ETag is still `if_match` when given. `Ok(false)` when that
    /// condition failed (nothing was deleted); a missing key is deleted already.
    pub fn delete(&self, key: &str, if_match: Option<&str>) -> Result<bool, S3Error> {
        let mut request = self.client.delete_object().bucket(&self.bucket).key(key);
        if let Some(etag) = if_match {
            request = request.if_match(etag);
        }
        let conditional = if_match.is_some();
        let url = self.url(key);
        block_on(async move {
            match request.send().await {
                Ok(_) => Ok(true),
                Err(e) if conditional && condition_failed(&e) => Ok(false),
                Err(e) if e.code() == Some("NoSuchKey") => Ok(true),
                Err(e) => Err(failure("deleting", &url, &e)),
            }
        })
    }

    /// The keys under `prefix`, every page of them.
    pub fn list(&self, prefix: &str) -> Result<Vec<String>, S3Error> {
        let pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let url = self.url(prefix);
        block_on(async move {
            let mut pages = pages;
            let mut keys = Vec::new();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| failure("listing", &url, &e))?;
                keys.extend(
                    page.contents()
                        .iter()
                        .filter_map(|o| o.key().map(str::to_string)),
                );
            }
            Ok(keys)
        })
    }

    /// Copies `from` to `to` in this bucket (server side), if `from` exists.
    pub fn copy(&self, from: &str, to: &str) -> Result<(), S3Error> {
        let request = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(to)
            .copy_source(format!("{}/{from}", self.bucket));
        let url = self.url(to);
        block_on(async move {
            match request.send().await {
                Ok(_) => Ok(()),
                Err(e) if e.code() == Some("NoSuchKey") => Ok(()),
                Err(e) => Err(failure("copying to", &url, &e)),
            }
        })
    }
}

/// The content type of an object, from its key's extension.
fn content_type(key: &str) -> &'static str {
    match key.rsplit_once('.').map(|(_, ext)| ext) {
        Some("json") => "application/json",
        Some("zip") => "application/zip",
        _ => "application/octet-stream",
    }
}

/// True for the answer to a conditional request whose condition did not hold. A missing key
/// under `If-Match` (someone deleted it) counts too.
fn condition_failed<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    error
        .code()
        .is_some_and(|c| CONDITION_CODES.contains(&c) || c == "NoSuchKey")
}

fn failure<E, R>(action: &'static str, url: &str, error: &SdkError<E, R>) -> S3Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let message = match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => files::chain::error_chain(error),
    };
    S3Error {
        action,
        url: url.to_string(),
        message,
    }
}
