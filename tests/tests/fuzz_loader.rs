//! The loader never panics, whatever the stack file holds: stacks made by mutating the
//! examples (lines deleted, duplicated, swapped or cut; YAML and `${}` tokens inserted at
//! random places) are loaded with the real catalogue, their dependency graph built and every
//! error rendered. Each run must end in a stack or in errors with a position in the file.
//!
//! The suite runs a bounded number of cases (`FUZZ_CASES`); `scripts/fuzz.sh` runs 10⁵ and
//! prints the figures (set `STRATA_FUZZ_CASES`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use stacks::{Catalog, DependencyGraph, LoadOptions};
use strata_tests::workspace_root;

/// Cases the test suite runs: enough to cover every mutation of every seed many times.
const FUZZ_CASES: u32 = 3_000;

/// Tokens that steer a mutation into the parts of the grammar where errors hide.
const TOKENS: &[&str] = &[
    "${",
    "}",
    "$${",
    "${params.",
    "${aws.region}",
    "${stack.name}",
    ".arn}",
    "${q.url}",
    "${locals.",
    "[0]",
    "[*]",
    ":",
    ": ",
    "- ",
    "-",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'",
    "\n",
    "  ",
    "    ",
    "\t",
    "null",
    "~",
    "&a ",
    "*a",
    "!!str ",
    "!!binary ",
    "<<: ",
    "? ",
    "|",
    ">-",
    "#",
    "0x1F",
    "1e999",
    "-0",
    "99999999999999999999",
    "true",
    "yes",
    "é",
    "\u{0}",
    "\u{feff}",
    "\r",
    "type: ",
    "properties:",
    "depends_on: [",
    "count: 3",
    "for_each: ",
    "resources:",
    "params:",
    "outputs:",
    "modules:",
    "source: ../",
    "code: { path: /dev/zero }",
    "cidr_block: 10.0.0.0/33",
    "sensitive: true",
    "allowed: [",
    "default: ",
];

/// One change to a stack's text.
#[derive(Clone, Debug)]
enum Edit {
    DeleteLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    Insert(usize, &'static str),
    Truncate(usize),
    DeleteChars(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        1 => any::<usize>().prop_map(Edit::DeleteLine),
        1 => any::<usize>().prop_map(Edit::DuplicateLine),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        4 => (any::<usize>(), proptest::sample::select(TOKENS))
            .prop_map(|(at, t)| Edit::Insert(at, t)),
        1 => any::<usize>().prop_map(Edit::Truncate),
        1 => (any::<usize>(), 1usize..12).prop_map(|(at, n)| Edit::DeleteChars(at, n)),
    ]
}

/// The char boundary of `text` nearest below `at % (len + 1)`.
fn boundary(text: &str, at: usize) -> usize {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(text: &str, edit: &Edit) -> String {
    let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
    match *edit {
        Edit::DeleteLine(i) if !lines.is_empty() => {
            lines.remove(i % lines.len());
            lines.concat()
        }
        Edit::DuplicateLine(i) if !lines.is_empty() => {
            let i = i % lines.len();
            lines.insert(i, lines[i]);
            lines.concat()
        }
        Edit::SwapLines(a, b) if !lines.is_empty() => {
            let n = lines.len();
            lines.swap(a % n, b % n);
            lines.concat()
        }
        Edit::Insert(at, token) => {
            let at = boundary(text, at);
            format!("{}{token}{}", &text[..at], &text[at..])
        }
        Edit::Truncate(at) => text[..boundary(text, at)].to_string(),
        Edit::DeleteChars(at, n) => {
            let start = boundary(text, at);
            let end = boundary(text, start.saturating_add(n).min(text.len()));
            format!("{}{}", &text[..start], &text[end.max(start)..])
        }
        _ => text.to_string(),
    }
}

/// Every example stack: (its path, its text).
fn seeds() -> Vec<(PathBuf, String)> {
    let examples = workspace_root().join("examples");
    let mut seeds: Vec<(PathBuf, String)> = std::fs::read_dir(&examples)
        .unwrap()
        .map(|e| e.unwrap().path().join("stack.yaml"))
        .filter(|p| p.is_file())
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect();
    seeds.sort();
    assert!(seeds.len() >= 5, "the examples are the seeds: {seeds:?}");
    seeds
}

/// Loads `text` as the stack file at `path`, orders its dependency graph and renders every
/// error: what `strata validate` does before it prints. A panic anywhere fails the case.
/// `Ok(true)` when the stack loaded.
fn load_once(catalog: &Catalog, path: &Path, text: &str) -> Result<bool, TestCaseError> {
    match stacks::load_str(path, text, &LoadOptions::default(), catalog) {
        Ok(stack) => {
            let edges: Vec<(String, String)> = stack
                .resources
                .iter()
                .flat_map(|(address, decl)| {
                    decl.dependencies()
                        .into_iter()
                        .map(move |dep| (address.clone(), dep))
                })
                .collect();
            let graph = DependencyGraph::from_edges(
                stack.resources.keys().map(String::as_str),
                edges.iter().map(|(a, b)| (a.as_str(), b.as_str())),
            );
            prop_assert!(graph.order().is_ok(), "a loaded stack has no cycle");
            Ok(true)
        }
        Err(diags) => {
            let rendered = diags.render(false);
            prop_assert!(
                rendered.contains("error"),
                "errors render with `error`:\n{rendered}"
            );
            Ok(false)
        }
    }
}

/// Runs `cases` mutated stacks; returns how many loaded and how many were refused.
fn fuzz(cases: u32) -> (u32, u32) {
    let catalog = providers::catalog();
    let seeds = seeds();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let loaded = std::cell::Cell::new(0u32);
    let refused = std::cell::Cell::new(0u32);
    let strategy = (0..seeds.len(), proptest::collection::vec(edit(), 1..6));
    let result = runner.run(&strategy, |(seed, edits)| {
        let (path, text) = &seeds[seed];
        let text = edits.iter().fold(text.clone(), |t, e| apply(&t, e));
        let counter = match load_once(&catalog, path, &text)? {
            true => &loaded,
            false => &refused,
        };
        counter.set(counter.get() + 1);
        Ok(())
    });
    if let Err(failure) = result {
        panic!("the loader failed on a mutated stack: {failure}");
    }
    (loaded.get(), refused.get())
}

#[test]
fn mutated_example_stacks_load_or_are_refused_with_errors_never_a_panic() {
    let cases = std::env::var("STRATA_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(FUZZ_CASES);
    let started = Instant::now();
    let (loaded, refused) = fuzz(cases);
    eprintln!(
        "fuzz_loader: {cases} mutated stacks in {:.1} s: {loaded} loaded, {refused} refused \
         with errors, 0 panics",
        started.elapsed().as_secs_f64()
    );
    // Both outcomes occur: the mutations reach past the YAML parser into the checks.
    assert!(
        loaded > 0 && refused > 0,
        "{loaded} loaded, {refused} refused"
    );
}
