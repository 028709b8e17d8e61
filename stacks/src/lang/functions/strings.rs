//! String functions: `format` (Terraform's verbs), `join`, `split`, case, `replace` (a
//! `/regex/` substring as Terraform's), trimming, `substr`, prefixes and suffixes.

use crate::value::Value;

use super::super::values::plain_text;
use super::args::{num, text};
use super::context::FileContext;

type Out = Result<Value, String>;

pub(super) fn format(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let spec: Vec<char> = text(&args, 0).chars().collect();
    let values = &args[1..];
    let mut out = String::new();
    let mut next = 0usize;
    let mut i = 0;
    while i < spec.len() {
        let c = spec[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        // Flags, width and precision, as Go's fmt reads them.
        let mut flags = String::new();
        while i < spec.len() && "-+# 0".contains(spec[i]) {
            flags.push(spec[i]);
            i += 1;
        }
        let mut width = String::new();
        while i < spec.len() && spec[i].is_ascii_digit() {
            width.push(spec[i]);
            i += 1;
        }
        let mut precision: Option<usize> = None;
        if i < spec.len() && spec[i] == '.' {
            i += 1;
            let mut digits = String::new();
            while i < spec.len() && spec[i].is_ascii_digit() {
                digits.push(spec[i]);
                i += 1;
            }
            precision = Some(digits.parse().unwrap_or(0));
        }
        let Some(&verb) = spec.get(i) else {
            return Err("the format string ends with an incomplete `%` verb".into());
        };
        i += 1;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(value) = values.get(next) else {
            return Err(format!(
                "not enough arguments for the format string: `%{verb}` needs argument {} but only {} {} given",
                next + 1,
                values.len(),
                if values.len() == 1 { "is" } else { "are" }
            ));
        };
        next += 1;
        let body = verb_text(verb, value, precision, &flags)?;
        out.push_str(&pad(body, &flags, width.parse().unwrap_or(0)));
    }
    if next < values.len() {
        return Err(format!(
            "too many arguments: the format string uses {next} but {} are given",
            values.len()
        ));
    }
    Ok(Value::String(out))
}

fn verb_text(
    verb: char,
    value: &Value,
    precision: Option<usize>,
    flags: &str,
) -> Result<String, String> {
    let number = || -> Result<f64, String> {
        match value {
            Value::Number(n) => Ok(n.as_f64().unwrap_or(0.0)),
            Value::String(s) => s
                .parse::<f64>()
                .map_err(|_| format!("`%{verb}` needs a number, not the string \"{s}\"")),
            other => Err(format!(
                "`%{verb}` needs a number, not a {}",
                other.kind_name()
            )),
        }
    };
    let integer = || -> Result<i64, String> {
        let n = number()?;
        if n.fract() != 0.0 {
            return Err(format!("`%{verb}` needs a whole number, not {n}"));
        }
        Ok(n as i64)
    };
    let sign = |s: String, negative: bool| {
        if !negative && flags.contains('+') {
            format!("+{s}")
        } else {
            s
        }
    };
    Ok(match verb {
        'v' => match value {
            Value::List(_) | Value::Map(_) => value.to_json().to_string(),
            Value::Null => "null".into(),
            other => plain_text(other),
        },
        's' => match value {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                let s = plain_text(value);
                match precision {
                    Some(p) => s.chars().take(p).collect(),
                    None => s,
                }
            }
            Value::Null => return Err("`%s` cannot format null".into()),
            other => {
                return Err(format!(
                    "`%s` needs a string, not a {}; use `%v` or `jsonencode(...)`",
                    other.kind_name()
                ))
            }
        },
        'q' => match value {
            Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                serde_json::Value::String(plain_text(value)).to_string()
            }
            other => return Err(format!("`%q` needs a string, not a {}", other.kind_name())),
        },
        'd' => {
            let n = integer()?;
            sign(n.to_string(), n < 0)
        }
        'f' | 'F' => {
            let n = number()?;
            sign(format!("{:.*}", precision.unwrap_or(6), n), n < 0.0)
        }
        'e' | 'E' => {
            let n = number()?;
            let s = format!("{:.*e}", precision.unwrap_or(6), n);
            // Go writes the exponent with a sign and two digits: 1.5e+03.
            let s = match s.split_once('e') {
                Some((m, e)) => {
                    let (neg, digits) = e.strip_prefix('-').map_or((false, e), |d| (true, d));
                    format!("{m}e{}{:0>2}", if neg { '-' } else { '+' }, digits)
                }
                None => s,
            };
            let s = if verb == 'E' { s.to_uppercase() } else { s };
            sign(s, n < 0.0)
        }
        'g' | 'G' => {
            let n = number()?;
            sign(super::super::values::number(n).to_json().to_string(), n < 0.0)
        }
        't' => match value {
            Value::Bool(b) => b.to_string(),
            other => return Err(format!("`%t` needs a bool, not a {}", other.kind_name())),
        },
        'b' => format!("{:b}", integer()?),
        'o' => format!("{:o}", integer()?),
        'x' => match value {
            Value::String(s) => s.bytes().map(|b| format!("{b:02x}")).collect(),
            _ => format!("{:x}", integer()?),
        },
        'X' => match value {
            Value::String(s) => s.bytes().map(|b| format!("{b:02X}")).collect(),
            _ => format!("{:X}", integer()?),
        },
        other => {
            return Err(format!(
                "unknown verb `%{other}`; the verbs are %v %s %q %d %f %e %g %t %b %o %x %X and %% for a literal %"
            ))
        }
    })
}

