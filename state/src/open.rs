//! [`open`]: the backend a stack's `backend:` names, built in one place.

use std::path::Path;
use std::sync::Arc;

use stacks::load::DEFAULT_STATE_DIR;

use crate::backend::Backend;
use crate::local::LocalBackend;
use crate::s3::S3Store;
use crate::s3_backend::S3Backend;

/// The backend `config` (a loaded stack's `backend:`) names, for the stack `stack_name` whose
/// stack file is in `stack_dir`:
/// - `local`: its `path` (`.strata` unless set), a relative one taken from `stack_dir`;
/// - `s3`: the object `key` in `bucket`, through the client `s3_client` builds for the
///   backend's own `region` (`None` when it names none; the caller owns the AWS configuration
///   and picks the fallback), with the run journal in `<stack_dir>/.strata`.
///
/// Nothing is read or written until a method needs it.
pub fn open(
    config: &stacks::Backend,
    stack_dir: &Path,
    stack_name: &str,
    s3_client: impl FnOnce(Option<&str>) -> aws_sdk_s3::Client,
) -> Arc<dyn Backend> {
    match config {
        stacks::Backend::Local { path } => {
            // `join` keeps an absolute path as it is.
            Arc::new(LocalBackend::new(stack_dir.join(path), stack_name))
        }
        stacks::Backend::S3 {
            bucket,
            key,
            region,
        } => {
            let store = S3Store::new(s3_client(region.as_deref()), bucket.as_str());
            Arc::new(S3Backend::new(
                store,
                key.as_str(),
                stack_dir.join(DEFAULT_STATE_DIR),
                stack_name,
            ))
        }
    }
}
