//! `locals:`: named values computed from expressions (SPEC §9). Each is evaluated on first
//! use (so locals may use each other in any order) and once; a local that uses itself, directly
//! or through others, is an error naming the cycle. A local that references resources is kept
//! as an expression: a resource using it depends on what it references.

use crate::expr::Expr;
use crate::suggest::{hint, list_names};
use crate::yaml::{Node, Pos};

use super::loader::Loader;
use super::parts::{Local, Place};

/// Names that would read ambiguously as locals.
const LOCAL_NAME: &str = "[a-z_][a-z0-9_-]*";

impl Loader<'_> {
    /// Records the `locals:` of this file, to be evaluated on first use.
    pub(crate) fn declare_locals(&mut self, node: &Node) {
        for (key, value) in self.mapping(node, "`locals`") {
            let good =
                key.name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                    && key.name.chars().all(|c| {
                        c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'
                    });
            if !good {
                self.error(
                    key.pos,
                    format!("invalid local name `{}`", key.name),
                    Some(format!(
                        "a local is named with lowercase letters, digits, `_` and `-` (`{LOCAL_NAME}`)"
                    )),
                );
                continue;
            }
            self.locals
                .insert(key.name.clone(), Local::Pending(value.clone()));
        }
    }

    /// The value of local `name`, evaluating it now if it was not yet. `pos` and `written` say
    /// where it is used, for errors.
    pub(crate) fn local(&mut self, name: &str, written: &str, pos: Pos) -> Option<Expr> {
        let Some(state) = self.locals.get(name).cloned() else {
            let names: Vec<&str> = self.locals.keys().map(String::as_str).collect();
            let help = hint(name, names.iter().copied()).unwrap_or_else(|| {
                if names.is_empty() {
                    format!("declare it under `locals:` (e.g. `{name}: ${{params.NAME}}`)")
                } else {
                    format!("the locals are {}", list_names(&names))
                }
            });
            self.error(
                pos,
                format!("unknown local `{name}` in `{written}`"),
                Some(help),
            );
            return None;
        };
        match state {
            Local::Done(expr) => expr,
            Local::Resolving => {
                let start = self
                    .locals_resolving
                    .iter()
                    .position(|n| n == name)
                    .unwrap_or(0);
                let mut cycle: Vec<String> = self.locals_resolving[start..]
                    .iter()
                    .map(|n| format!("locals.{n}"))
                    .collect();
                cycle.push(format!("locals.{name}"));
                self.error(
                    pos,
                    format!("locals use each other in a cycle: {}", cycle.join(" -> ")),
                    Some("a local cannot depend on itself; compute one of them from params or resources instead".into()),
                );
                None
            }
            Local::Pending(node) => {
                self.locals.insert(name.to_string(), Local::Resolving);
                self.locals_resolving.push(name.to_string());
                let expr = self.any_expr(&node, &Place::Local);
                self.locals_resolving.pop();
                self.locals
                    .insert(name.to_string(), Local::Done(expr.clone()));
                expr
            }
        }
    }

    /// Evaluates the locals nothing used, so their errors are reported too.
    pub(crate) fn finish_locals(&mut self) {
        let pending: Vec<String> = self
            .locals
            .iter()
            .filter(|(_, l)| matches!(l, Local::Pending(_)))
            .map(|(n, _)| n.clone())
            .collect();
        for name in pending {
            let _ = self.local(&name, "", Pos::default());
        }
    }
}