fn pad(body: String, flags: &str, width: usize) -> String {
    let len = body.chars().count();
    if len >= width {
        return body;
    }
    let fill = width - len;
    if flags.contains('-') {
        format!("{body}{}", " ".repeat(fill))
    } else if flags.contains('0') {
        match body.strip_prefix(['-', '+']) {
            Some(rest) => format!("{}{}{rest}", &body[..1], "0".repeat(fill)),
            None => format!("{}{body}", "0".repeat(fill)),
        }
    } else {
        format!("{}{body}", " ".repeat(fill))
    }
}

pub(super) fn join(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let sep = text(&args, 0);
    if args.len() < 2 {
        return Err("needs at least one list to join".into());
    }
    let mut items = Vec::new();
    for l in &args[1..] {
        for item in l.as_list().unwrap_or(&[]) {
            match item {
                Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                    items.push(plain_text(item))
                }
                Value::Null => return Err("a list to join holds null".into()),
                other => {
                    return Err(format!(
                        "a list to join holds a {}; only strings, numbers and bools join",
                        other.kind_name()
                    ))
                }
            }
        }
    }
    Ok(Value::String(items.join(sep)))
}

pub(super) fn split(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let (sep, s) = (text(&args, 0), text(&args, 1));
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        s.split(sep).map(Value::str).collect()
    };
    Ok(Value::List(parts))
}

pub(super) fn lower(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    Ok(Value::String(text(&args, 0).to_lowercase()))
}

pub(super) fn upper(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    Ok(Value::String(text(&args, 0).to_uppercase()))
}

pub(super) fn replace(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let (s, from, to) = (text(&args, 0), text(&args, 1), text(&args, 2));
    if from.len() > 1 && from.starts_with('/') && from.ends_with('/') {
        let pattern = &from[1..from.len() - 1];
        let re = regex::Regex::new(pattern)
            .map_err(|e| format!("`{from}` is not a valid regular expression: {e}"))?;
        return Ok(Value::String(re.replace_all(s, to).into_owned()));
    }
    if from.is_empty() {
        return Ok(Value::str(s));
    }
    Ok(Value::String(s.replace(from, to)))
}

pub(super) fn trim(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let cutset: Vec<char> = text(&args, 1).chars().collect();
    Ok(Value::str(
        text(&args, 0).trim_matches(|c| cutset.contains(&c)),
    ))
}

pub(super) fn trimprefix(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let s = text(&args, 0);
    Ok(Value::str(s.strip_prefix(text(&args, 1)).unwrap_or(s)))
}

pub(super) fn trimsuffix(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let s = text(&args, 0);
    Ok(Value::str(s.strip_suffix(text(&args, 1)).unwrap_or(s)))
}

/// Terraform's `substr`: characters, a negative offset counts from the end, a length of -1
/// takes the rest; an offset past the end is an error.
pub(super) fn substr(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    let chars: Vec<char> = text(&args, 0).chars().collect();
    let len = chars.len() as f64;
    let mut offset = num(&args, 1);
    let length = num(&args, 2);
    if offset.fract() != 0.0 || length.fract() != 0.0 {
        return Err("offset and length must be whole numbers".into());
    }
    if offset < 0.0 {
        offset += len;
        if offset < 0.0 {
            return Err(format!(
                "offset {} is before the start of the string",
                num(&args, 1)
            ));
        }
    }
    if offset > len {
        return Err(format!(
            "offset {offset} is past the end of the string ({} characters)",
            chars.len()
        ));
    }
    let start = offset as usize;
    let end = if length < 0.0 {
        chars.len()
    } else {
        (start + length as usize).min(chars.len())
    };
    Ok(Value::String(chars[start..end].iter().collect()))
}

