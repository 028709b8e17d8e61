//! Names: what a stack, resource or param may be called, and the physical names strata
//! derives for resources that are given none.

use std::sync::LazyLock;

use files::digest::sha256_hex;
use regex::Regex;

use crate::schema::NameRule;

/// `stack:` names: they prefix every physical name, so they stay DNS-like.
pub(crate) const STACK_NAME_RULE: &str = "[a-z][a-z0-9-]{0,62}";
/// Resource logical names: they are used in `${name.attr}`, so no dots or dashes.
pub(crate) const RESOURCE_NAME_RULE: &str = "[a-z][a-z0-9_]{0,62}";
/// Param names: referenced as `${params.NAME}` and set with `--var NAME=VALUE`.
pub(crate) const PARAM_NAME_RULE: &str = "[A-Za-z_][A-Za-z0-9_]{0,62}";

static STACK_NAME: LazyLock<Regex> = LazyLock::new(|| anchored(STACK_NAME_RULE));
static RESOURCE_NAME: LazyLock<Regex> = LazyLock::new(|| anchored(RESOURCE_NAME_RULE));
static PARAM_NAME: LazyLock<Regex> = LazyLock::new(|| anchored(PARAM_NAME_RULE));

fn anchored(rule: &str) -> Regex {
    Regex::new(&format!("^(?:{rule})$")).expect("name rules are valid regexes")
}

pub(crate) fn is_stack_name(name: &str) -> bool {
    STACK_NAME.is_match(name)
}

pub(crate) fn is_resource_name(name: &str) -> bool {
    RESOURCE_NAME.is_match(name)
}

/// A resource's address: its name, after the names of the module instances it is in
/// (`queue`, `net.vpc`, `outer.inner.queue`), each optionally with the key of its instance
/// (`subnets[0]`, `queues["main"]`).
pub fn is_resource_address(address: &str) -> bool {
    parse_address(address).is_some()
}

/// What [`is_resource_address`] accepts, for help texts.
pub const RESOURCE_ADDRESS_RULE: &str = "a resource name (`[a-z][a-z0-9_]{0,62}`), after the module instances it is in (`net.vpc`), with the key of a `count` or `for_each` instance (`subnets[0]`, `queues[\"main\"]`)";

/// The key of one instance of a resource with `count` (`[0]`) or `for_each` (`["main"]`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InstanceKey {
    Index(usize),
    Key(String),
}

impl InstanceKey {
    /// How the key is written after the name: `[0]`, `["main"]` (a JSON string).
    pub fn suffix(&self) -> String {
        match self {
            InstanceKey::Index(i) => format!("[{i}]"),
            InstanceKey::Key(k) => format!(
                "[{}]",
                serde_json::to_string(k).unwrap_or_else(|_| format!("\"{k}\""))
            ),
        }
    }
}

/// The parts of an address, `(name, key)` per module instance and resource; `None` when it is
/// not one.
pub fn parse_address(address: &str) -> Option<Vec<(String, Option<InstanceKey>)>> {
    let mut parts = Vec::new();
    let mut rest = address;
    loop {
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let name = &rest[..end];
        if !is_resource_name(name) {
            return None;
        }
        rest = &rest[end..];
        let mut key = None;
        if let Some(after) = rest.strip_prefix('[') {
            if let Some(quoted) = after.strip_prefix('"') {
                // A JSON string up to its closing quote.
                let mut escaped = false;
                let close = quoted.char_indices().find(|&(_, c)| {
                    let end = c == '"' && !escaped;
                    escaped = c == '\\' && !escaped;
                    end
                })?;
                let literal = &after[..close.0 + 2];
                let text: String = serde_json::from_str(literal).ok()?;
                rest = after[close.0 + 2..].strip_prefix(']')?;
                key = Some(InstanceKey::Key(text));
            } else {
                let close = after.find(']')?;
                let digits = &after[..close];
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                key = Some(InstanceKey::Index(digits.parse().ok()?));
                rest = &after[close + 1..];
            }
        }
        parts.push((name.to_string(), key));
        if rest.is_empty() {
            return Some(parts);
        }
        rest = rest.strip_prefix('.')?;
    }
}

