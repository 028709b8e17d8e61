//! Reading the arguments a function was given, after the signature converted them.

use crate::value::Value;

/// The `i`-th argument as text (the signature made it a string).
pub(super) fn text(args: &[Value], i: usize) -> &str {
    args.get(i).and_then(Value::as_str).unwrap_or("")
}

/// The `i`-th argument as a number (the signature made it one).
pub(super) fn num(args: &[Value], i: usize) -> f64 {
    args.get(i).and_then(Value::as_f64).unwrap_or(0.0)
}

/// The `i`-th argument as a whole number, or why it is not one.
pub(super) fn int(args: &[Value], i: usize, what: &str) -> Result<i64, String> {
    let n = num(args, i);
    if n.fract() != 0.0 {
        return Err(format!("{what} must be a whole number, not {n}"));
    }
    Ok(n as i64)
}

/// The `i`-th argument as a list (the signature made it one).
pub(super) fn list(args: &[Value], i: usize) -> &[Value] {
    args.get(i).and_then(Value::as_list).unwrap_or(&[])
}

#[cfg(test)]
pub(super) mod testing {
    use super::super::context::FileContext;
    use crate::value::Value;

    type Run = fn(Vec<Value>, Option<&FileContext>) -> Result<Value, String>;

    /// Calls one function on arguments already of its signature's types.
    pub fn run(f: Run, args: Vec<Value>) -> Result<Value, String> {
        f(args, None)
    }

    pub fn s(text: &str) -> Value {
        Value::str(text)
    }

    pub fn n(i: i64) -> Value {
        Value::int(i)
    }

    pub fn l(items: &[Value]) -> Value {
        Value::List(items.to_vec())
    }
}
