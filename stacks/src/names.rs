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
/// (`queue`, `net.vpc`, `outer.inner.queue`).
pub fn is_resource_address(address: &str) -> bool {
    address.split('.').all(is_resource_name)
}

/// What [`is_resource_address`] accepts, for help texts.
pub const RESOURCE_ADDRESS_RULE: &str =
    "a resource name (`[a-z][a-z0-9_]{0,62}`), after the module instances it is in (`net.vpc`)";

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
    let base = format!("{stack}-{}", address.replace(['.', '_'], "-"));
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
    fn name_rules_match_the_contract() {
        assert!(is_stack_name("orders-2"));
        assert!(!is_stack_name("Orders"));
        assert!(!is_stack_name(&"a".repeat(64)));
        assert!(is_resource_name("orders_dlq"));
        assert!(!is_resource_name("orders-dlq"));
        assert!(!is_resource_name("1q"));
    }
}
