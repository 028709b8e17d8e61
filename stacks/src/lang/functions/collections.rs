//! Collection functions: lists and mappings.

use std::collections::BTreeMap;

use crate::value::Value;

use super::super::values::number;
use super::args::{int, list, num, text};
use super::context::FileContext;

type Out = Result<Value, String>;

pub(super) fn length(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let n = match &args[0] {
        Value::List(items) => items.len(),
        Value::Map(map) => map.len(),
        Value::String(s) => s.chars().count(),
        _ => 0,
    };
    Ok(Value::int(n as i64))
}

pub(super) fn concat(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    Ok(Value::List(
        args.iter()
            .flat_map(|l| l.as_list().unwrap_or(&[]).iter().cloned())
            .collect(),
    ))
}

/// Later mappings win; null arguments are skipped, as Terraform's.
pub(super) fn merge(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let mut out = BTreeMap::new();
    for (i, arg) in args.into_iter().enumerate() {
        match arg {
            Value::Null => {}
            Value::Map(map) => out.extend(map),
            other => {
                return Err(format!(
                    "argument {} must be a mapping, not a {}",
                    i + 1,
                    other.kind_name()
                ))
            }
        }
    }
    Ok(Value::Map(out))
}

pub(super) fn lookup(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let key = text(&args, 1);
    let map = args[0].as_map().cloned().unwrap_or_default();
    match (map.get(key), args.get(2)) {
        (Some(v), _) => Ok(v.clone()),
        (None, Some(default)) => Ok(default.clone()),
        (None, None) => Err(format!(
            "the mapping has no key \"{key}\" and no default is given (its keys: {})",
            keys_text(&map)
        )),
    }
}

