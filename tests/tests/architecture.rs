//! The workspace's shape, checked: no import circle between files in any crate, and no file in
//! `cli/src` longer than [`CLI_MAX_LINES`]. No emulator.
//!
//! The import graph is file-level: an edge `a.rs -> b.rs` for every path in `a.rs` (a `use`, or
//! a path in code or in a macro's tokens) that names something defined in `b.rs`. Paths are
//! resolved as the compiler does, from the module tree the `mod` declarations build (a `mod x;`
//! is not an import): `crate::a::b::Item` names `a/b.rs` (or `a/b/mod.rs`, or the item in
//! `a.rs`), `super::` and `self::` are taken from the module the path is written in (inline
//! `mod tests { ... }` included), and a re-export (`pub use x::Item` in a `lib.rs` or `mod.rs`,
//! glob or not) is followed to the file that defines the item; the re-export itself is no edge
//! (it is the module tree's plumbing, as `mod x;` is). A path into a child module written
//! without `crate::` (`sqs::schemas()` in `lib.rs`, a private `use exprs::Edge`) is a use like
//! any other. Paths into other crates are not edges: cargo already forbids circles between
//! crates.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

/// The longest a file in `cli/src` may be: the CLI parses, calls the library and renders.
const CLI_MAX_LINES: usize = 300;

/// How deep re-exports and `use` chains are followed before giving up (a guard against globs
/// that re-export each other).
const MAX_RESOLVE_DEPTH: usize = 32;

#[test]
fn no_import_circles_and_no_long_cli_files() {
    let root = strata_tests::workspace_root();
    let mut problems = circles(&root);
    for (file, lines) in long_files(&root.join("cli/src"), CLI_MAX_LINES) {
        problems.push(format!(
            "{} has {lines} lines (at most {CLI_MAX_LINES} in cli/src)",
            relative(&root, &file)
        ));
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

/// Every import circle in the workspace members, described.
fn circles(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    for member in workspace_members(root) {
        let src = root.join(&member).join("src");
        if !src.is_dir() {
            continue;
        }
        let graph = ImportGraph::of_crate(&src);
        for cycle in graph.cycles() {
            problems.push(describe_cycle(root, &graph, &cycle));
        }
    }
    problems
}

/// The member directories the root `Cargo.toml` lists.
fn workspace_members(root: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(root.join("Cargo.toml")).expect("the root Cargo.toml");
    let manifest: toml::Table = text.parse().expect("the root Cargo.toml is TOML");
    manifest["workspace"]["members"]
        .as_array()
        .expect("workspace.members is a list")
        .iter()
        .filter_map(|m| m.as_str().map(str::to_string))
        .collect()
}

/// One circle: its files, then each import inside it with a path that makes it.
fn describe_cycle(root: &Path, graph: &ImportGraph, cycle: &[PathBuf]) -> String {
    let members: BTreeSet<&PathBuf> = cycle.iter().collect();
    let mut text = format!(
        "import circle of {} files:\n  {}\n  because:",
        cycle.len(),
        cycle
            .iter()
            .map(|f| relative(root, f))
            .collect::<Vec<_>>()
            .join("\n  ")
    );
    for ((from, to), via) in &graph.edges {
        if members.contains(from) && members.contains(to) {
            text.push_str(&format!(
                "\n    {} -> {} (`{via}`)",
                relative(root, from),
                relative(root, to)
            ));
        }
    }
    text
}

fn relative(root: &Path, file: &Path) -> String {
    file.strip_prefix(root)
        .unwrap_or(file)
        .display()
        .to_string()
}

/// The `.rs` files below `dir` longer than `max` lines, with their length.
fn long_files(dir: &Path, max: usize) -> Vec<(PathBuf, usize)> {
    rust_files(dir)
        .into_iter()
        .filter_map(|file| {
            let lines = std::fs::read_to_string(&file).ok()?.lines().count();
            (lines > max).then_some((file, lines))
        })
        .collect()
}

/// Every `.rs` file below `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => pending.push(path),
                Ok(t) if t.is_file() && path.extension().is_some_and(|e| e == "rs") => {
                    out.push(path)
                }
                _ => {}
            }
        }
    }
    out.sort();
    out
}