pub(super) fn startswith(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    Ok(Value::Bool(text(&args, 0).starts_with(text(&args, 1))))
}

pub(super) fn endswith(args: Vec<Value>, _: Option<&FileContext>) -> Out {
    Ok(Value::Bool(text(&args, 0).ends_with(text(&args, 1))))
}

#[cfg(test)]
mod tests {
    use super::super::args::testing::*;
    use super::*;
    use crate::value::Value;

    #[test]
    fn format_verbs_behave_as_terraform() {
        assert_eq!(
            run(format, vec![s("%s-%d"), s("web"), n(3)]),
            Ok(s("web-3"))
        );
        assert_eq!(run(format, vec![s("%q"), s("a\"b")]), Ok(s("\"a\\\"b\"")));
        assert_eq!(
            run(format, vec![s("%v %v"), l(&[n(1)]), Value::Bool(true)]),
            Ok(s("[1] true"))
        );
        assert_eq!(run(format, vec![s("100%%")]), Ok(s("100%")));
        assert_eq!(
            run(
                format,
                vec![s("%03d|%-4s|%.2f"), n(7), s("ab"), s("3.14159")]
            ),
            Ok(s("007|ab  |3.14"))
        );
        assert_eq!(run(format, vec![s("%x"), n(255)]), Ok(s("ff")));
    }

    #[test]
    fn format_with_wrong_arguments_fails() {
        assert!(run(format, vec![s("%s %s"), s("a")])
            .expect_err("few")
            .contains("not enough"));
        assert!(run(format, vec![s("%s"), s("a"), s("b")])
            .expect_err("many")
            .contains("too many"));
        assert!(run(format, vec![s("%d"), s("x")]).is_err());
        assert!(run(format, vec![s("%d"), n(1).clone()]).is_ok());
        assert!(run(
            format,
            vec![
                s("%d"),
                Value::Number(serde_json::Number::from_f64(1.5).expect("finite"))
            ]
        )
        .is_err());
        assert!(run(format, vec![s("%z"), n(1)])
            .expect_err("verb")
            .contains("unknown verb"));
        assert!(run(format, vec![s("%s"), l(&[])]).is_err());
        assert!(run(format, vec![s("50%")]).is_err());
    }

    #[test]
    fn join_split_and_replace() {
        assert_eq!(
            run(join, vec![s("-"), l(&[s("a"), n(1)]), l(&[s("c")])]),
            Ok(s("a-1-c"))
        );
        assert_eq!(run(join, vec![s("-"), l(&[])]), Ok(s("")));
        assert!(run(join, vec![s("-"), l(&[l(&[])])]).is_err());
        assert_eq!(
            run(split, vec![s(","), s("a,,b")]),
            Ok(l(&[s("a"), s(""), s("b")]))
        );
        assert_eq!(run(split, vec![s(","), s("")]), Ok(l(&[s("")])));
        assert_eq!(
            run(replace, vec![s("a-b-c"), s("-"), s("_")]),
            Ok(s("a_b_c"))
        );
        assert_eq!(
            run(replace, vec![s("a1b22"), s("/[0-9]+/"), s("#")]),
            Ok(s("a#b#"))
        );
        assert!(run(replace, vec![s("a"), s("/(/"), s("")]).is_err());
    }

    #[test]
    fn trimming_case_and_substrings() {
        assert_eq!(run(trim, vec![s("?!hello?!"), s("!?")]), Ok(s("hello")));
        assert_eq!(
            run(trimprefix, vec![s("helloworld"), s("hello")]),
            Ok(s("world"))
        );
        assert_eq!(
            run(trimsuffix, vec![s("helloworld"), s("x")]),
            Ok(s("helloworld"))
        );
        assert_eq!(run(lower, vec![s("ÀB")]), Ok(s("àb")));
        assert_eq!(run(upper, vec![s("ab")]), Ok(s("AB")));
        assert_eq!(
            run(substr, vec![s("hello world"), n(1), n(4)]),
            Ok(s("ello"))
        );
        assert_eq!(run(substr, vec![s("hello"), n(-3), n(-1)]), Ok(s("llo")));
        assert_eq!(run(substr, vec![s("héllo"), n(1), n(100)]), Ok(s("éllo")));
        assert!(run(substr, vec![s("abc"), n(4), n(1)]).is_err());
        assert_eq!(
            run(startswith, vec![s("hello"), s("he")]),
            Ok(Value::Bool(true))
        );
        assert_eq!(
            run(endswith, vec![s("hello"), s("he")]),
            Ok(Value::Bool(false))
        );
    }
}