/// The address without the key of its last part: `subnets` for `subnets["a"]`, `net.vpc` for
/// `net.vpc`. What `--target subnets` and `depends_on: [subnets]` name.
pub fn address_base(address: &str) -> String {
    match parse_address(address) {
        Some(mut parts) => {
            if let Some(last) = parts.last_mut() {
                last.1 = None;
            }
            join_address(&parts)
        }
        None => address.to_string(),
    }
}

/// An address from its parts (the inverse of [`parse_address`]).
pub fn join_address(parts: &[(String, Option<InstanceKey>)]) -> String {
    parts
        .iter()
        .map(|(name, key)| match key {
            Some(key) => format!("{name}{}", key.suffix()),
            None => name.clone(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// The value of the `strata:address` tag for `address`: the address itself where AWS's tag
/// rules allow it (letters, digits, spaces and `_ . : / = + - @`); an instance key is written
/// `/KEY` (`subnets/0`, `queues/main`), and a key with other characters has them replaced by
/// `_` and a hash of the whole address appended, so the value stays unique.
pub fn address_tag(address: &str) -> String {
    let Some(parts) = parse_address(address) else {
        return address.to_string();
    };
    let mut out = String::new();
    let mut replaced = false;
    for (i, (name, key)) in parts.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(name);
        match key {
            None => {}
            Some(InstanceKey::Index(n)) => out.push_str(&format!("/{n}")),
            Some(InstanceKey::Key(k)) => {
                out.push('/');
                for c in k.chars() {
                    if c.is_alphanumeric() || " _.:/=+-@".contains(c) {
                        out.push(c);
                    } else {
                        out.push('_');
                        replaced = true;
                    }
                }
            }
        }
    }
    if replaced {
        let digest = sha256_hex(address.as_bytes());
        out.push('-');
        out.extend(digest.chars().take(HASH_CHARS));
    }
    out
}

/// An address as a piece of a physical name: `.`, `_` and the punctuation of instance keys
/// turn into `-` (`net.vpc_main` -> `net-vpc-main`, `queues["eu west"]` -> `queues-eu-west`).
fn address_slug(address: &str) -> String {
    let Some(parts) = parse_address(address) else {
        return address.replace(['.', '_'], "-");
    };
    let mut pieces: Vec<String> = Vec::new();
    for (name, key) in parts {
        pieces.push(name.replace('_', "-"));
        match key {
            None => {}
            Some(InstanceKey::Index(n)) => pieces.push(n.to_string()),
            Some(InstanceKey::Key(k)) => {
                let slug: String = k
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                    .collect();
                let slug = slug.trim_matches('-').to_string();
                if !slug.is_empty() {
                    pieces.push(slug);
                }
            }
        }
    }
    pieces.join("-")
}

pub(crate) fn is_param_name(name: &str) -> bool {
    PARAM_NAME.is_match(name)
}

/// How many hex digits of the SHA-256 a shortened name keeps.
const HASH_CHARS: usize = 8;

/// The deterministic physical name of a resource that was given none:
/// `{stack}-{address}` with `.` and `_` turned into `-` (`orders-net-vpc`).
///
/// When the name with its suffix would exceed `rule.max_len`, the name is cut and
/// `-` plus the first 8 hex digits of the SHA-256 of the full name is appended, so distinct
/// long addresses stay distinct. When `suffix` is true the rule's suffix (`.fifo`) ends the
/// name. The same inputs always give the same name; the result never exceeds `max_len`
/// (when `max_len` leaves no room for the hash, the hash itself is cut).
pub fn physical_name(stack: &str, address: &str, rule: &NameRule, suffix: bool) -> String {
    let suffix = match (suffix, rule.suffix_when) {
        (true, Some((_, text))) => text,
        _ => "",
    };
    let base = format!("{stack}-{}", address_slug(address));
    let full = format!("{base}{suffix}");
    if full.chars().count() <= rule.max_len {
        return full;
    }
    let digest = sha256_hex(full.as_bytes());
    let hash: String = digest.chars().take(HASH_CHARS).collect();
    let room = rule
        .max_len
        .saturating_sub(suffix.chars().count())
        .saturating_sub(HASH_CHARS + 1);
    let cut: String = base.chars().take(room).collect();
    let cut = cut.trim_end_matches('-');
    let shortened = if cut.is_empty() {
        format!("{hash}{suffix}")
    } else {
        format!("{cut}-{hash}{suffix}")
    };
    shortened.chars().take(rule.max_len).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(max_len: usize) -> NameRule {
        NameRule {
            prop: "name",
            max_len,
            suffix_when: Some(("fifo_queue", ".fifo")),
        }
    }

    #[test]
    fn a_short_name_is_stack_dash_address() {
        assert_eq!(
            physical_name("orders", "orders", &rule(80), false),
            "orders-orders"
        );
        assert_eq!(
            physical_name("orders", "net.vpc_main", &rule(80), false),
            "orders-net-vpc-main"
        );
        assert_eq!(
            physical_name("orders", "jobs", &rule(80), true),
            "orders-jobs.fifo"
        );
    }

    #[test]
    fn a_long_name_is_cut_with_a_hash_and_keeps_its_suffix() {
        let address = "a_very_long_resource_name_that_goes_on_and_on";
        let name = physical_name("orders", address, &rule(32), true);
        assert_eq!(name.len(), 32, "{name}");
        assert!(name.ends_with(".fifo"), "{name}");
        assert!(name.starts_with("orders-a-very-long-"), "{name}");
        assert_eq!(name, physical_name("orders", address, &rule(32), true));
        let other = physical_name(
            "orders",
            "a_very_long_resource_name_that_goes_on_and_off",
            &rule(32),
            true,
        );
        assert_ne!(name, other);
    }

    #[test]
    fn tiny_limits_never_panic_or_overflow() {
        for max_len in 0..12 {
            let name = physical_name("stack", "resource", &rule(max_len), true);
            assert!(name.chars().count() <= max_len, "{max_len}: {name}");
        }
    }

    #[test]
    fn instance_addresses_parse_and_name() {
        assert!(is_resource_address("subnets[0]"));
        assert!(is_resource_address("queues[\"main\"]"));
        assert!(is_resource_address("net.queues[\"a.b\"]"));
        assert!(is_resource_address("queues[\"say \\\"hi\\\"\"]"));
        assert!(!is_resource_address("queues[main]"));
        assert!(!is_resource_address("queues[\"main\""));
        assert!(!is_resource_address("queues[]"));
        assert!(!is_resource_address("queues[0]x"));
        assert_eq!(address_base("queues[\"a.b\"]"), "queues");
        assert_eq!(address_base("net.subnets[2]"), "net.subnets");
        assert_eq!(address_base("net.vpc"), "net.vpc");
        assert_eq!(
            physical_name("orders", "queues[\"eu west\"]", &rule(80), false),
            "orders-queues-eu-west"
        );
        assert_eq!(
            physical_name("orders", "subnets[1]", &rule(80), false),
            "orders-subnets-1"
        );
        assert_eq!(address_tag("subnets[1]"), "subnets/1");
        assert_eq!(address_tag("queues[\"main\"]"), "queues/main");
        assert_eq!(address_tag("net.vpc"), "net.vpc");
        let odd = address_tag("queues[\"a,b\"]");
        assert!(odd.starts_with("queues/a_b-"), "{odd}");
        assert_ne!(odd, address_tag("queues[\"a;b\"]"));
    }

    #[test]
    fn name_rules_match_the_contract() {
        assert!(is_stack_name("orders-2"));
        assert!(!is_stack_name("Orders"));
        assert!(!is_stack_name(&"a".repeat(64)));
        assert!(is_resource_name("orders_dlq"));
        assert!(!is_resource_name("orders-dlq"));
        assert!(!is_resource_name("1q"));
    }
}