/// A module's path from its crate root (`["load", "params"]`); empty for the root.
type ModPath = Vec<String>;

/// A name a `use` brings in, or a glob.
#[derive(Debug, Clone)]
struct UseBinding {
    /// `None` for a glob (`use x::*`).
    name: Option<String>,
    /// The path as written, relative to the module it is written in.
    path: Vec<String>,
}

/// One module: the file it is written in and what it holds.
#[derive(Debug, Default)]
struct Module {
    file: PathBuf,
    children: BTreeSet<String>,
    /// Items defined here (types, functions, constants, traits, macros).
    items: BTreeSet<String>,
    uses: Vec<UseBinding>,
}

/// A crate's modules, by path, and the files that were parsed.
#[derive(Default)]
struct ModuleTree {
    modules: BTreeMap<ModPath, Module>,
    /// Each parsed file and the module path it opens with.
    files: Vec<(PathBuf, ModPath, syn::File)>,
}

impl ModuleTree {
    /// The tree from the crate roots in `src` (`lib.rs`, `main.rs`), following `mod x;`
    /// declarations. A `.rs` file no declaration reaches is added with the module path its
    /// place in `src` gives it, so every file is checked.
    fn build(src: &Path) -> ModuleTree {
        let mut tree = ModuleTree::default();
        for root in ["lib.rs", "main.rs"] {
            let file = src.join(root);
            if file.is_file() {
                tree.add_file(&file, Vec::new(), src.to_path_buf());
            }
        }
        let reached: BTreeSet<PathBuf> = tree.files.iter().map(|(f, _, _)| f.clone()).collect();
        for file in rust_files(src) {
            if !reached.contains(&file) {
                let (module, child_dir) = module_path_from_place(src, &file);
                // Link it below its parent, so that paths from the root reach it.
                for depth in 1..=module.len() {
                    tree.modules
                        .entry(module[..depth - 1].to_vec())
                        .or_default()
                        .children
                        .insert(module[depth - 1].clone());
                }
                tree.add_file(&file, module, child_dir);
            }
        }
        tree
    }

    /// Parses `file` as module `module`, whose `mod x;` children live in `child_dir`.
    fn add_file(&mut self, file: &Path, module: ModPath, child_dir: PathBuf) {
        let Ok(text) = std::fs::read_to_string(file) else {
            return;
        };
        let Ok(parsed) = syn::parse_file(&text) else {
            return;
        };
        self.add_items(file, &module, &child_dir, &parsed.items);
        self.files.push((file.to_path_buf(), module, parsed));
    }

    fn add_items(&mut self, file: &Path, module: &ModPath, child_dir: &Path, items: &[syn::Item]) {
        let mut children = Vec::new();
        {
            let entry = self.modules.entry(module.clone()).or_default();
            entry.file = file.to_path_buf();
            for item in items {
                if let Some(name) = item_name(item) {
                    entry.items.insert(name);
                }
                if let syn::Item::Use(item) = item {
                    let mut bindings = Vec::new();
                    use_bindings(&item.tree, &mut Vec::new(), &mut bindings);
                    entry.uses.extend(bindings);
                }
                if let syn::Item::Mod(m) = item {
                    entry.children.insert(m.ident.to_string());
                    children.push(m);
                }
            }
        }
        for m in children {
            let name = m.ident.to_string();
            let mut path = module.clone();
            path.push(name.clone());
            match &m.content {
                Some((_, inner)) => {
                    self.add_items(file, &path, &child_dir.join(&name), inner);
                }
                None => {
                    let flat = child_dir.join(format!("{name}.rs"));
                    let nested = child_dir.join(&name).join("mod.rs");
                    let found = if flat.is_file() {
                        Some(flat)
                    } else if nested.is_file() {
                        Some(nested)
                    } else {
                        None
                    };
                    if let Some(child) = found {
                        self.add_file(&child, path, child_dir.join(&name));
                    }
                }
            }
        }
    }

