//! `moved:`: renames that keep the resource. Each `from` -> `to` is checked here (both are
//! addresses, `to` is declared by the stack); the planner renames what the state records.

use crate::model::{Move, ResourceDecl, SourcePos};
use crate::names::{parse_address, RESOURCE_ADDRESS_RULE};
use crate::suggest::hint;
use crate::yaml::{Node, NodeKind};

use indexmap::IndexMap;

use super::loader::Loader;

impl Loader<'_> {
    /// The `moved:` list, checked against the stack's resources.
    pub(crate) fn moved(
        &mut self,
        node: &Node,
        resources: &IndexMap<String, ResourceDecl>,
    ) -> Vec<Move> {
        let items: &[Node] = match &node.kind {
            NodeKind::List(items) => items,
            NodeKind::Null => &[],
            _ => {
                self.error(
                    node.pos,
                    format!("`moved` must be a list, not {}", node.describe()),
                    Some("write `moved: [{ from: OLD_ADDRESS, to: NEW_ADDRESS }]`".into()),
                );
                return Vec::new();
            }
        };
        let mut out: Vec<Move> = Vec::new();
        for item in items {
            let entries = self.mapping(item, "an entry of `moved`");
            let fields = self.fields(entries, &["from", "to"], "in an entry of `moved`");
            let mut address = |name: &str| -> Option<String> {
                let Some((_, value)) = fields.get(name) else {
                    self.error(
                        item.pos,
                        format!("an entry of `moved` needs `{name}:`"),
                        Some("write `{ from: OLD_ADDRESS, to: NEW_ADDRESS }`".into()),
                    );
                    return None;
                };
                let text = self.text(value, &format!("`moved.{name}`"))?;
                if parse_address(&text).is_none() {
                    self.error(
                        value.pos,
                        format!("`{text}` is not a resource address"),
                        Some(format!(
                            "write {RESOURCE_ADDRESS_RULE}; quote it in YAML: 'queues[\"main\"]'"
                        )),
                    );
                    return None;
                }
                Some(text)
            };
            let (Some(from), Some(to)) = (address("from"), address("to")) else {
                continue;
            };
            let to_pos = fields.node("to").map_or(item.pos, |n| n.pos);
            if from == to {
                self.error(
                    to_pos,
                    format!("`moved` renames `{from}` to itself"),
                    Some("remove the entry".into()),
                );
                continue;
            }
            if !resources.contains_key(&to) {
                let help = hint(&to, resources.keys().map(String::as_str)).unwrap_or_else(|| {
                    "`to` is the address the resource has now, declared in `resources:`".into()
                });
                self.error(
                    to_pos,
                    format!("`moved` names `{to}`, which this stack does not declare"),
                    Some(help),
                );
                continue;
            }
            if resources.contains_key(&from) {
                self.error(
                    fields.node("from").map_or(item.pos, |n| n.pos),
                    format!("`moved` renames `{from}`, which this stack still declares"),
                    Some(format!(
                        "remove `{from}` from `resources:`, or the `moved` entry"
                    )),
                );
                continue;
            }
            if let Some(other) = out.iter().find(|m| m.from == from || m.to == to) {
                self.error(
                    to_pos,
                    format!(
                        "`moved` has two entries for `{}`",
                        if other.from == from { &from } else { &to }
                    ),
                    Some("keep one rename per address".into()),
                );
                continue;
            }
            out.push(Move {
                from,
                to,
                pos: SourcePos {
                    file: self.file.path.clone(),
                    line: to_pos.line,
                    column: to_pos.column,
                },
            });
        }
        out
    }
}
