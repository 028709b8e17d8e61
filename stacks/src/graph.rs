//! The stack's dependency graph: built once, when the stack is loaded, and handed on.
//!
//! A node per resource (the stack's and its modules', flattened), an edge `a -> b` when `b`
//! depends on `a` (a reference or `depends_on`), so edges follow the order of creation. The
//! loader's cycle check, the planner's order, `--target` and `strata graph` all read this one
//! graph, so they can never disagree about what depends on what.

use std::collections::{BTreeMap, BTreeSet};

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;

/// Resources and what depends on what, with declaration order kept for stable output.
#[derive(Clone, Debug, Default)]
pub struct DependencyGraph {
    graph: DiGraph<String, ()>,
    index: BTreeMap<String, NodeIndex>,
}

impl PartialEq for DependencyGraph {
    fn eq(&self, other: &Self) -> bool {
        self.addresses().eq(other.addresses()) && self.edges() == other.edges()
    }
}

impl DependencyGraph {
    /// The graph of `addresses` (in this order) with `edges` as (dependency, dependant). An edge
    /// naming an address not given makes no edge.
    pub fn from_edges<'a>(
        addresses: impl IntoIterator<Item = &'a str>,
        edges: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> DependencyGraph {
        let mut graph = DependencyGraph::default();
        for address in addresses {
            graph.add_node(address);
        }
        for (dependency, dependant) in edges {
            graph.add_edge(dependency, dependant);
        }
        graph
    }

    fn add_node(&mut self, address: &str) {
        if !self.index.contains_key(address) {
            let node = self.graph.add_node(address.to_string());
            self.index.insert(address.to_string(), node);
        }
    }

    fn add_edge(&mut self, dependency: &str, dependant: &str) {
        if let (Some(&from), Some(&to)) = (self.index.get(dependency), self.index.get(dependant)) {
            if from != to {
                self.graph.update_edge(from, to, ());
            }
        }
    }

    /// Every address, in declaration order.
    pub fn addresses(&self) -> impl Iterator<Item = &str> + '_ {
        self.graph.node_indices().map(|n| self.graph[n].as_str())
    }

    pub fn contains(&self, address: &str) -> bool {
        self.index.contains_key(address)
    }

    /// Every edge as (dependency, dependant): dependants in declaration order, each one's
    /// dependencies by address. The same stack always gives the same list.
    pub fn edges(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for to in self.graph.node_indices() {
            let mut from: Vec<NodeIndex> = self
                .graph
                .neighbors_directed(to, Direction::Incoming)
                .collect();
            from.sort_by(|a, b| self.graph[*a].cmp(&self.graph[*b]));
            for f in from {
                out.push((self.graph[f].clone(), self.graph[to].clone()));
            }
        }
        out
    }

    /// What `address` depends on directly.
    pub fn dependencies(&self, address: &str) -> Vec<String> {
        self.neighbours(address, Direction::Incoming)
    }

    /// What depends on `address` directly.
    pub fn dependants(&self, address: &str) -> Vec<String> {
        self.neighbours(address, Direction::Outgoing)
    }

    fn neighbours(&self, address: &str, direction: Direction) -> Vec<String> {
        let Some(&node) = self.index.get(address) else {
            return Vec::new();
        };
        let mut found: Vec<NodeIndex> = self.graph.neighbors_directed(node, direction).collect();
        found.sort();
        found.into_iter().map(|n| self.graph[n].clone()).collect()
    }

    /// `addresses` and everything they depend on, transitively.
    pub fn with_dependencies(&self, addresses: &BTreeSet<String>) -> BTreeSet<String> {
        self.closure(addresses, Direction::Incoming)
    }

    /// `addresses` and everything that depends on them, transitively.
    pub fn with_dependants(&self, addresses: &BTreeSet<String>) -> BTreeSet<String> {
        self.closure(addresses, Direction::Outgoing)
    }

    fn closure(&self, start: &BTreeSet<String>, direction: Direction) -> BTreeSet<String> {
        let mut seen: BTreeSet<String> = start.clone();
        let mut queue: Vec<NodeIndex> = start
            .iter()
            .filter_map(|a| self.index.get(a).copied())
            .collect();
        while let Some(node) = queue.pop() {
            for next in self.graph.neighbors_directed(node, direction) {
                if seen.insert(self.graph[next].clone()) {
                    queue.push(next);
                }
            }
        }
        seen
    }

    /// The resources in a cycle, one set per cycle (strongly connected components of more than
    /// one resource), sorted.
    pub fn cycles(&self) -> Vec<BTreeSet<String>> {
        let mut cycles: Vec<BTreeSet<String>> = petgraph::algo::tarjan_scc(&self.graph)
            .into_iter()
            .filter(|scc| scc.len() > 1)
            .map(|scc| scc.into_iter().map(|n| self.graph[n].clone()).collect())
            .collect();
        cycles.sort();
        cycles
    }

    /// Every address in dependency order (what is depended on first), declaration order
    /// breaking ties so plans read in the order the file does. `Err` names the resources left
    /// in cycles (the loader reports cycles, so a loaded stack never has one).
    pub fn order(&self) -> Result<Vec<String>, Vec<String>> {
        let mut indegree: Vec<usize> = self
            .graph
            .node_indices()
            .map(|n| {
                self.graph
                    .neighbors_directed(n, Direction::Incoming)
                    .count()
            })
            .collect();
        let mut ready: BTreeSet<NodeIndex> = self
            .graph
            .node_indices()
            .filter(|n| indegree[n.index()] == 0)
            .collect();
        let mut out = Vec::with_capacity(indegree.len());
        while let Some(node) = ready.pop_first() {
            out.push(self.graph[node].clone());
            for next in self.graph.neighbors_directed(node, Direction::Outgoing) {
                let d = &mut indegree[next.index()];
                *d -= 1;
                if *d == 0 {
                    ready.insert(next);
                }
            }
        }
        if out.len() == self.graph.node_count() {
            Ok(out)
        } else {
            let placed: BTreeSet<&String> = out.iter().collect();
            Err(self
                .addresses()
                .filter(|a| !placed.contains(&a.to_string()))
                .map(str::to_string)
                .collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_puts_dependencies_first_and_keeps_declaration_order_between_independent_ones() {
        let graph = DependencyGraph::from_edges(["c", "x", "b", "a"], [("b", "c"), ("a", "b")]);
        assert_eq!(graph.order().unwrap(), ["x", "a", "b", "c"]);
        assert_eq!(graph.dependencies("c"), ["b"]);
        assert_eq!(graph.dependants("a"), ["b"]);
        let c = BTreeSet::from(["c".to_string()]);
        assert_eq!(graph.with_dependencies(&c).len(), 3);
        let a = BTreeSet::from(["a".to_string()]);
        assert_eq!(graph.with_dependants(&a).len(), 3);
        assert_eq!(
            graph.edges(),
            [
                ("b".to_string(), "c".to_string()),
                ("a".to_string(), "b".to_string())
            ]
        );
    }

    #[test]
    fn a_cycle_is_found_and_left_out_of_the_order() {
        let graph = DependencyGraph::from_edges(["a", "b", "c"], [("b", "a"), ("a", "b")]);
        assert_eq!(
            graph.cycles(),
            [BTreeSet::from(["a".to_string(), "b".to_string()])]
        );
        assert_eq!(graph.order().unwrap_err(), ["a", "b"]);
    }
}