    /// `path`, written in module `from`, as a path from the crate root; `None` when it leaves
    /// the crate (another crate, `std`) or names nothing this resolver knows.
    fn absolute(&self, from: &[String], path: &[String], depth: usize) -> Option<ModPath> {
        if depth > MAX_RESOLVE_DEPTH {
            return None;
        }
        let (first, rest) = path.split_first()?;
        match first.as_str() {
            "crate" => Some(rest.to_vec()),
            "self" => Some(from.iter().chain(rest).cloned().collect()),
            "super" => {
                let parent = from.split_last()?.1;
                if rest.is_empty() {
                    Some(parent.to_vec())
                } else {
                    self.absolute(parent, &self_prefixed(rest), depth + 1)
                }
            }
            name => {
                let module = self.modules.get(from)?;
                if module.children.contains(name) {
                    return Some(from.iter().chain(path).cloned().collect());
                }
                let binding = module
                    .uses
                    .iter()
                    .find(|u| u.name.as_deref() == Some(name))?;
                let mut target = self.absolute(from, &binding.path, depth + 1)?;
                target.extend(rest.iter().cloned());
                Some(target)
            }
        }
    }

    /// The file that defines what the crate-root path `path` names.
    fn file_of(&self, path: &[String], depth: usize) -> Option<PathBuf> {
        if depth > MAX_RESOLVE_DEPTH {
            return None;
        }
        let mut module: ModPath = Vec::new();
        let mut rest = path;
        while let Some((first, tail)) = rest.split_first() {
            if !self.modules.get(&module)?.children.contains(first) {
                break;
            }
            module.push(first.clone());
            rest = tail;
        }
        let here = self.modules.get(&module)?;
        let Some(name) = rest.first() else {
            return Some(here.file.clone());
        };
        if here.items.contains(name) {
            return Some(here.file.clone());
        }
        if let Some(binding) = here.uses.iter().find(|u| u.name.as_deref() == Some(name)) {
            // A re-export: the file that defines it (none when it comes from another crate).
            return self
                .absolute(&module, &binding.path, depth + 1)
                .and_then(|target| self.file_of(&target, depth + 1));
        }
        for glob in here.uses.iter().filter(|u| u.name.is_none()) {
            let Some(mut target) = self.absolute(&module, &glob.path, depth + 1) else {
                continue;
            };
            if !self.modules.contains_key(&target) {
                continue;
            }
            target.push(name.clone());
            if let Some(file) = self.file_of(&target, depth + 1) {
                if self.defines(&target, depth + 1) {
                    return Some(file);
                }
            }
        }
        // Something the module holds that this resolver does not list (a variant, a macro's
        // item): the module's own file.
        Some(here.file.clone())
    }

    /// Whether `path` (module then item) names an item defined or re-exported there.
    fn defines(&self, path: &[String], depth: usize) -> bool {
        let Some((name, module)) = path.split_last() else {
            return false;
        };
        let Some(here) = self.modules.get(module) else {
            return false;
        };
        here.items.contains(name)
            || here.children.contains(name)
            || here.uses.iter().any(|u| u.name.as_deref() == Some(name))
            || (depth < MAX_RESOLVE_DEPTH
                && here.uses.iter().filter(|u| u.name.is_none()).any(|glob| {
                    self.absolute(module, &glob.path, depth + 1)
                        .is_some_and(|mut target| {
                            target.push(name.clone());
                            self.defines(&target, depth + 1)
                        })
                }))
    }
}

/// `rest` (what follows a `super`) to resolve from the parent: `super::super::x` goes up
/// again, anything else is looked up in the parent itself.
fn self_prefixed(rest: &[String]) -> Vec<String> {
    if rest.first().is_some_and(|s| s == "super") {
        rest.to_vec()
    } else {
        std::iter::once("self".to_string())
            .chain(rest.iter().cloned())
            .collect()
    }
}

