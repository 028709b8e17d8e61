//! Lambda deployment packages: where a function's `code` comes from, and how a directory
//! becomes a zip archive.
//!
//! A directory is zipped deterministically by [`stacks::archive::zip_files`]: entries sorted by
//! path, every timestamp 1980-01-01 00:00:00 (the earliest a zip can hold), mode 0644 for files
//! and 0755 for files with an executable bit ([`Modes::KeepExecutable`]), deflate at a fixed
//! level, no directory entries and no extra fields.
//! The same sources therefore always give the same bytes and the same SHA-256, which is what
//! Lambda reports as `CodeSha256`: comparing the two tells whether the code changed without
//! uploading it. A `.zip` file is uploaded as it is.

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine;
use sha2::{Digest, Sha256};
use stacks::archive::{files_below, zip_files, ArchiveError, Modes};
use stacks::Value;

use crate::{ProviderError, Result};

/// Where a function's code comes from, as the stack's `code` says.
#[derive(Clone, Debug, PartialEq)]
pub enum CodeSource {
    /// `{path: DIR or FILE.zip}`: a local directory to zip, or a zip to upload as it is.
    Path(PathBuf),
    /// `{s3_bucket, s3_key}`: an archive already in S3.
    S3 { bucket: String, key: String },
}

impl CodeSource {
    /// Reads the `code` property: exactly one of `path`, or `s3_bucket` with `s3_key`.
    pub fn from_value(code: &Value) -> Result<CodeSource> {
        let code = code.unmarked();
        let fields = code.as_map().ok_or_else(|| {
            ProviderError::invalid("`code` must be a mapping: `{path}` or `{s3_bucket, s3_key}`")
        })?;
        let text = |key: &str| -> Result<Option<String>> {
            match fields.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(value) => value.as_str().map(|s| Some(s.to_string())).ok_or_else(|| {
                    ProviderError::invalid(format!("`code.{key}` must be a string"))
                }),
            }
        };
        match (text("path")?, text("s3_bucket")?, text("s3_key")?) {
            (Some(path), None, None) => Ok(CodeSource::Path(PathBuf::from(path))),
            (None, Some(bucket), Some(key)) => Ok(CodeSource::S3 { bucket, key }),
            (Some(_), _, _) => Err(ProviderError::invalid(
                "`code` takes either `path` or `s3_bucket` and `s3_key`, not both",
            )),
            _ => Err(ProviderError::invalid(
                "`code` needs `path` (a directory or a .zip file), or both `s3_bucket` and `s3_key`",
            )),
        }
    }
}

/// What `code.path` (or `code.s3_key`) reads back as when the live code is not the package the
/// stack describes: any value the stack cannot hold, so the planner sees a change.
pub const CODE_CHANGED: &str = "(changed: live code differs)";

/// A deployment package ready to upload.
#[derive(Clone, Debug, PartialEq)]
pub struct Package {
    /// The zip archive.
    pub zip: Vec<u8>,
    /// Its SHA-256 in base64, as Lambda reports `CodeSha256`.
    pub sha256: String,
}

/// Packages a `{path: ...}` code value; a relative path is taken from `base_dir` (the CLI runs
/// in the stack's directory). An S3 source has no local package: that is an error here.
pub fn package(code: &Value, base_dir: &Path) -> Result<Package> {
    match CodeSource::from_value(code)? {
        CodeSource::Path(path) => package_path(&base_dir.join(path)),
        CodeSource::S3 { .. } => Err(ProviderError::invalid("code in S3 is not packaged locally")),
    }
}

/// Packages a directory (zipped deterministically) or a `.zip` file (as it is).
pub fn package_path(path: &Path) -> Result<Package> {
    let meta = fs::metadata(path).map_err(|e| {
        ProviderError::invalid(format!("cannot read `code.path` {}: {e}", path.display()))
    })?;
    let zip = if meta.is_dir() {
        zip_directory(path)?
    } else if path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("zip"))
    {
        fs::read(path).map_err(|e| {
            ProviderError::invalid(format!("cannot read `code.path` {}: {e}", path.display()))
        })?
    } else {
        return Err(ProviderError::invalid(format!(
            "`code.path` {} must be a directory or a .zip file",
            path.display()
        )));
    };
    let sha256 = code_sha256(&zip);
    Ok(Package { zip, sha256 })
}

