//! Number functions.

use crate::value::Value;

use super::super::values::number;
use super::args::num;
use super::context::FileContext;

type Out = Result<Value, String>;

fn fold(args: &[Value], pick: fn(f64, f64) -> f64) -> Out {
    if args.is_empty() {
        return Err("needs at least one number".into());
    }
    let first = num(args, 0);
    Ok(number(
        (1..args.len()).fold(first, |acc, i| pick(acc, num(args, i))),
    ))
}

pub(super) fn min(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    fold(&args, f64::min)
}

pub(super) fn max(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    fold(&args, f64::max)
}

pub(super) fn abs(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    Ok(number(num(&args, 0).abs()))
}

pub(super) fn ceil(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    Ok(number(num(&args, 0).ceil()))
}

pub(super) fn floor(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    Ok(number(num(&args, 0).floor()))
}

#[cfg(test)]
mod tests {
    use super::super::args::testing::*;
    use super::*;

    #[test]
    fn min_max_abs_ceil_floor() {
        assert_eq!(run(min, vec![n(3), n(-1), n(2)]), Ok(n(-1)));
        assert_eq!(run(max, vec![n(3), number(3.5)]), Ok(number(3.5)));
        assert!(run(max, vec![]).is_err());
        assert_eq!(run(abs, vec![number(-2.5)]), Ok(number(2.5)));
        assert_eq!(run(ceil, vec![number(1.2)]), Ok(n(2)));
        assert_eq!(run(floor, vec![number(-1.2)]), Ok(n(-2)));
    }
}