/// The module path of a file no `mod` declaration reached, from its place below `src`, and
/// the directory its own children would live in.
fn module_path_from_place(src: &Path, file: &Path) -> (ModPath, PathBuf) {
    let relative = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    let child_dir = src.join(parts.iter().collect::<PathBuf>());
    (parts, child_dir)
}

/// The name an item defines in its module, for the items a path can name.
fn item_name(item: &syn::Item) -> Option<String> {
    let ident = match item {
        syn::Item::Const(i) => &i.ident,
        syn::Item::Enum(i) => &i.ident,
        syn::Item::Fn(i) => &i.sig.ident,
        syn::Item::Static(i) => &i.ident,
        syn::Item::Struct(i) => &i.ident,
        syn::Item::Trait(i) => &i.ident,
        syn::Item::TraitAlias(i) => &i.ident,
        syn::Item::Type(i) => &i.ident,
        syn::Item::Union(i) => &i.ident,
        syn::Item::Macro(i) => i.ident.as_ref()?,
        _ => return None,
    };
    Some(ident.to_string())
}

/// The names a `use` tree binds, each with its full path.
fn use_bindings(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<UseBinding>) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            use_bindings(&p.tree, prefix, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let name = n.ident.to_string();
            if name == "self" {
                // `use a::b::{self}` binds `b`.
                if let Some(last) = prefix.last() {
                    out.push(UseBinding {
                        name: Some(last.clone()),
                        path: prefix.clone(),
                    });
                }
            } else {
                let mut path = prefix.clone();
                path.push(name.clone());
                out.push(UseBinding {
                    name: Some(name),
                    path,
                });
            }
        }
        syn::UseTree::Rename(r) => {
            let mut path = prefix.clone();
            if r.ident != "self" {
                path.push(r.ident.to_string());
            }
            out.push(UseBinding {
                name: Some(r.rename.to_string()),
                path,
            });
        }
        syn::UseTree::Glob(_) => out.push(UseBinding {
            name: None,
            path: prefix.clone(),
        }),
        syn::UseTree::Group(g) => {
            for item in &g.items {
                use_bindings(item, prefix, out);
            }
        }
    }
}

/// The file-level import graph of one crate.
#[derive(Debug, Default)]
struct ImportGraph {
    files: BTreeSet<PathBuf>,
    /// `(from, to)` and one path that makes the edge.
    edges: BTreeMap<(PathBuf, PathBuf), String>,
}

impl ImportGraph {
    fn of_crate(src: &Path) -> ImportGraph {
        let tree = ModuleTree::build(src);
        let mut graph = ImportGraph::default();
        for (file, module, parsed) in &tree.files {
            graph.files.insert(file.clone());
            let mut collect = PathCollector {
                tree: &tree,
                file,
                module: module.clone(),
                found: Vec::new(),
            };
            collect.visit_file(parsed);
            for (to, via) in collect.found {
                if &to != file {
                    graph.edges.entry((file.clone(), to)).or_insert(via);
                }
            }
        }
        graph
    }

    /// Every import circle (a strongly connected set of more than one file), each sorted, in
    /// a stable order.
    fn cycles(&self) -> Vec<Vec<PathBuf>> {
        let mut graph: DiGraph<&PathBuf, ()> = DiGraph::new();
        let nodes: BTreeMap<&PathBuf, NodeIndex> =
            self.files.iter().map(|f| (f, graph.add_node(f))).collect();
        for (from, to) in self.edges.keys() {
            if let (Some(a), Some(b)) = (nodes.get(from), nodes.get(to)) {
                graph.add_edge(*a, *b, ());
            }
        }
        let mut cycles: Vec<Vec<PathBuf>> = tarjan_scc(&graph)
            .into_iter()
            .filter(|scc| scc.len() > 1)
            .map(|scc| {
                let mut files: Vec<PathBuf> = scc.iter().map(|n| graph[*n].clone()).collect();
                files.sort();
                files
            })
            .collect();
        cycles.sort();
        cycles
    }
}