/// The SHA-256 of `bytes` in base64: Lambda's `CodeSha256`.
pub fn code_sha256(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

/// Zips every file under `dir` deterministically (see the module's documentation).
pub fn zip_directory(dir: &Path) -> Result<Vec<u8>> {
    let files = files_below(dir).map_err(|e| ProviderError::invalid(e.to_string()))?;
    if files.is_empty() {
        return Err(ProviderError::invalid(format!(
            "`code.path` {} holds no files to package",
            dir.display()
        )));
    }
    zip_files(&files, Modes::KeepExecutable).map_err(|e| match e {
        ArchiveError::Finish(e) => {
            ProviderError::invalid(format!("cannot zip {}: {e}", dir.display()))
        }
        other => ProviderError::invalid(other.to_string()),
    })
}

/// `code` as read (a function's, or a layer version's): the recorded `prior` when the live code (`live_sha`) is the package it
/// describes, else `prior` with its identifying field replaced by a marker. `local_sha` is the
/// local package's hash when the caller already knows it. `None` when nothing was recorded
/// (an import): the next apply uploads the stack's code.
pub fn code_as_read(
    prior: Option<&Value>,
    live_sha: &str,
    recorded_sha: Option<&str>,
    local_sha: Option<&str>,
    base_dir: &Path,
) -> Option<Value> {
    let prior = prior.map(Value::unmarked).filter(|v| *v != Value::Null)?;
    let Ok(source) = CodeSource::from_value(&prior) else {
        return Some(prior);
    };
    let (field, verdict) = match source {
        CodeSource::Path(_) => {
            let local = match local_sha {
                Some(sha) => Ok(sha.to_string()),
                None => package(&prior, base_dir).map(|p| p.sha256),
            };
            ("path", local.map(|sha| sha == live_sha))
        }
        CodeSource::S3 { .. } => ("s3_key", Ok(recorded_sha.is_none_or(|sha| sha == live_sha))),
    };
    let marker = match verdict {
        Ok(true) => return Some(prior),
        Ok(false) => CODE_CHANGED.to_string(),
        Err(e) => format!("(changed: cannot package: {e})"),
    };
    let mut fields = prior.as_map().cloned().unwrap_or_default();
    fields.insert(field.to_string(), Value::String(marker));
    Some(Value::Map(fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(json: serde_json::Value) -> Value {
        Value::from_json(json)
    }

    #[test]
    fn code_is_a_path_or_an_s3_object_never_both() {
        assert_eq!(
            CodeSource::from_value(&map(serde_json::json!({ "path": "src" }))).unwrap(),
            CodeSource::Path(PathBuf::from("src"))
        );
        assert_eq!(
            CodeSource::from_value(&map(serde_json::json!({ "s3_bucket": "b", "s3_key": "k" })))
                .unwrap(),
            CodeSource::S3 {
                bucket: "b".into(),
                key: "k".into()
            }
        );
        assert!(CodeSource::from_value(&map(serde_json::json!({ "s3_bucket": "b" }))).is_err());
        assert!(CodeSource::from_value(&map(
            serde_json::json!({ "path": "src", "s3_bucket": "b", "s3_key": "k" })
        ))
        .is_err());
        assert!(CodeSource::from_value(&Value::str("src")).is_err());
    }

    #[test]
    fn the_sha256_is_base64_as_lambda_reports_it() {
        // echo -n "" | sha256sum, in base64.
        assert_eq!(
            code_sha256(b""),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        );
    }

    #[test]
    fn s3_code_reads_as_changed_only_when_the_live_hash_moved() {
        let code = Value::from_json(serde_json::json!({ "s3_bucket": "b", "s3_key": "k" }));
        assert_eq!(
            code_as_read(Some(&code), "abc", Some("abc"), None, Path::new(".")),
            Some(code.clone())
        );
        assert_eq!(
            code_as_read(Some(&code), "abc", None, None, Path::new(".")),
            Some(code.clone())
        );
        let changed = code_as_read(Some(&code), "xyz", Some("abc"), None, Path::new(".")).unwrap();
        assert_eq!(
            changed.as_map().unwrap()["s3_key"],
            Value::str(CODE_CHANGED)
        );
        assert_eq!(code_as_read(None, "abc", None, None, Path::new(".")), None);
    }
}
