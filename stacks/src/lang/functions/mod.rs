//! The built-in functions of SPEC §9, in one table: each with its signature (checked when the
//! stack is loaded, with an error at the call or the argument), its behaviour as Terraform's
//! function of the same name, and the same handling of unknown and sensitive arguments: an
//! argument known only after apply makes the result unknown; a sensitive argument makes the
//! result sensitive. No function reads the clock or a random source.

mod args;
mod collections;
pub mod context;
mod encoding;
mod files;
mod hashing;
mod network;
mod numbers;
mod strings;
mod types;

use crate::value::Value;

use super::values::{kind_of, number, strict};
use super::{LangError, Span};

use context::FileContext;

/// The type of one parameter. Arguments are converted as Terraform converts them: a number or
/// bool where a string is expected reads as its text, a string of digits where a number is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Any,
    String,
    Number,
    Bool,
    List,
    Map,
    /// A list, a mapping or a string (`length`).
    Collection,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Any => "any value",
            Ty::String => "string",
            Ty::Number => "number",
            Ty::Bool => "bool",
            Ty::List => "list",
            Ty::Map => "mapping",
            Ty::Collection => "list, mapping or string",
        }
    }

    /// The argument converted to this type, or why it cannot be.
    fn convert(self, value: Value) -> Result<Value, String> {
        let fail = |v: &Value| Err(format!("must be a {}, not {}", self.name(), kind_of(v)));
        match (self, value) {
            (Ty::Any, v) => Ok(v),
            (_, Value::Null) => Err(format!("must be a {}, not null", self.name())),
            (Ty::String, v @ Value::String(_)) => Ok(v),
            (Ty::String, Value::Number(n)) => Ok(Value::String(n.to_string())),
            (Ty::String, Value::Bool(b)) => Ok(Value::String(b.to_string())),
            (Ty::Number, v @ Value::Number(_)) => Ok(v),
            (Ty::Number, Value::String(s)) => match s.trim().parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(number(f)),
                _ => Err(format!("must be a number, not the string \"{s}\"")),
            },
            (Ty::Bool, v @ Value::Bool(_)) => Ok(v),
            (Ty::Bool, Value::String(s)) if s == "true" || s == "false" => {
                Ok(Value::Bool(s == "true"))
            }
            (Ty::List, v @ Value::List(_)) => Ok(v),
            (Ty::Map, v @ Value::Map(_)) => Ok(v),
            (Ty::Collection, v @ (Value::List(_) | Value::Map(_) | Value::String(_))) => Ok(v),
            (_, v) => fail(&v),
        }
    }
}

/// What a function does with its (converted, plain) arguments. An `Err` is reported at the
/// call.
type Run = fn(Vec<Value>, Option<&FileContext>) -> Result<Value, String>;

/// One built-in function.
pub struct Function {
    pub name: &'static str,
    /// Required parameters, in order.
    pub params: &'static [(&'static str, Ty)],
    /// Parameters that may be left out, after the required ones.
    pub optional: &'static [(&'static str, Ty)],
    /// Any number of further arguments of this type.
    pub variadic: Option<(&'static str, Ty)>,
    run: Run,
}

impl Function {
    /// `cidrsubnet(prefix: string, newbits: number, netnum: number)`.
    pub fn signature(&self) -> String {
        let mut parts: Vec<String> = self
            .params
            .iter()
            .map(|(n, t)| format!("{n}: {}", t.name()))
            .collect();
        parts.extend(
            self.optional
                .iter()
                .map(|(n, t)| format!("[{n}: {}]", t.name())),
        );
        if let Some((n, t)) = self.variadic {
            parts.push(format!("{n}: {}...", t.name()));
        }
        format!("{}({})", self.name, parts.join(", "))
    }

    fn param(&self, i: usize) -> Option<(&'static str, Ty)> {
        self.params
            .get(i)
            .or_else(|| self.optional.get(i - self.params.len().min(i)))
            .copied()
            .or(self.variadic)
    }

    fn arity_ok(&self, n: usize) -> bool {
        n >= self.params.len()
            && (self.variadic.is_some() || n <= self.params.len() + self.optional.len())
    }
}

