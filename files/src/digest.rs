//! SHA-256 as strata writes it everywhere (saved plans, `strata.lock`, module archives,
//! fingerprints, hashed physical names): 64 lowercase hex characters.

use std::fs::File;
use std::io;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::Error;

/// The SHA-256 of `bytes`, as 64 lowercase hex characters.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The SHA-256 of the file at `path`, read in pieces rather than held in memory whole; the same
/// as [`sha256_hex`] of its bytes.
pub fn sha256_file_hex(path: &Path) -> Result<String, Error> {
    let mut file = File::open(path).map_err(|e| Error::new("reading", path, e))?;
    let mut hasher = Sha256Hex::new();
    io::copy(&mut file, &mut hasher).map_err(|e| Error::new("reading", path, e))?;
    Ok(hasher.finish())
}

/// A SHA-256 fed piece by piece (bytes with [`Sha256Hex::update`], or anything written to it
/// through [`io::Write`]), finished as lowercase hex. Feeding the pieces of `bytes` in order
/// gives [`sha256_hex`] of `bytes`.
#[derive(Clone, Debug, Default)]
pub struct Sha256Hex(Sha256);

impl Sha256Hex {
    /// A hash of nothing yet.
    pub fn new() -> Sha256Hex {
        Sha256Hex::default()
    }

    /// Feeds `bytes`.
    pub fn update(&mut self, bytes: impl AsRef<[u8]>) {
        self.0.update(bytes.as_ref());
    }

    /// The hash of everything fed, as 64 lowercase hex characters.
    pub fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}

impl io::Write for Sha256Hex {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn known_digests_in_lowercase_hex() {
        assert_eq!(sha256_hex(b"abc"), ABC);
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn streamed_and_file_digests_equal_the_one_shot_digest() {
        let mut hasher = Sha256Hex::new();
        hasher.update("a");
        hasher.update(b"bc");
        assert_eq!(hasher.finish(), ABC);

        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("f");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(sha256_file_hex(&path).unwrap(), ABC);
        let err = sha256_file_hex(&tmp.path().join("missing")).unwrap_err();
        assert_eq!(err.action, "reading");
    }
}