/// Walks one file, resolving each path that may name something of this crate.
struct PathCollector<'a> {
    tree: &'a ModuleTree,
    file: &'a Path,
    /// The module the walk is in (changes inside inline `mod x { ... }`).
    module: ModPath,
    /// Each file named, with the path as written.
    found: Vec<(PathBuf, String)>,
}

impl PathCollector<'_> {
    fn resolve(&mut self, path: &[String]) {
        let Some(absolute) = self.tree.absolute(&self.module, path, 0) else {
            return;
        };
        if let Some(file) = self.tree.file_of(&absolute, 0) {
            if file != self.file {
                self.found.push((file, path.join("::")));
            }
        }
    }

    /// Paths written in a macro's tokens (`format!("{}", crate::x::y())`): each run of
    /// `crate`/`super`/`self` followed by `::`-separated names.
    fn macro_tokens(&mut self, tokens: TokenStream) {
        let flat: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < flat.len() {
            match &flat[i] {
                TokenTree::Group(g) => self.macro_tokens(g.stream()),
                TokenTree::Ident(id) if id == "crate" || id == "super" || id == "self" => {
                    let mut path = vec![id.to_string()];
                    let mut j = i + 1;
                    while is_path_sep(&flat, j) {
                        match flat.get(j + 2) {
                            Some(TokenTree::Ident(next)) => {
                                path.push(next.to_string());
                                j += 3;
                            }
                            _ => break,
                        }
                    }
                    if path.len() > 1 {
                        self.resolve(&path);
                    }
                    i = j.max(i + 1);
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
}

/// Whether the tokens at `at` are `::`.
fn is_path_sep(tokens: &[TokenTree], at: usize) -> bool {
    matches!(
        (tokens.get(at), tokens.get(at + 1)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
            if a.as_char() == ':' && b.as_char() == ':'
    )
}

impl<'ast> Visit<'ast> for PathCollector<'_> {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        // `mod x;` declares, it does not import; an inline module is walked as itself.
        if let Some((_, items)) = &item.content {
            self.module.push(item.ident.to_string());
            for inner in items {
                self.visit_item(inner);
            }
            self.module.pop();
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        // A re-export (`pub use x::Item`) is the module tree's plumbing, not a use: paths
        // through it resolve to the defining file instead.
        if !matches!(item.vis, syn::Visibility::Inherited) {
            return;
        }
        let mut bindings = Vec::new();
        use_bindings(&item.tree, &mut Vec::new(), &mut bindings);
        for binding in bindings {
            self.resolve(&binding.path);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        if path.leading_colon.is_none() && path.segments.len() > 1 {
            let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
            self.resolve(&segments);
        }
        syn::visit::visit_path(self, path);
    }

    // `pub(crate)` and `pub(super)` name where an item is visible, not what it uses.
    fn visit_visibility(&mut self, _: &'ast syn::Visibility) {}

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.visit_path(&mac.path);
        self.macro_tokens(mac.tokens.clone());
    }
}

#[cfg(test)]
mod resolver {
    use super::*;

    /// Writes `files` (path below `src`, text) into a new temp dir's `src`.
    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, text) in files {
            let file = dir.path().join("src").join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, text).unwrap();
        }
        dir
    }

    /// The edges of the crate in `dir`, as `from -> to` below `src`.
    fn edges(dir: &Path) -> Vec<String> {
        let src = dir.join("src");
        let graph = ImportGraph::of_crate(&src);
        graph
            .edges
            .keys()
            .map(|(a, b)| format!("{} -> {}", relative(&src, a), relative(&src, b)))
            .collect()
    }

    fn cycles(dir: &Path) -> Vec<Vec<String>> {
        let src = dir.join("src");
        ImportGraph::of_crate(&src)
            .cycles()
            .into_iter()
            .map(|c| c.iter().map(|f| relative(&src, f)).collect())
            .collect()
    }

    #[test]
    fn paths_resolve_to_the_file_that_defines_what_they_name() {
        let dir = tree(&[
            (
                "lib.rs",
                "mod a;\nmod b;\npub mod c;\nmod e;\npub use c::Thing;\npub use e::*;\n",
            ),
            // `crate::b::B` names b.rs; an inline test module's `super::*` is this file.
            (
                "a.rs",
                "use crate::b::B;\npub struct A;\n#[cfg(test)]\nmod tests { use super::*; }\n",
            ),
            // A re-export in lib.rs, written in a macro, resolves to c/d.rs, not lib.rs.
            (
                "b.rs",
                "pub struct B;\npub(crate) fn f() { let _ = format!(\"{:?}\", crate::Thing::new()); }\n",
            ),
            // `mod d;` is no import; `pub use d::Thing` re-exports.
            ("c/mod.rs", "mod d;\npub use d::Thing;\n"),
            // `super::super::a::A` from c::d names a.rs.
            (
                "c/d.rs",
                "pub struct Thing;\nimpl Thing { pub fn new() -> super::super::a::A { super::super::a::A } }\n",
            ),
            // A glob re-export (lib.rs imports the module e/mod.rs as a whole), followed
            // through e's own glob: `crate::Other` is e/f.rs.
            ("e/mod.rs", "mod f;\npub use self::f::*;\n"),
            ("e/f.rs", "pub struct Other;\n"),
            ("g.rs", "fn g() -> crate::Other { crate::Other }\n"),
            // A private `use` of a child module's item is a use (the re-exports above are not).
            ("h.rs", "mod i { pub use crate::c::Thing; }\nuse i::Thing;\n"),
        ]);
        assert_eq!(
            edges(dir.path()),
            [
                "a.rs -> b.rs",
                "b.rs -> c/d.rs",
                "c/d.rs -> a.rs",
                "g.rs -> e/f.rs",
                "h.rs -> c/d.rs",
            ]
        );
        assert_eq!(cycles(dir.path()), [["a.rs", "b.rs", "c/d.rs"]]);
    }

    #[test]
    fn a_tree_without_back_edges_has_no_cycle() {
        let dir = tree(&[
            ("main.rs", "mod x;\nmod y;\nfn main() { x::run(); }\n"),
            ("x.rs", "use crate::y::Y;\npub fn run() { let _ = Y; }\n"),
            (
                "y.rs",
                "pub struct Y;\nmod inner {\n    mod deeper { use super::super::Y; }\n}\n",
            ),
            // A file no `mod` reaches is still walked; a visibility path is no import.
            (
                "z.rs",
                "pub(crate) struct Z;\nfn z() -> crate::x::Missing { loop {} }\n",
            ),
        ]);
        assert_eq!(
            edges(dir.path()),
            ["main.rs -> x.rs", "x.rs -> y.rs", "z.rs -> x.rs"]
        );
        assert!(cycles(dir.path()).is_empty());
    }

    #[test]
    fn a_child_of_a_file_module_lives_in_its_directory() {
        let dir = tree(&[
            ("lib.rs", "mod load;\n"),
            ("load.rs", "mod params;\npub struct Options;\n"),
            ("load/params.rs", "use super::Options;\n"),
        ]);
        assert_eq!(edges(dir.path()), ["load/params.rs -> load.rs"]);
    }

    #[test]
    fn long_cli_files_are_found() {
        let dir = tree(&[
            ("short.rs", "fn a() {}\n"),
            ("long.rs", &"// x\n".repeat(5)),
        ]);
        let long = long_files(&dir.path().join("src"), 4);
        assert_eq!(long.len(), 1);
        assert!(long[0].0.ends_with("long.rs") && long[0].1 == 5);
    }
}