const fn f(name: &'static str, params: &'static [(&'static str, Ty)], run: Run) -> Function {
    Function {
        name,
        params,
        optional: &[],
        variadic: None,
        run,
    }
}

const fn var(
    name: &'static str,
    params: &'static [(&'static str, Ty)],
    variadic: (&'static str, Ty),
    run: Run,
) -> Function {
    Function {
        name,
        params,
        optional: &[],
        variadic: Some(variadic),
        run,
    }
}

const S: Ty = Ty::String;
const N: Ty = Ty::Number;
const L: Ty = Ty::List;
const M: Ty = Ty::Map;
const A: Ty = Ty::Any;

/// Every function a stack can call.
pub static FUNCTIONS: &[Function] = &[
    // strings
    var("format", &[("spec", S)], ("args", A), strings::format),
    var("join", &[("separator", S)], ("lists", L), strings::join),
    f("split", &[("separator", S), ("string", S)], strings::split),
    f("lower", &[("string", S)], strings::lower),
    f("upper", &[("string", S)], strings::upper),
    f(
        "replace",
        &[("string", S), ("substring", S), ("replacement", S)],
        strings::replace,
    ),
    f("trim", &[("string", S), ("cutset", S)], strings::trim),
    f(
        "trimprefix",
        &[("string", S), ("prefix", S)],
        strings::trimprefix,
    ),
    f(
        "trimsuffix",
        &[("string", S), ("suffix", S)],
        strings::trimsuffix,
    ),
    f(
        "substr",
        &[("string", S), ("offset", N), ("length", N)],
        strings::substr,
    ),
    f(
        "startswith",
        &[("string", S), ("prefix", S)],
        strings::startswith,
    ),
    f(
        "endswith",
        &[("string", S), ("suffix", S)],
        strings::endswith,
    ),
    // collections
    f("length", &[("value", Ty::Collection)], collections::length),
    var("concat", &[], ("lists", L), collections::concat),
    var("merge", &[], ("maps", A), collections::merge),
    Function {
        name: "lookup",
        params: &[("map", M), ("key", S)],
        optional: &[("default", A)],
        variadic: None,
        run: collections::lookup,
    },
    f("keys", &[("map", M)], collections::keys),
    f("values", &[("map", M)], collections::values),
    f(
        "contains",
        &[("list", L), ("value", A)],
        collections::contains,
    ),
    f(
        "element",
        &[("list", L), ("index", N)],
        collections::element,
    ),
    f("flatten", &[("list", L)], collections::flatten),
    f("distinct", &[("list", L)], collections::distinct),
    var("range", &[], ("numbers", N), collections::range),
    f("zipmap", &[("keys", L), ("values", L)], collections::zipmap),
    var("coalesce", &[], ("values", A), collections::coalesce),
    f("compact", &[("list", L)], collections::compact),
    // numbers
    var("min", &[], ("numbers", N), numbers::min),
    var("max", &[], ("numbers", N), numbers::max),
    f("abs", &[("number", N)], numbers::abs),
    f("ceil", &[("number", N)], numbers::ceil),
    f("floor", &[("number", N)], numbers::floor),
    // encoding
    f("jsonencode", &[("value", A)], encoding::jsonencode),
    f("jsondecode", &[("string", S)], encoding::jsondecode),
    f("yamlencode", &[("value", A)], encoding::yamlencode),
    f("base64encode", &[("string", S)], encoding::base64encode),
    f("base64decode", &[("string", S)], encoding::base64decode),
    // files
    f("file", &[("path", S)], files::file),
    f(
        "templatefile",
        &[("path", S), ("vars", M)],
        files::templatefile,
    ),
    f("filebase64", &[("path", S)], files::filebase64),
    f("filesha256", &[("path", S)], files::filesha256),
    f("filebase64sha256", &[("path", S)], files::filebase64sha256),
    // hashing
    f("sha256", &[("string", S)], hashing::sha256),
    f("sha1", &[("string", S)], hashing::sha1),
    f("md5", &[("string", S)], hashing::md5),
    // networks
    f(
        "cidrsubnet",
        &[("prefix", S), ("newbits", N), ("netnum", N)],
        network::cidrsubnet,
    ),
    f(
        "cidrhost",
        &[("prefix", S), ("hostnum", N)],
        network::cidrhost,
    ),
    f("cidrnetmask", &[("prefix", S)], network::cidrnetmask),
    // types
    f("tostring", &[("value", A)], types::tostring),
    f("tonumber", &[("value", A)], types::tonumber),
    f("tobool", &[("value", A)], types::tobool),
    f("tolist", &[("value", A)], types::tolist),
];

/// The function called `name`.
pub fn lookup(name: &str) -> Option<&'static Function> {
    FUNCTIONS.iter().find(|f| f.name == name)
}

/// Every function's name, for "did you mean" hints.
pub fn names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS.iter().map(|f| f.name)
}

/// The error for a call with the wrong number of arguments, or `None` when it is right.
pub(crate) fn arity_error(function: &Function, given: usize, span: Span) -> Option<LangError> {
    if function.arity_ok(given) {
        return None;
    }
    let expected = match (function.optional.len(), function.variadic) {
        (_, Some(_)) => format!("at least {}", function.params.len()),
        (0, None) => function.params.len().to_string(),
        (o, None) => format!("{} or {}", function.params.len(), function.params.len() + o),
    };
    let plural = if expected == "1" { "" } else { "s" };
    Some(
        LangError::new(
            span,
            format!(
                "`{}` takes {expected} argument{plural}, but {given} {} given",
                function.name,
                if given == 1 { "is" } else { "are" }
            ),
        )
        .help(format!("its signature is {}", function.signature())),
    )
}

fn type_error(function: &Function, i: usize, why: String, span: Span) -> LangError {
    let name = function.param(i).map_or("argument", |(n, _)| n);
    LangError::new(
        span,
        format!("argument {} (`{name}`) of `{}` {why}", i + 1, function.name),
    )
    .help(format!("its signature is {}", function.signature()))
}

