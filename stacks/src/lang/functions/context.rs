//! What the file functions may read: the calling file's directory, never outside the stack's
//! (or module's) directory, so a stack cannot read `~/.aws/credentials` by accident or design.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::value::Value;

/// Renders a template's text with its variables (the language's own evaluator, given by the
/// loader, so the functions need not know it).
pub type Render = fn(&str, &str, &BTreeMap<String, Value>, &FileContext) -> Result<String, String>;

/// Where file functions may read, and what they read (for a saved plan's fingerprint).
#[derive(Debug)]
pub struct FileContext {
    /// The directory of the file holding the call: relative paths start here.
    pub dir: PathBuf,
    /// The stack's or module's directory: nothing outside it is read.
    pub root: PathBuf,
    /// Every file read so far.
    pub read: RefCell<Vec<PathBuf>>,
    /// How `templatefile` renders: (path for messages, template text, variables, context).
    pub render: Render,
}

impl FileContext {
    /// Reads in `dir`, and only there.
    pub fn new(dir: &Path, render: Render) -> FileContext {
        FileContext {
            dir: dir.to_path_buf(),
            root: dir.to_path_buf(),
            read: RefCell::new(Vec::new()),
            render,
        }
    }

    /// The bytes of `path` (relative to [`FileContext::dir`]), refused outside the root.
    pub fn read(&self, path: &str) -> Result<Vec<u8>, String> {
        let joined = self.dir.join(path);
        let full = joined
            .canonicalize()
            .map_err(|e| format!("cannot read `{path}` ({}): {e}", joined.display()))?;
        let root = self
            .root
            .canonicalize()
            .unwrap_or_else(|_| self.root.clone());
        if !full.starts_with(&root) {
            return Err(format!(
                "`{path}` is outside the stack's directory ({}); file functions read only files inside it",
                root.display()
            ));
        }
        let bytes = files::capped::read_capped(&full, files::capped::MAX_TEXT_FILE)
            .map_err(|e| format!("cannot read `{path}`: {e}"))?;
        self.read.borrow_mut().push(joined);
        Ok(bytes)
    }

    /// The text of `path`, which must be UTF-8.
    pub fn text(&self, path: &str) -> Result<String, String> {
        String::from_utf8(self.read(path)?)
            .map_err(|_| format!("`{path}` is not UTF-8 text; use `filebase64`"))
    }
}