fn keys_text(map: &BTreeMap<String, Value>) -> String {
    if map.is_empty() {
        return "none".into();
    }
    map.keys()
        .map(|k| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn keys(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let map = args[0].as_map().cloned().unwrap_or_default();
    Ok(Value::List(map.into_keys().map(Value::String).collect()))
}

pub(super) fn values(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let map = args[0].as_map().cloned().unwrap_or_default();
    Ok(Value::List(map.into_values().collect()))
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

pub(super) fn contains(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    Ok(Value::Bool(
        list(&args, 0).iter().any(|v| same(v, &args[1])),
    ))
}

/// Terraform's `element`: the index wraps around the list's length.
pub(super) fn element(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let items = list(&args, 0);
    let index = int(&args, 1, "the index")?;
    if items.is_empty() {
        return Err("cannot take an element of an empty list".into());
    }
    if index < 0 {
        return Err(format!("the index must not be negative, got {index}"));
    }
    Ok(items[index as usize % items.len()].clone())
}

pub(super) fn flatten(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    fn walk(items: &[Value], out: &mut Vec<Value>) {
        for item in items {
            match item {
                Value::List(inner) => walk(inner, out),
                other => out.push(other.clone()),
            }
        }
    }
    let mut out = Vec::new();
    walk(list(&args, 0), &mut out);
    Ok(Value::List(out))
}

pub(super) fn distinct(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let mut out: Vec<Value> = Vec::new();
    for item in list(&args, 0) {
        if !out.iter().any(|o| same(o, item)) {
            out.push(item.clone());
        }
    }
    Ok(Value::List(out))
}

/// The most numbers `range` may produce: a bound on a typo such as `range(1e9)`.
const MAX_RANGE: usize = 1024;

/// `range(limit)`, `range(start, limit)`, `range(start, limit, step)`.
pub(super) fn range(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let (start, limit, step) = match args.len() {
        1 => (0.0, num(&args, 0), 1.0),
        2 => {
            let (a, b) = (num(&args, 0), num(&args, 1));
            (a, b, if b < a { -1.0 } else { 1.0 })
        }
        3 => (num(&args, 0), num(&args, 1), num(&args, 2)),
        n => return Err(format!("takes 1 to 3 numbers, but {n} are given")),
    };
    if step == 0.0 {
        return Err("the step must not be zero".into());
    }
    if (step > 0.0 && limit < start) || (step < 0.0 && limit > start) {
        return Err(format!(
            "a step of {step} never reaches {limit} from {start}"
        ));
    }
    let mut out = Vec::new();
    let mut x = start;
    while (step > 0.0 && x < limit) || (step < 0.0 && x > limit) {
        if out.len() == MAX_RANGE {
            return Err(format!("would give more than {MAX_RANGE} numbers"));
        }
        out.push(number(x));
        x += step;
    }
    Ok(Value::List(out))
}

pub(super) fn zipmap(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let (keys, values) = (list(&args, 0), list(&args, 1));
    if keys.len() != values.len() {
        return Err(format!(
            "there are {} keys but {} values; both lists must be as long",
            keys.len(),
            values.len()
        ));
    }
    let mut out = BTreeMap::new();
    for (k, v) in keys.iter().zip(values) {
        let key = match k {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            other => {
                return Err(format!(
                    "a key must be a string, not a {}",
                    other.kind_name()
                ))
            }
        };
        out.insert(key, v.clone());
    }
    Ok(Value::Map(out))
}

/// The first argument that is neither null nor an empty string.
pub(super) fn coalesce(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    args.into_iter()
        .find(|v| !matches!(v, Value::Null) && v.as_str() != Some(""))
        .ok_or_else(|| "no non-null, non-empty argument".to_string())
}

/// The list without null items and empty strings.
pub(super) fn compact(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    Ok(Value::List(
        list(&args, 0)
            .iter()
            .filter(|v| !matches!(v, Value::Null) && v.as_str() != Some(""))
            .cloned()
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::args::testing::*;
    use super::*;
    use crate::value::Value;

    fn m(entries: &[(&str, Value)]) -> Value {
        Value::Map(
            entries
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn length_counts_items_entries_and_characters() {
        assert_eq!(run(length, vec![l(&[n(1), n(2)])]), Ok(n(2)));
        assert_eq!(run(length, vec![m(&[("a", n(1))])]), Ok(n(1)));
        assert_eq!(run(length, vec![s("héllo")]), Ok(n(5)));
    }

    #[test]
    fn lists_concatenate_flatten_deduplicate_and_compact() {
        assert_eq!(
            run(concat, vec![l(&[n(1)]), l(&[n(2), n(3)])]),
            Ok(l(&[n(1), n(2), n(3)]))
        );
        assert_eq!(
            run(flatten, vec![l(&[l(&[n(1), l(&[n(2)])]), n(3)])]),
            Ok(l(&[n(1), n(2), n(3)]))
        );
        assert_eq!(
            run(distinct, vec![l(&[s("a"), s("b"), s("a")])]),
            Ok(l(&[s("a"), s("b")]))
        );
        assert_eq!(
            run(compact, vec![l(&[s("a"), s(""), Value::Null])]),
            Ok(l(&[s("a")]))
        );
        assert_eq!(
            run(contains, vec![l(&[n(1), n(2)]), n(2)]),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            run(contains, vec![l(&[s("1")]), n(1)]),
            Ok(Value::Bool(false))
        );
    }

    #[test]
    fn element_wraps_and_refuses_an_empty_list() {
        assert_eq!(run(element, vec![l(&[s("a"), s("b")]), n(3)]), Ok(s("b")));
        assert!(run(element, vec![l(&[]), n(0)]).is_err());
        assert!(run(element, vec![l(&[s("a")]), n(-1)]).is_err());
    }

    #[test]
    fn mappings_merge_look_up_and_zip() {
        assert_eq!(
            run(
                merge,
                vec![
                    m(&[("a", n(1)), ("b", n(2))]),
                    Value::Null,
                    m(&[("b", n(3))])
                ]
            ),
            Ok(m(&[("a", n(1)), ("b", n(3))]))
        );
        assert!(run(merge, vec![l(&[])]).is_err());
        assert_eq!(run(lookup, vec![m(&[("a", n(1))]), s("a")]), Ok(n(1)));
        assert_eq!(run(lookup, vec![m(&[]), s("a"), s("d")]), Ok(s("d")));
        assert!(run(lookup, vec![m(&[("b", n(1))]), s("a")])
            .expect_err("missing")
            .contains("\"b\""));
        assert_eq!(
            run(keys, vec![m(&[("b", n(1)), ("a", n(2))])]),
            Ok(l(&[s("a"), s("b")]))
        );
        assert_eq!(
            run(values, vec![m(&[("b", n(1)), ("a", n(2))])]),
            Ok(l(&[n(2), n(1)]))
        );
        assert_eq!(
            run(zipmap, vec![l(&[s("a")]), l(&[n(1)])]),
            Ok(m(&[("a", n(1))]))
        );
        assert!(run(zipmap, vec![l(&[s("a")]), l(&[])]).is_err());
    }

    #[test]
    fn range_and_coalesce() {
        assert_eq!(run(range, vec![n(3)]), Ok(l(&[n(0), n(1), n(2)])));
        assert_eq!(run(range, vec![n(3), n(0)]), Ok(l(&[n(3), n(2), n(1)])));
        assert_eq!(
            run(range, vec![n(0), n(10), n(4)]),
            Ok(l(&[n(0), n(4), n(8)]))
        );
        assert!(run(range, vec![n(0), n(1), n(0)]).is_err());
        assert!(run(range, vec![]).is_err());
        assert!(run(range, vec![n(100_000)]).is_err());
        assert_eq!(run(coalesce, vec![Value::Null, s(""), s("b")]), Ok(s("b")));
        assert!(run(coalesce, vec![Value::Null]).is_err());
    }
}