/// Checks the arguments known at load time against the signature, so a wrong type is an error
/// at load time even when other arguments are known only after apply.
pub(crate) fn check_known_args(
    name: &str,
    args: &[Option<&Value>],
    spans: &[Span],
    span: Span,
) -> Result<(), LangError> {
    let Some(function) = lookup(name) else {
        return Err(LangError::new(span, format!("unknown function `{name}`")));
    };
    if let Some(error) = arity_error(function, args.len(), span) {
        return Err(error);
    }
    for (i, arg) in args.iter().enumerate() {
        let Some(value) = arg else { continue };
        if value.has_unknown() {
            continue;
        }
        let Some((_, ty)) = function.param(i) else {
            continue;
        };
        if let Err(why) = ty.convert(value.unmarked()) {
            return Err(type_error(
                function,
                i,
                why,
                spans.get(i).copied().unwrap_or(span),
            ));
        }
    }
    Ok(())
}

/// Calls `name` on evaluated arguments.
pub(crate) fn call(
    name: &str,
    args: Vec<Value>,
    spans: &[Span],
    span: Span,
    files: Option<&FileContext>,
) -> Result<Value, LangError> {
    let Some(function) = lookup(name) else {
        return Err(LangError::new(span, format!("unknown function `{name}`")));
    };
    if let Some(error) = arity_error(function, args.len(), span) {
        return Err(error);
    }
    strict(args, |args| {
        let mut converted = Vec::with_capacity(args.len());
        for (i, arg) in args.into_iter().enumerate() {
            let ty = function.param(i).map_or(Ty::Any, |(_, t)| t);
            match ty.convert(arg) {
                Ok(v) => converted.push(v),
                Err(why) => {
                    return Err(type_error(
                        function,
                        i,
                        why,
                        spans.get(i).copied().unwrap_or(span),
                    ))
                }
            }
        }
        (function.run)(converted, files)
            .map_err(|message| LangError::new(span, format!("`{name}`: {message}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(name: &str, args: Vec<Value>) -> Result<Value, String> {
        let spans = vec![Span::default(); args.len()];
        call(name, args, &spans, Span::default(), None).map_err(|e| e.message)
    }

    fn s(text: &str) -> Value {
        Value::str(text)
    }

    fn n(i: i64) -> Value {
        Value::int(i)
    }

    fn l(items: &[Value]) -> Value {
        Value::List(items.to_vec())
    }

    #[test]
    fn the_table_has_every_function_of_the_spec_once() {
        let spec = "format join split lower upper replace trim trimprefix trimsuffix substr \
            startswith endswith length concat merge lookup keys values contains element flatten \
            distinct range zipmap coalesce compact min max abs ceil floor jsonencode jsondecode \
            yamlencode base64encode base64decode file templatefile filebase64 filesha256 \
            filebase64sha256 sha256 sha1 md5 cidrsubnet cidrhost cidrnetmask tostring tonumber \
            tobool tolist";
        let mut listed: Vec<&str> = names().collect();
        listed.sort_unstable();
        let mut wanted: Vec<&str> = spec.split_whitespace().collect();
        wanted.sort_unstable();
        assert_eq!(listed, wanted);
    }

    #[test]
    fn arity_and_types_are_checked_with_the_signature_in_the_help() {
        let error = check_known_args("upper", &[], &[], Span::default()).expect_err("arity");
        assert_eq!(error.message, "`upper` takes 1 argument, but 0 are given");
        assert_eq!(
            error.help.as_deref(),
            Some("its signature is upper(string: string)")
        );
        let (a, b, c) = (s("10.0.0.0/16"), s("x"), n(1));
        let args = [Some(&a), Some(&b), Some(&c)];
        let spans = [Span::new(11, 13), Span::new(26, 3), Span::new(31, 1)];
        let error =
            check_known_args("cidrsubnet", &args, &spans, Span::new(0, 33)).expect_err("type");
        assert_eq!(error.span, Span::new(26, 3));
        assert!(
            error
                .message
                .contains("argument 2 (`newbits`) of `cidrsubnet` must be a number"),
            "{}",
            error.message
        );
        assert!(run("lookup", vec![]).is_err());
        assert!(run(
            "lookup",
            vec![Value::Map(Default::default()), s("k"), s("d"), s("e")]
        )
        .is_err());
    }

    #[test]
    fn unknown_arguments_give_unknown_and_sensitive_ones_sensitive() {
        assert_eq!(run("upper", vec![Value::Unknown]), Ok(Value::Unknown));
        assert_eq!(
            run("join", vec![s(","), l(&[s("a"), Value::Unknown])]),
            Ok(Value::Unknown)
        );
        assert_eq!(
            run("upper", vec![Value::Sensitive(Box::new(s("a")))]),
            Ok(Value::Sensitive(Box::new(s("A"))))
        );
    }

    #[test]
    fn numbers_and_bools_convert_to_strings_and_digit_strings_to_numbers() {
        assert_eq!(run("upper", vec![Value::Bool(true)]), Ok(s("TRUE")));
        assert_eq!(run("abs", vec![s("-3")]), Ok(n(3)));
        assert!(run("abs", vec![s("x")]).is_err());
        assert!(run("upper", vec![Value::Null]).is_err());
    }
}
