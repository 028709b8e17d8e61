//! Reading a text file strata is given (a stack file, a var file, a module file) with a cap:
//! a path to `/dev/zero`, a FIFO or a huge file is an error, not a read that runs until memory
//! runs out.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// The most a stack, var or module file may hold: far beyond any real one.
pub const MAX_TEXT_FILE: u64 = 16 * 1024 * 1024;

/// The bytes of the regular file at `path`, if it holds at most `max` bytes. Anything else (a
/// device, a directory, a FIFO, a larger file) is an `InvalidInput` error saying what it is.
pub fn read_capped(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let file = File::open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "it is not a regular file",
        ));
    }
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is larger than {} MiB", max / (1024 * 1024)),
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_directories_and_files_over_the_cap_are_refused_with_what_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_capped(Path::new("/dev/zero"), 1024).unwrap_err();
        assert_eq!(err.to_string(), "it is not a regular file");
        let err = read_capped(dir.path(), 1024).unwrap_err();
        assert_eq!(err.to_string(), "it is not a regular file");
        let big = dir.path().join("big.yaml");
        std::fs::write(&big, vec![b'a'; 3 * 1024 * 1024]).unwrap();
        let err = read_capped(&big, 2 * 1024 * 1024).unwrap_err();
        assert_eq!(err.to_string(), "it is larger than 2 MiB");
        assert_eq!(
            read_capped(&big, 3 * 1024 * 1024).unwrap().len(),
            3 * 1024 * 1024
        );
    }
}
