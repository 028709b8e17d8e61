//! Type conversions, as Terraform's `to*` functions.

use crate::value::Value;

use super::super::values::number;
use super::context::FileContext;

type Out = Result<Value, String>;

pub(super) fn tostring(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    match &args[0] {
        Value::Null => Ok(Value::Null),
        v @ Value::String(_) => Ok(v.clone()),
        Value::Number(n) => Ok(Value::String(n.to_string())),
        Value::Bool(b) => Ok(Value::String(b.to_string())),
        other => Err(format!(
            "cannot convert a {} to a string; use `jsonencode(...)`",
            other.kind_name()
        )),
    }
}

pub(super) fn tonumber(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    match &args[0] {
        Value::Null => Ok(Value::Null),
        v @ Value::Number(_) => Ok(v.clone()),
        Value::String(s) => match s.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(number(f)),
            _ => Err(format!("cannot convert \"{s}\" to a number")),
        },
        other => Err(format!(
            "cannot convert a {} to a number",
            other.kind_name()
        )),
    }
}

pub(super) fn tobool(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    match &args[0] {
        Value::Null => Ok(Value::Null),
        v @ Value::Bool(_) => Ok(v.clone()),
        Value::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
        Value::String(s) => Err(format!(
            "cannot convert \"{s}\" to a bool; only \"true\" and \"false\" convert"
        )),
        other => Err(format!("cannot convert a {} to a bool", other.kind_name())),
    }
}

pub(super) fn tolist(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    match &args[0] {
        Value::Null => Ok(Value::Null),
        v @ Value::List(_) => Ok(v.clone()),
        other => Err(format!("cannot convert a {} to a list", other.kind_name())),
    }
}

#[cfg(test)]
mod tests {
    use super::super::args::testing::*;
    use super::*;
    use crate::value::Value;

    #[test]
    fn conversions_and_their_refusals() {
        assert_eq!(run(tostring, vec![n(5)]), Ok(s("5")));
        assert_eq!(run(tostring, vec![Value::Null]), Ok(Value::Null));
        assert!(run(tostring, vec![l(&[])]).is_err());
        assert_eq!(run(tonumber, vec![s("42")]), Ok(n(42)));
        assert!(run(tonumber, vec![s("4x")]).is_err());
        assert_eq!(run(tobool, vec![s("true")]), Ok(Value::Bool(true)));
        assert!(run(tobool, vec![s("yes")]).is_err());
        assert_eq!(run(tolist, vec![l(&[n(1)])]), Ok(l(&[n(1)])));
        assert!(run(tolist, vec![s("a")]).is_err());
    }
}
