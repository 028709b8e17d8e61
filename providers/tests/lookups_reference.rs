//! `docs/lookups.md` is what the lookup list generates, so the docs never drift from what
//! `read_lookup` reads.

use std::path::PathBuf;

use providers::lookups::{reference, REFERENCE_PATH};

/// Set to rewrite the committed reference instead of comparing with it.
const UPDATE_DOCS: &str = "STRATA_UPDATE_DOCS";

#[test]
fn the_committed_lookup_reference_is_what_the_lookup_list_generates() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(REFERENCE_PATH);
    let generated = reference();
    if std::env::var_os(UPDATE_DOCS).is_some() {
        std::fs::write(&path, &generated)
            .unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{REFERENCE_PATH} is not what the lookup list generates; regenerate it with \
         `{UPDATE_DOCS}=1 cargo test -p providers --test lookups_reference` and commit it"
    );
}
